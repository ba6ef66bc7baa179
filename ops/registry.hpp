// The one list of bnlab's ops. Adding an op: write ops/<name>.{hpp,cpp} with its OpInfo, add it
// to OpKind and to the switch in registry.cpp (which has no default, so a missing case is a
// compiler warning), and the test suite gradient-checks it through its `example`.
//
//   for (const OpInfo* op : bnlab::all_ops()) std::puts(op->name);
//   const OpInfo& bn = bnlab::op_info(bnlab::OpKind::batch_norm);
#pragma once

#include <span>
#include <string>

#include "graph/op.hpp"

namespace bnlab {

enum class OpKind { add, matmul, bias_add, relu, tanh, softmax_cross_entropy, batch_norm, layer_norm, count };

const OpInfo& op_info(OpKind kind);
std::span<const OpInfo* const> all_ops();
// The op with this name, or nullptr.
const OpInfo* find_op(const std::string& name);

}  // namespace bnlab

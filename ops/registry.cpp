#include "ops/registry.hpp"

#include <array>

#include "graph/errors.hpp"
#include "ops/add.hpp"
#include "ops/batch_norm.hpp"
#include "ops/bias_add.hpp"
#include "ops/layer_norm.hpp"
#include "ops/matmul.hpp"
#include "ops/relu.hpp"
#include "ops/softmax_cross_entropy.hpp"
#include "ops/tanh.hpp"

namespace bnlab {

const OpInfo& op_info(OpKind kind) {
  switch (kind) {
    case OpKind::add: return add_op;
    case OpKind::matmul: return matmul_op;
    case OpKind::bias_add: return bias_add_op;
    case OpKind::relu: return relu_op;
    case OpKind::tanh: return tanh_op;
    case OpKind::softmax_cross_entropy: return softmax_cross_entropy_op;
    case OpKind::batch_norm: return batch_norm_op;
    case OpKind::layer_norm: return layer_norm_op;
    case OpKind::count: break;
  }
  throw UsageError("op_info: not an op kind: " + std::to_string(static_cast<int>(kind)));
}

std::span<const OpInfo* const> all_ops() {
  static const auto ops = [] {
    std::array<const OpInfo*, static_cast<size_t>(OpKind::count)> list{};
    for (size_t i = 0; i < list.size(); ++i) list[i] = &op_info(static_cast<OpKind>(i));
    return list;
  }();
  return ops;
}

const OpInfo* find_op(const std::string& name) {
  for (const OpInfo* op : all_ops())
    if (name == op->name) return op;
  return nullptr;
}

}  // namespace bnlab

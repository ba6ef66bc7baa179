// add: elementwise sum of two tensors of the same shape (skip connections, joining two heads).
//   auto h = bnlab::add(x, bnlab::relu(bnlab::dense(x, 64, "fc")));
#pragma once

#include "graph/graph.hpp"

namespace bnlab {

extern const OpInfo add_op;
Var add(Var a, Var b, const std::string& name = "");

}  // namespace bnlab

// relu: max(x, 0) elementwise, any shape.
//   auto h = bnlab::relu(x);
// NOTE: the gradient at exactly 0 is taken as 0 (as PyTorch does).
#pragma once

#include "graph/graph.hpp"

namespace bnlab {

extern const OpInfo relu_op;
Var relu(Var x, const std::string& name = "");

}  // namespace bnlab

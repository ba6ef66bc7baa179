// tanh: the hyperbolic tangent elementwise, any shape.
//   auto h = bnlab::tanh(x);
#pragma once

#include "graph/graph.hpp"

namespace bnlab {

extern const OpInfo tanh_op;
Var tanh(Var x, const std::string& name = "");

}  // namespace bnlab

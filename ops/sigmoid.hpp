// sigmoid: the logistic function σ(x) = 1 / (1 + e^(−x)) elementwise, any shape. The saturating
// unit of Ioffe & Szegedy's MNIST experiment (their Figure 1), whose vanishing gradients batch norm
// is said to cure.
//   auto h = bnlab::sigmoid(x);
#pragma once

#include "graph/graph.hpp"

namespace bnlab {

extern const OpInfo sigmoid_op;
Var sigmoid(Var x, const std::string& name = "");

}  // namespace bnlab

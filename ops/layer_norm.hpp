// layer_norm: x [B,F], gamma [F], beta [F] → [B,F], each sample normalized over its own features
// (the alternative to batch norm that does not depend on the batch; same in train and eval).
//
//   auto h = bnlab::layer_norm(x, gamma, beta, "ln1");      // eps 1e-5, as PyTorch's LayerNorm
#pragma once

#include "graph/graph.hpp"

namespace bnlab {

extern const OpInfo layer_norm_op;
Var layer_norm(Var x, Var gamma, Var beta, const std::string& name, double eps = 1e-5);

}  // namespace bnlab

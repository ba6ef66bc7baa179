// bias_add: [B,N] + [N] → [B,N], the bias broadcast over rows; [B,H,W,C] + [C] → [B,H,W,C] per channel.
//   auto h = bnlab::bias_add(bnlab::matmul(x, w), b);
#pragma once

#include "graph/graph.hpp"

namespace bnlab {

extern const OpInfo bias_add_op;
Var bias_add(Var x, Var bias, const std::string& name = "");

}  // namespace bnlab

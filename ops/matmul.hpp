// matmul: [M,K]·[K,N] → [M,N] (M usually the batch).
//   auto h = bnlab::matmul(x, w);   // x [B,784], w [784,128] → [B,128]
#pragma once

#include "graph/graph.hpp"

namespace bnlab {

extern const OpInfo matmul_op;
Var matmul(Var a, Var b, const std::string& name = "");

}  // namespace bnlab

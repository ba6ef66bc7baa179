// global_avg_pool: x [B,H,W,C] → [B,C], the mean of each channel over the whole image (H·W
// positions); the usual last step before a classifier head.
//
//   auto features = bnlab::global_avg_pool(conv5, "gap");   // [B,7,7,64] → [B,64]
#pragma once

#include "graph/graph.hpp"

namespace bnlab {

extern const OpInfo global_avg_pool_op;
Var global_avg_pool(Var x, const std::string& name = "");

}  // namespace bnlab

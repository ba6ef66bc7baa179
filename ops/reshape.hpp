// reshape: x [B, …] → [B, d1(, d2, d3)], the same elements of each sample in the same (row-major)
// order under another shape; the first dimension (the batch) is kept. flatten: [B, …] → [B, n],
// n the elements per sample.
//
//   auto v = bnlab::flatten(pool2, "flat");                  // [B,7,7,64] → [B,3136]
//   auto m = bnlab::reshape(v, {7, 7, 64}, "unflat");         // [B,3136] → [B,7,7,64]
//
// Attributes d1, d2, d3: the dimensions after the first, 0 when absent (rank 2: d1; rank 3: d1,
// d2; rank 4: all three). No copy where the memory plan allows it: the op is a view
// (OpInfo::output_is_input_view), so when it is its input's only consumer it shares its input's
// value and gradient memory (graph/compile.hpp); otherwise it copies.
#pragma once

#include <initializer_list>

#include "graph/graph.hpp"

namespace bnlab {

extern const OpInfo reshape_op;
Var reshape(Var x, std::initializer_list<int64_t> dims, const std::string& name = "");
Var flatten(Var x, const std::string& name = "");

}  // namespace bnlab

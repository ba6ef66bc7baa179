// avg_pool2d: x [B,H,W,C] → [B,Ho,Wo,C], the mean of each channel over a window_h × window_w
// window moved by stride_h, stride_w (default: the window); no padding, so every window holds
// window_h·window_w elements; Ho = ⌊(H − window_h)/stride_h⌋ + 1 (ops/pool2d.hpp).
//
//   auto p = bnlab::avg_pool2d(x, {}, "pool1");                                    // 2×2, stride 2
//   auto q = bnlab::avg_pool2d(x, {.window_h = 3, .window_w = 3, .stride_h = 1, .stride_w = 1});
#pragma once

#include "graph/graph.hpp"
#include "ops/pool2d.hpp"

namespace bnlab {

extern const OpInfo avg_pool2d_op;
Var avg_pool2d(Var x, Pool2dOptions window = {}, const std::string& name = "");

}  // namespace bnlab

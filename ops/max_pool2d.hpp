// max_pool2d: x [B,H,W,C] → [B,Ho,Wo,C], the maximum of each channel over a window_h × window_w
// window moved by stride_h, stride_w (default: the window, so windows tile the image); no padding,
// Ho = ⌊(H − window_h)/stride_h⌋ + 1 (ops/pool2d.hpp).
//
//   auto p = bnlab::max_pool2d(x, {}, "pool1");                                    // 2×2, stride 2
//   auto q = bnlab::max_pool2d(x, {.window_h = 3, .window_w = 3, .stride_h = 1, .stride_w = 1});
//
// Saved "argmax" [B,Ho,Wo,C]: where in its window each maximum was, dy·window_w + dx, stored as T
// (small integers, exact in float). Backward gives each output's gradient to that one position
// (windows overlap when stride < window: their gradients add).
// Ties, as PyTorch's CPU kernel: equal values → the first in row-major window order wins (it gets
// the whole gradient); a NaN wins over any number (the output is NaN), and of several NaNs the
// last in window order.
#pragma once

#include "graph/graph.hpp"
#include "ops/pool2d.hpp"

namespace bnlab {

extern const OpInfo max_pool2d_op;
Var max_pool2d(Var x, Pool2dOptions window = {}, const std::string& name = "");

}  // namespace bnlab

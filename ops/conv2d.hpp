// conv2d: x [B,H,W,C] (channels last) ∗ weight [kh,kw,C,F] (+ bias [F]) → [B,Ho,Wo,F], a 2-D
// cross-correlation (as PyTorch's and TensorFlow's "convolution": the kernel is not flipped),
// symmetric zero padding, an optional bias per output channel.
//
//   auto w = g.parameter("conv1.weight", {3, 3, 1, 32}, Init::he_normal(9));
//   auto b = g.parameter("conv1.bias", {32}, Init::zeros());
//   auto h = bnlab::conv2d(x, w, b, "conv1", {.pad_h = 1, .pad_w = 1});       // [B,28,28,1] → [B,28,28,32]
//   auto d = bnlab::conv2d(h, w2, "conv2", {.stride_h = 2, .stride_w = 2});   // no bias, downsampling
//
//   Ho = ⌊(H + 2·pad_h − kh) / stride_h⌋ + 1,  Wo = ⌊(W + 2·pad_w − kw) / stride_w⌋ + 1
//   out[b,i,j,f] = bias[f] + Σ_{dy,dx,c} xpad[b, i·stride_h + dy, j·stride_w + dx, c] · weight[dy,dx,c,f]
//
// Computed as a matrix product, tile by tile (whole images, at least 256 output pixels): the
// patches of a tile are laid out as the rows of a small "columns" buffer [tile·Ho·Wo, kh·kw·C]
// (im2col, patch order dy, dx, c — the weight's own order seen as a (kh·kw·C)×F matrix) that stays
// in cache, then the tile's output rows = bias + columns · weight. A 1×1 kernel with stride 1 and no
// padding multiplies x itself. Backward builds each tile's columns again, except when a patch is no
// longer than an output row (kh·kw·C ≤ F, a first layer): then forward saves them, "columns"
// [B,Ho,Wo,kh·kw·C] (empty otherwise). Scratch: "tile_columns" (one buffer per partial range of
// tiles), "dweight_partials" and "dbias_partials" (backward).
// Attributes: stride_h, stride_w (default 1, at least 1), pad_h, pad_w (default 0), whole numbers.
// Results do not depend on the thread count: the work is cut into pieces fixed by the shapes.
#pragma once

#include <cstdint>

#include "graph/graph.hpp"

namespace bnlab {

extern const OpInfo conv2d_op;

struct Conv2dOptions {
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  // pad = (k − 1)/2 on both sides: a stride-1 conv with an odd k×k kernel keeps H×W.
  static constexpr Conv2dOptions same(int64_t k) { return {1, 1, (k - 1) / 2, (k - 1) / 2}; }
};

Var conv2d(Var x, Var weight, const std::string& name, Conv2dOptions o = {});
Var conv2d(Var x, Var weight, Var bias, const std::string& name, Conv2dOptions o = {});  // bias [F]

}  // namespace bnlab

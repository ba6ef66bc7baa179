// What max_pool2d and avg_pool2d share: the window options of the helpers, the attributes they
// declare and their shape rule.
//
//   auto p = bnlab::max_pool2d(x);                                          // 2×2 window, stride 2
//   auto q = bnlab::avg_pool2d(x, {.window_h = 3, .window_w = 3, .stride_h = 1, .stride_w = 1});
//
// x [B,H,W,C] → [B,Ho,Wo,C], Ho = ⌊(H − window_h)/stride_h⌋ + 1 and likewise Wo: no padding, and
// the rows and columns a window at the last stride would not cover are left out (PyTorch's
// ceil_mode=False).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "graph/errors.hpp"
#include "graph/graph.hpp"

namespace bnlab {

struct Pool2dOptions {
  int64_t window_h = 2, window_w = 2;
  int64_t stride_h = 0, stride_w = 0;  // 0: the window's size (windows side by side, no overlap)
};

namespace pool2d {

// Both ops declare these attributes, in this order (so the indices below hold for both).
inline constexpr AttrDecl kAttrs[] = {{"window_h", 2}, {"window_w", 2}, {"stride_h", 2}, {"stride_w", 2}};
inline constexpr int window_h = index_of(kAttrs, "window_h"), window_w = index_of(kAttrs, "window_w");
inline constexpr int stride_h = index_of(kAttrs, "stride_h"), stride_w = index_of(kAttrs, "stride_w");

// The window geometry of one call, resolved to a batch from the input's shape.
struct Geometry {
  int64_t batch, h, w, c;        // input
  int64_t wh, ww, sh, sw;        // window and stride
  int64_t ho, wo;                // output
  int64_t window() const { return wh * ww; }
};

inline Geometry geometry(const Shape& x, std::span<const double> attrs) {
  Geometry g{x[0], x[1], x[2], x[3],
             static_cast<int64_t>(attrs[window_h]), static_cast<int64_t>(attrs[window_w]),
             static_cast<int64_t>(attrs[stride_h]), static_cast<int64_t>(attrs[stride_w]), 0, 0};
  g.ho = (g.h - g.wh) / g.sh + 1;
  g.wo = (g.w - g.ww) / g.sw + 1;
  return g;
}

inline std::string format_int(double v) {
  if (v == std::floor(v) && std::abs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  std::string s = std::to_string(v);
  s.erase(s.find_last_not_of('0') + 1);
  return s;
}

// The shape rule: "input must be an image [B,H,W,C], got [B,784]"; "window and stride must be
// positive integers, got window 2x0, stride 2x2"; "window 3x3 does not fit in the image [B,2,2,1]".
inline Shape infer(const ShapeContext& c) {
  const Shape& x = c.in[0];
  if (x.rank() != 4) throw ShapeError("input must be an image [B,H,W,C], got " + x.to_string());
  const std::string attrs = "window " + format_int(c.attrs[window_h]) + "x" + format_int(c.attrs[window_w]) +
                            ", stride " + format_int(c.attrs[stride_h]) + "x" + format_int(c.attrs[stride_w]);
  for (int i : {window_h, window_w, stride_h, stride_w}) {
    const double v = c.attrs[i];
    if (!(v >= 1 && v <= 1 << 20 && v == std::floor(v)))
      throw ShapeError("window and stride must be positive integers, got " + attrs);
  }
  const Geometry g = geometry(x, c.attrs);
  if (g.wh > g.h || g.ww > g.w)
    throw ShapeError("window " + format_int(c.attrs[window_h]) + "x" + format_int(c.attrs[window_w]) +
                     " does not fit in the image " + x.to_string());
  return Shape{x[0], g.ho, g.wo, x[3]};
}

// The attribute overrides of a helper call, strides 0 meaning "the window's size".
inline std::vector<std::pair<std::string, double>> attrs_of(const Pool2dOptions& o) {
  return {{"window_h", static_cast<double>(o.window_h)},
          {"window_w", static_cast<double>(o.window_w)},
          {"stride_h", static_cast<double>(o.stride_h == 0 ? o.window_h : o.stride_h)},
          {"stride_w", static_cast<double>(o.stride_w == 0 ? o.window_w : o.stride_w)}};
}

// Samples per thread, at least, for a kernel touching `per_sample` elements of each sample: a
// part below ~64k elements (a few µs) saves less than handing it to another thread costs.
inline int64_t sample_grain(int64_t per_sample) {
  return std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(1, per_sample));
}

}  // namespace pool2d
}  // namespace bnlab

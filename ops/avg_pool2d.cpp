#include "ops/avg_pool2d.hpp"

#include <algorithm>

namespace bnlab {
namespace {

// y[b,i,j,c] = (Σ over dy < window_h, dx < window_w of x[b, i·stride_h + dy, j·stride_w + dx, c]) / n,
// n = window_h·window_w. The sum runs in the output row, in row-major window order, one channel
// per lane (contiguous in NHWC), and is divided once at the end.
template <class T>
void forward(const ForwardArgs<T>& a) {
  const pool2d::Geometry g = pool2d::geometry(a.in_shapes[0], a.attrs);
  const int64_t C = g.c;
  const T n = static_cast<T>(g.window());
  const T* x = a.in[0].data;
  T* out = a.out.data;
  // Whole samples per thread: each output element is computed by one thread, whatever the split.
  parallel_for(a.pool, g.batch, pool2d::sample_grain(g.ho * g.wo * g.window() * C), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const T* xs = x + b * g.h * g.w * C;
      for (int64_t i = 0; i < g.ho; ++i)
        for (int64_t j = 0; j < g.wo; ++j) {
          T* y = out + ((b * g.ho + i) * g.wo + j) * C;
          const T* corner = xs + (i * g.sh * g.w + j * g.sw) * C;
          for (int64_t c = 0; c < C; ++c) y[c] = corner[c];
          for (int64_t dy = 0; dy < g.wh; ++dy)
            for (int64_t dx = dy == 0 ? 1 : 0; dx < g.ww; ++dx) {
              const T* v = corner + (dy * g.w + dx) * C;
              for (int64_t c = 0; c < C; ++c) y[c] += v[c];
            }
          for (int64_t c = 0; c < C; ++c) y[c] /= n;
        }
    }
  });
}

// ∂y[i,j,c]/∂x[h,w,c] = 1/n when (h,w) lies in window (i,j), else 0, so
//   dx[h,w,c] = Σ over the windows (i,j) that hold (h,w) of g[i,j,c] / n
// — every element of a window gets g/n; elements of several overlapping windows get the sum, and
// the rows and columns no window covers get 0. Scattered sample by sample, one thread per sample.
template <class T>
void backward(const BackwardArgs<T>& a) {
  const auto& target = a.grad_in[0];
  if (target.grad.empty()) return;
  const pool2d::Geometry g = pool2d::geometry(a.in_shapes[0], a.attrs);
  const int64_t C = g.c;
  const T n = static_cast<T>(g.window());
  const T* gy = a.grad_out.data;
  T* dx = target.grad.data;
  const bool accumulate = target.accumulate;
  parallel_for(a.pool, g.batch, pool2d::sample_grain(g.h * g.w * C + g.ho * g.wo * g.window() * C), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      T* ds = dx + b * g.h * g.w * C;
      if (!accumulate) std::fill(ds, ds + g.h * g.w * C, T(0));
      for (int64_t i = 0; i < g.ho; ++i)
        for (int64_t j = 0; j < g.wo; ++j) {
          const T* gr = gy + ((b * g.ho + i) * g.wo + j) * C;
          T* corner = ds + (i * g.sh * g.w + j * g.sw) * C;
          for (int64_t dy = 0; dy < g.wh; ++dy)
            for (int64_t dx2 = 0; dx2 < g.ww; ++dx2) {
              T* d = corner + (dy * g.w + dx2) * C;
              for (int64_t c = 0; c < C; ++c) d[c] += gr[c] / n;
            }
        }
    }
  });
}

// Overlapping windows (3×3 stride 2: [B,7,7,2] → [B,3,3,2], rows and columns 2 and 4 shared),
// then 2×2 stride 1 (→ [B,2,2,2]). An op's example uses no other op, so the accumulating backward
// (x with a second consumer) is checked in tests/test_pooling.cpp.
Var example(Graph& g) {
  auto x = g.input("x", {batch, 7, 7, 2});
  auto a = avg_pool2d(x, {.window_h = 3, .window_w = 3, .stride_h = 2, .stride_w = 2}, "pool_3x3_s2");
  return avg_pool2d(a, {.window_h = 2, .window_w = 2, .stride_h = 1, .stride_w = 1}, "pool_2x2_s1");
}

}  // namespace

const OpInfo avg_pool2d_op = {
    .name = "avg_pool2d",
    .inputs = {{"x"}},
    .attrs = pool2d::kAttrs,
    .infer = pool2d::infer,
    .f32 = {forward<float>, backward<float>},
    .f64 = {forward<double>, backward<double>},
    .example = example,
};

Var avg_pool2d(Var x, Pool2dOptions window, const std::string& name) {
  return x.graph->op(avg_pool2d_op, {x}, name.empty() ? x.graph->unique_name("avg_pool2d") : name, pool2d::attrs_of(window));
}

}  // namespace bnlab

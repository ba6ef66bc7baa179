#include "ops/max_pool2d.hpp"

#include <algorithm>
#include <cmath>

namespace bnlab {
namespace {

constexpr TensorDecl kSaved[] = {{"argmax", [](const ShapeContext& c) { return pool2d::infer(c); }}};  // [B,Ho,Wo,C]
constexpr int argmax = index_of(kSaved, "argmax");

// y[b,i,j,c] = max over dy < window_h, dx < window_w of x[b, i·stride_h + dy, j·stride_w + dx, c],
// and argmax[b,i,j,c] = dy·window_w + dx of the winner. The running maximum and its index live in
// the output and argmax rows themselves, one channel per lane: the loop over channels is contiguous
// in NHWC and vectorizes. A candidate replaces the maximum when it is greater or NaN — PyTorch's
// rule `(val > maxval) || isnan(val)`, so the first of equal values stays and a NaN propagates.
template <class T>
void forward(const ForwardArgs<T>& a) {
  const pool2d::Geometry g = pool2d::geometry(a.in_shapes[0], a.attrs);
  const int64_t C = g.c;
  const T* x = a.in[0].data;
  T* out = a.out.data;
  T* arg = a.saved[argmax].data;
  // Whole samples per thread: each output element is computed by one thread, whatever the split.
  parallel_for(a.pool, g.batch, pool2d::sample_grain(g.ho * g.wo * g.window() * C), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const T* xs = x + b * g.h * g.w * C;
      for (int64_t i = 0; i < g.ho; ++i)
        for (int64_t j = 0; j < g.wo; ++j) {
          const int64_t o = ((b * g.ho + i) * g.wo + j) * C;
          T* y = out + o;
          T* k = arg + o;
          const T* corner = xs + (i * g.sh * g.w + j * g.sw) * C;
          for (int64_t c = 0; c < C; ++c) {
            y[c] = corner[c];
            k[c] = T(0);
          }
          for (int64_t dy = 0; dy < g.wh; ++dy)
            for (int64_t dx = dy == 0 ? 1 : 0; dx < g.ww; ++dx) {
              const T* v = corner + (dy * g.w + dx) * C;
              const T index = static_cast<T>(dy * g.ww + dx);
              for (int64_t c = 0; c < C; ++c) {
                const bool take = v[c] > y[c] || std::isnan(v[c]);
                y[c] = take ? v[c] : y[c];
                k[c] = take ? index : k[c];
              }
            }
        }
    }
  });
}

// y = x at the argmax position p(i,j,c) of each window, so ∂y[i,j,c]/∂x[h,w,c] = 1 if (h,w) is
// p(i,j,c) and 0 otherwise, and
//   dx[h,w,c] = Σ over the windows (i,j) whose winner is (h,w) of g[i,j,c]
// — one term when windows do not overlap, possibly several when stride < window.
// Scattered sample by sample (a thread owns whole samples, so no position is written by two
// threads, and overlapping windows add in the same order on every run).
template <class T>
void backward(const BackwardArgs<T>& a) {
  const auto& target = a.grad_in[0];
  if (target.grad.empty()) return;
  const pool2d::Geometry g = pool2d::geometry(a.in_shapes[0], a.attrs);
  const int64_t C = g.c;
  const T* gy = a.grad_out.data;
  const T* arg = a.saved[argmax].data;
  T* dx = target.grad.data;
  const bool accumulate = target.accumulate;
  parallel_for(a.pool, g.batch, pool2d::sample_grain(g.h * g.w * C + g.ho * g.wo * C), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      T* ds = dx + b * g.h * g.w * C;
      if (!accumulate) std::fill(ds, ds + g.h * g.w * C, T(0));
      for (int64_t i = 0; i < g.ho; ++i)
        for (int64_t j = 0; j < g.wo; ++j) {
          const int64_t o = ((b * g.ho + i) * g.wo + j) * C;
          T* corner = ds + (i * g.sh * g.w + j * g.sw) * C;
          const T* k = arg + o;
          const T* gr = gy + o;
          // Position by position, each channel adding its gradient where the position is its
          // argmax and 0 elsewhere: contiguous and vectorized, where a scatter to the argmax of
          // every channel would need an index division and a strided store per element.
          for (int64_t dy = 0; dy < g.wh; ++dy)
            for (int64_t dx2 = 0; dx2 < g.ww; ++dx2) {
              T* d = corner + (dy * g.w + dx2) * C;
              const T index = static_cast<T>(dy * g.ww + dx2);
              for (int64_t c = 0; c < C; ++c) d[c] += k[c] == index ? gr[c] : T(0);
            }
        }
    }
  });
}

// Overlapping windows (3×3 stride 1: [B,7,7,2] → [B,5,5,2]), then 2×2 stride 2 on [B,5,5,2]
// (→ [B,2,2,2], the last row and column left out). An op's example uses no other op, so the
// accumulating backward (x with a second consumer) is checked in tests/test_pooling.cpp.
Var example(Graph& g) {
  auto x = g.input("x", {batch, 7, 7, 2});
  auto a = max_pool2d(x, {.window_h = 3, .window_w = 3, .stride_h = 1, .stride_w = 1}, "pool_3x3_s1");
  return max_pool2d(a, {.window_h = 2, .window_w = 2}, "pool_2x2_s2");
}

}  // namespace

const OpInfo max_pool2d_op = {
    .name = "max_pool2d",
    .inputs = {{"x"}},
    .attrs = pool2d::kAttrs,
    .saved = kSaved,
    .infer = pool2d::infer,
    .f32 = {forward<float>, backward<float>},
    .f64 = {forward<double>, backward<double>},
    .example = example,
};

Var max_pool2d(Var x, Pool2dOptions window, const std::string& name) {
  return x.graph->op(max_pool2d_op, {x}, name.empty() ? x.graph->unique_name("max_pool2d") : name, pool2d::attrs_of(window));
}

}  // namespace bnlab

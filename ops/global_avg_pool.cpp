#include "ops/global_avg_pool.hpp"

#include "graph/errors.hpp"

namespace bnlab {
namespace {

Shape infer(const ShapeContext& c) {
  const Shape& x = c.in[0];
  if (x.rank() != 4) throw ShapeError("input must be an image [B,H,W,C], got " + x.to_string());
  return Shape{x[0], x[3]};
}

// Samples per thread, at least: a part below ~64k elements saves less than a hand-off costs.
int64_t grain(int64_t per_sample) { return std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(1, per_sample)); }

// y[b,c] = (Σ over p < H·W of x[b,p,c]) / (H·W). Sample b of x is the (H·W)×C block of rows
// b·H·W … ; its rows are added in order (contiguous, vectorized over channels) into y's row.
template <class T>
void forward(const ForwardArgs<T>& a) {
  const int64_t hw = a.in_shapes[0][1] * a.in_shapes[0][2];
  const auto x = a.in[0].mat();  // (B·H·W)×C
  auto y = a.out.mat();          // B×C
  const T n = static_cast<T>(hw);
  parallel_for(a.pool, y.rows(), grain(hw * y.cols()), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      auto row = y.row(b);
      row = x.row(b * hw);
      for (int64_t p = 1; p < hw; ++p) row += x.row(b * hw + p);
      row /= n;
    }
  });
}

// ∂y[b,c]/∂x[b,p,c] = 1/(H·W) for every position p, so dx[b,p,c] = g[b,c] / (H·W): each sample's
// gradient row is spread evenly over its H·W positions.
template <class T>
void backward(const BackwardArgs<T>& a) {
  const auto& target = a.grad_in[0];
  if (target.grad.empty()) return;
  const int64_t hw = a.in_shapes[0][1] * a.in_shapes[0][2];
  const auto gy = a.grad_out.mat();
  auto dx = target.grad.mat();
  const T n = static_cast<T>(hw);
  parallel_for(a.pool, gy.rows(), grain(hw * gy.cols()), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const auto share = gy.row(b) / n;
      auto block = dx.middleRows(b * hw, hw);
      if (target.accumulate) block.rowwise() += share; else block.rowwise() = share;
    }
  });
}

Var example(Graph& g) { return global_avg_pool(g.input("x", {batch, 3, 4, 2}), "global_avg_pool"); }

}  // namespace

const OpInfo global_avg_pool_op = {
    .name = "global_avg_pool",
    .inputs = {{"x"}},
    .infer = infer,
    .f32 = {forward<float>, backward<float>},
    .f64 = {forward<double>, backward<double>},
    .example = example,
};

Var global_avg_pool(Var x, const std::string& name) {
  return x.graph->op(global_avg_pool_op, {x}, name.empty() ? x.graph->unique_name("global_avg_pool") : name);
}

}  // namespace bnlab

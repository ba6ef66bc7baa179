#include "ops/group_norm.hpp"

#include <cmath>

#include "graph/errors.hpp"
#include "graph/fields.hpp"

namespace bnlab {
namespace {

constexpr AttrDecl kAttrs[] = {{"groups", 1}, {"eps", 1e-5}};
constexpr int groups = index_of(kAttrs, "groups"), eps = index_of(kAttrs, "eps");

int64_t channels_of(const Shape& x) { return x[x.rank() - 1]; }
int64_t groups_of(const ShapeContext& c) { return static_cast<int64_t>(c.attrs[groups]); }

constexpr TensorDecl kSaved[] = {
    {"x_hat", [](const ShapeContext& c) { return c.in[0]; }},                              // as x
    {"inv_std", [](const ShapeContext& c) { return Shape{c.in[0][0], groups_of(c)}; }},  // [B,G]
};
// [B,5C]: one row of per-sample work space, so that threads splitting the samples never share one.
// Forward uses [0,C) for column sums and then 1/σ per column, [C,2C) for μ per column; backward
// [0,C) Σg, [C,2C) Σg·x̂ (over the sample's H·W rows, per column), [2C,3C) 1/σ, [3C,4C) s·mean(dx̂),
// [4C,5C) s·mean(dx̂·x̂) per column (each the value of the column's group).
constexpr TensorDecl kScratch[] = {
    {"stats", [](const ShapeContext& c) { return Shape{c.in[0][0], 5 * channels_of(c.in[0])}; }}};
constexpr int x_hat = index_of(kSaved, "x_hat"), inv_std = index_of(kSaved, "inv_std");
constexpr int stats = index_of(kScratch, "stats");

Shape infer(const ShapeContext& c) {
  const Shape& x = c.in[0];
  if (x.rank() != 2 && x.rank() != 4) throw ShapeError("input must be [B,H,W,C] or [B,C], got " + x.to_string());
  const int64_t ch = channels_of(x);
  for (int i = 1; i <= 2; ++i) {
    const Shape& p = c.in[static_cast<size_t>(i)];
    if (p.rank() != 1 || p.has_batch() || p[0] != ch)
      throw ShapeError(std::string(i == 1 ? "gamma" : "beta") + " must be [" + std::to_string(ch) + "] for input " +
                       x.to_string() + ", got " + p.to_string());
  }
  const double g = c.attrs[groups];
  if (!(g >= 1) || g != std::floor(g))
    throw ShapeError("groups must be a positive integer, got " + field_text(g));
  if (ch % static_cast<int64_t>(g) != 0)
    throw ShapeError("groups G = " + std::to_string(static_cast<int64_t>(g)) + " must divide the channels C = " +
                     std::to_string(ch) + " of input " + x.to_string());
  if (!(c.attrs[eps] > 0)) throw ShapeError("eps must be positive, got " + std::to_string(c.attrs[eps]));
  return x;
}

// The matrix view is (B·H·W)×C: sample b is the H·W rows [b·HW, (b+1)·HW), group g the columns
// [g·C/G, (g+1)·C/G).
struct Layout {
  int64_t samples, hw, channels, groups, per_group;  // per_group = C/G
  Layout(const Shape& x, int64_t g)
      : samples(x[0]), hw(x.rank() == 4 ? x[1] * x[2] : 1), channels(channels_of(x)), groups(g), per_group(channels / g) {}
};

// Samples per thread, at least: each part takes whole samples (all their groups), so no statistic is
// split between threads; about 16k values per part keeps the pool's overhead small.
int64_t sample_grain(const Layout& l) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, l.hw * l.channels)); }

// Per sample b, with n = H·W·C/G values per group:
//   μ_bg = (1/n) Σ_{h,w,c∈g} x,   σ²_bg = (1/n) Σ (x − μ_bg)²  (biased, as PyTorch),
//   s_bg = (σ²_bg + ε)^(-1/2),    x̂ = (x − μ_bg)·s_bg,   y = γ_c·x̂ + β_c.
// Sums run down the sample's rows a whole row of C columns at a time (vectorized), then over each
// group's columns: a fixed order, so the result does not depend on the split over threads.
template <class T>
void forward(const ForwardArgs<T>& a) {
  const Layout l(a.in_shapes[0], static_cast<int64_t>(a.attrs[groups]));
  const auto x = a.in[0].mat();
  const auto gamma = a.in[1].row().array();
  const auto beta = a.in[2].row().array();
  auto xh = a.saved[x_hat].mat();
  auto s = a.saved[inv_std].mat();
  auto out = a.out.mat();
  auto ws = a.scratch[stats].mat();
  const T epsilon = static_cast<T>(a.attrs[eps]);
  const T inv_n = T(1) / static_cast<T>(l.hw * l.per_group);
  const int64_t C = l.channels, cg = l.per_group;
  parallel_for(a.pool, l.samples, sample_grain(l), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      auto acc = ws.row(b).segment(0, C).array();
      auto mean = ws.row(b).segment(C, C).array();
      const int64_t r0 = b * l.hw;
      acc.setZero();
      for (int64_t r = r0; r < r0 + l.hw; ++r) acc += x.row(r).array();
      for (int64_t g = 0; g < l.groups; ++g) mean.segment(g * cg, cg).setConstant(acc.segment(g * cg, cg).sum() * inv_n);
      acc.setZero();
      for (int64_t r = r0; r < r0 + l.hw; ++r) acc += (x.row(r).array() - mean).square();
      for (int64_t g = 0; g < l.groups; ++g) {
        s(b, g) = T(1) / std::sqrt(acc.segment(g * cg, cg).sum() * inv_n + epsilon);
        acc.segment(g * cg, cg).setConstant(s(b, g));  // acc is now 1/σ per column
      }
      for (int64_t r = r0; r < r0 + l.hw; ++r) {
        xh.row(r).array() = (x.row(r).array() - mean) * acc;
        out.row(r).array() = xh.row(r).array() * gamma + beta;
      }
    }
  });
}

// Backward, with g = dL/dy, n = H·W·C/G, and for one sample and group x̂_i = (x_i − μ)·s,
// s = (σ² + ε)^(-1/2), μ and σ² (biased) over the group's n values i:
//   y_i = γ_c·x̂_i + β_c, so  dL/dβ_c = Σ_{b,h,w} g,   dL/dγ_c = Σ_{b,h,w} g·x̂,   dx̂_i = g_i·γ_c.
//   ∂μ/∂x_j = 1/n,  ∂σ²/∂x_j = (2/n)(x_j − μ),  so ∂s/∂x_j = −½ s³·(2/n)(x_j − μ) = −s²·x̂_j/n, and
//   ∂x̂_i/∂x_j = s·(δ_ij − 1/n) + (x_i − μ)·∂s/∂x_j = s·(δ_ij − 1/n − x̂_i·x̂_j/n). Summing over i:
//   dL/dx_j = Σ_i dx̂_i·∂x̂_i/∂x_j = s·(dx̂_j − mean_group(dx̂) − x̂_j·mean_group(dx̂·x̂)).
// The group means come from per-column sums over the sample's rows: Σ_{h,w,c∈g} dx̂ = Σ_{c∈g} γ_c·Σ_{h,w} g
// and Σ dx̂·x̂ = Σ_{c∈g} γ_c·Σ_{h,w} g·x̂. Those per-sample column sums, kept in the sample's scratch
// row, are also dβ and dγ's terms: after the threads, dβ_c and dγ_c add them over b = 0, 1, … in
// order, so every result is the same for any thread count.
template <class T>
void backward(const BackwardArgs<T>& a) {
  const Layout l(a.in_shapes[0], static_cast<int64_t>(a.attrs[groups]));
  const auto gy = a.grad_out.mat();
  const auto xh = a.saved[x_hat].mat();
  const auto s = a.saved[inv_std].mat();
  const auto gamma = a.in[1].row().array();
  auto ws = a.scratch[stats].mat();
  const auto& dx = a.grad_in[0];
  const auto& dgamma = a.grad_in[1];
  const auto& dbeta = a.grad_in[2];
  const T inv_n = T(1) / static_cast<T>(l.hw * l.per_group);
  const int64_t C = l.channels, cg = l.per_group;
  parallel_for(a.pool, l.samples, sample_grain(l), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      auto sum_g = ws.row(b).segment(0, C).array();
      auto sum_gx = ws.row(b).segment(C, C).array();
      const int64_t r0 = b * l.hw;
      sum_g.setZero();
      sum_gx.setZero();
      for (int64_t r = r0; r < r0 + l.hw; ++r) {
        sum_g += gy.row(r).array();
        sum_gx += gy.row(r).array() * xh.row(r).array();
      }
      if (dx.grad.empty()) continue;
      auto sc = ws.row(b).segment(2 * C, C).array();
      auto m1 = ws.row(b).segment(3 * C, C).array();
      auto m2 = ws.row(b).segment(4 * C, C).array();
      for (int64_t g = 0; g < l.groups; ++g) {
        const int64_t c0 = g * cg;
        const T sg = s(b, g);
        sc.segment(c0, cg).setConstant(sg);
        m1.segment(c0, cg).setConstant(sg * (gamma.segment(c0, cg) * sum_g.segment(c0, cg)).sum() * inv_n);
        m2.segment(c0, cg).setConstant(sg * (gamma.segment(c0, cg) * sum_gx.segment(c0, cg)).sum() * inv_n);
      }
      auto d = dx.grad.mat();
      for (int64_t r = r0; r < r0 + l.hw; ++r)
        store_grad(dx.accumulate, d.row(r).array(), sc * gy.row(r).array() * gamma - m1 - xh.row(r).array() * m2);
    }
  });
  for (int which = 0; which < 2; ++which) {
    const auto& target = which == 0 ? dbeta : dgamma;  // dβ from the Σg columns, dγ from Σg·x̂
    if (target.grad.empty()) continue;
    auto t = target.grad.row().array();
    if (!target.accumulate) t.setZero();
    for (int64_t b = 0; b < l.samples; ++b) t += ws.row(b).segment(which * C, C).array();
  }
}

Var example(Graph& g) {
  auto x = g.input("x", {batch, 2, 2, 4});
  auto gamma = g.parameter("gamma", {4}, Init::normal(1.0));
  auto beta = g.parameter("beta", {4}, Init::normal(1.0));
  return group_norm(x, gamma, beta, 2, "gn");
}

}  // namespace

const OpInfo group_norm_op = {
    .name = "group_norm",
    .inputs = {{"x"}, {"gamma"}, {"beta"}},
    .attrs = kAttrs,
    .saved = kSaved,
    .scratch = kScratch,
    .infer = infer,
    .f32 = {forward<float>, backward<float>},
    .f64 = {forward<double>, backward<double>},
    .example = example,
};

Var group_norm(Var x, Var gamma, Var beta, int64_t groups_count, const std::string& name, double eps_value) {
  return x.graph->op(group_norm_op, {x, gamma, beta}, name,
                     {{"groups", static_cast<double>(groups_count)}, {"eps", eps_value}});
}

}  // namespace bnlab

#include "ops/batch_norm.hpp"

#include <cmath>

#include "graph/errors.hpp"

namespace bnlab {
namespace {

// [C]: the last dimension ([B,F] → F, [B,H,W,C] → C).
Shape per_feature(const ShapeContext& c) { return Shape{c.in[0][c.in[0].rank() - 1]}; }

constexpr AttrDecl kAttrs[] = {{"momentum", BatchNormOptions{}.momentum}, {"eps", BatchNormOptions{}.eps}};
constexpr TensorDecl kSaved[] = {
    {"x_hat", [](const ShapeContext& c) { return c.in[0]; }},  // as x: [B,F] or [B,H,W,C]
    {"inv_std", per_feature},                                  // [C]
};
// [2,C]: the batch mean and variance in forward, the per-feature sums Σg and Σg·x̂ in backward (so
// that neither pass allocates); backward does not read what forward left there.
constexpr TensorDecl kScratch[] = {{"stats", [](const ShapeContext& c) { return Shape{2, per_feature(c)[0]}; }}};
constexpr StateDecl kState[] = {{"running_mean", 0.0, per_feature}, {"running_var", 1.0, per_feature}};

constexpr int momentum = index_of(kAttrs, "momentum"), eps = index_of(kAttrs, "eps");
constexpr int x_hat = index_of(kSaved, "x_hat"), inv_std = index_of(kSaved, "inv_std");
constexpr int stats = index_of(kScratch, "stats");
constexpr int running_mean = index_of(kState, "running_mean"), running_var = index_of(kState, "running_var");

Shape infer(const ShapeContext& c) {
  const Shape& x = c.in[0];
  if (x.rank() != 2 && x.rank() != 4) throw ShapeError("input must be [B,F] or [B,H,W,C], got " + x.to_string());
  const int64_t channels = x[x.rank() - 1];
  for (int i = 1; i <= 2; ++i) {
    const Shape& p = c.in[static_cast<size_t>(i)];
    if (p.rank() != 1 || p.has_batch() || p[0] != channels)
      throw ShapeError(std::string(i == 1 ? "gamma" : "beta") + " must be [" + std::to_string(channels) + "] for input " +
                       x.to_string() + ", got " + p.to_string());
  }
  const double m = c.attrs[momentum], e = c.attrs[eps];
  if (!(m >= 0 && m <= 1)) throw ShapeError("momentum must be in [0, 1], got " + std::to_string(m));
  if (!(e > 0)) throw ShapeError("eps must be positive, got " + std::to_string(e));
  return x;
}

// Features per thread, at least: each part handles whole features (all their rows), so batch
// statistics are never split between threads. NOTE: each feature's arithmetic is then elementwise
// and correctly rounded (+, −, ×, ÷ and std::sqrt), so its result does not depend on whether Eigen
// computes it in a packet or in the scalar head or tail of its part's segment (which the split moves).
// Not Eigen's sqrt()/rsqrt(): with EIGEN_FAST_MATH (Eigen's default) its AVX-512 float packet sqrt
// and rsqrt are an rsqrt14 estimate refined by a Newton step, 1 ulp off the exact scalar path — with
// them a split of C = 40 features into two gave different bits (tests/test_batch_norm.cpp).
constexpr int64_t kFeatureGrain = 16;

// s_j = 1/√(v_j + ε), one feature at a time with std::sqrt (see the note above).
template <class T, class S, class V>
void inverse_std(S&& s, const V& v, T epsilon) {
  for (Eigen::Index j = 0; j < s.size(); ++j) s[j] = T(1) / std::sqrt(v[j] + epsilon);
}

template <class T>
void forward(const ForwardArgs<T>& a) {
  const auto x = a.in[0].mat();
  const int64_t b = x.rows();  // n: the values per channel, B or B·H·W
  if (a.mode != Mode::eval && b < 2) {
    // Not allocation-free, but only on the way to an error.
    const Shape& xs = a.in_shapes[0];
    const std::string n = xs.rank() == 4 ? "B·H·W = " + std::to_string(xs[0]) + "·" + std::to_string(xs[1]) + "·" +
                                               std::to_string(xs[2]) + " = " + std::to_string(b)
                                         : "B = " + std::to_string(b);
    throw UsageError("node '" + *a.node_name + "' (batch_norm): " + to_string(a.mode) +
                     " mode needs at least 2 values per channel, got n = " + n);
  }
  const T epsilon = static_cast<T>(a.attrs[eps]);
  const T m = static_cast<T>(a.attrs[momentum]);
  auto xh = a.saved[x_hat].mat();
  auto out = a.out.mat();

  // Features [f0, f1), row by row: within a row the features are contiguous, so each pass is one
  // vectorized loop per sample.
  parallel_for(a.pool, x.cols(), kFeatureGrain, [&](int64_t f0, int64_t f1) {
    const int64_t nf = f1 - f0;
    const auto gamma = a.in[1].row().segment(f0, nf).array();
    const auto beta = a.in[2].row().segment(f0, nf).array();
    auto s = a.saved[inv_std].row().segment(f0, nf).array();
    auto rm = a.state[running_mean].row().segment(f0, nf).array();
    auto rv = a.state[running_var].row().segment(f0, nf).array();
    if (a.mode == Mode::eval) {
      inverse_std(s, rv, epsilon);
      for (int64_t r = 0; r < b; ++r) {
        xh.row(r).segment(f0, nf).array() = (x.row(r).segment(f0, nf).array() - rm) * s;
        out.row(r).segment(f0, nf).array() = xh.row(r).segment(f0, nf).array() * gamma + beta;
      }
      return;
    }
    auto mean = a.scratch[stats].mat().row(0).segment(f0, nf).array();
    auto var = a.scratch[stats].mat().row(1).segment(f0, nf).array();
    mean.setZero();
    for (int64_t r = 0; r < b; ++r) mean += x.row(r).segment(f0, nf).array();
    mean /= static_cast<T>(b);
    var.setZero();
    for (int64_t r = 0; r < b; ++r) var += (x.row(r).segment(f0, nf).array() - mean).square();
    var /= static_cast<T>(b);  // biased: the variance the batch is normalized with
    inverse_std(s, var, epsilon);
    for (int64_t r = 0; r < b; ++r) {
      xh.row(r).segment(f0, nf).array() = (x.row(r).segment(f0, nf).array() - mean) * s;
      out.row(r).segment(f0, nf).array() = xh.row(r).segment(f0, nf).array() * gamma + beta;
    }
    if (a.mode == Mode::train) {
      // running_mean = (1 − momentum)·running_mean + momentum·mean
      // running_var  = (1 − momentum)·running_var  + momentum·var·n/(n − 1)   (unbiased, as PyTorch;
      //                n = b, the rows: B for [B,F], B·H·W for [B,H,W,C])
      rm = (T(1) - m) * rm + m * mean;
      rv = (T(1) - m) * rv + m * var * (static_cast<T>(b) / static_cast<T>(b - 1));
    }
  });
}

// Backward, with g = dL/dy, x̂ = (x − μ)·s, s = (σ² + ε)^(-1/2), μ and σ² (biased) over the n rows
// of the matrix view (n = B, or B·H·W: the sums over "the batch" below run over b, h and w alike):
//   dL/dβ = Σ_rows g        dL/dγ = Σ_rows g·x̂        dL/dx̂ = g·γ
//   In training μ and σ² depend on x: ∂μ/∂x_i = 1/n and ∂σ²/∂x_i = 2(x_i − μ)/n, so
//   dL/dx_i = s·(dx̂_i − (1/n)Σ_j dx̂_j − x̂_i·(1/n)Σ_j dx̂_j·x̂_j)
//           = γ·s·(g_i − mean(g) − x̂_i·mean(g·x̂))                 (γ, s are per feature)
//   In eval mode μ and σ² are constants: dL/dx_i = γ·s·g_i.
// (docs/batch-normalization.md writes the derivation out in full.)
template <class T>
void backward(const BackwardArgs<T>& a) {
  const auto g = a.grad_out.mat();
  const auto xh = a.saved[x_hat].mat();
  const int64_t b = g.rows();
  const T inv_b = T(1) / static_cast<T>(b);
  const auto& dx = a.grad_in[0];
  const auto& dgamma = a.grad_in[1];
  const auto& dbeta = a.grad_in[2];
  parallel_for(a.pool, g.cols(), kFeatureGrain, [&](int64_t f0, int64_t f1) {
    const int64_t nf = f1 - f0;
    const auto s = a.saved[inv_std].row().segment(f0, nf).array();
    const auto gamma = a.in[1].row().segment(f0, nf).array();
    auto sum_g = a.scratch[stats].mat().row(0).segment(f0, nf).array();
    auto sum_gx = a.scratch[stats].mat().row(1).segment(f0, nf).array();
    sum_g.setZero();
    sum_gx.setZero();
    for (int64_t r = 0; r < b; ++r) {
      sum_g += g.row(r).segment(f0, nf).array();
      sum_gx += g.row(r).segment(f0, nf).array() * xh.row(r).segment(f0, nf).array();
    }
    if (!dgamma.grad.empty()) store_grad(dgamma.accumulate, dgamma.grad.row().segment(f0, nf).array(), sum_gx);
    if (!dbeta.grad.empty()) store_grad(dbeta.accumulate, dbeta.grad.row().segment(f0, nf).array(), sum_g);
    if (dx.grad.empty()) return;
    auto d = dx.grad.mat();
    if (a.mode == Mode::eval) {
      for (int64_t r = 0; r < b; ++r)
        store_grad(dx.accumulate, d.row(r).segment(f0, nf).array(), gamma * s * g.row(r).segment(f0, nf).array());
      return;
    }
    for (int64_t r = 0; r < b; ++r)
      store_grad(dx.accumulate, d.row(r).segment(f0, nf).array(),
                 gamma * s * (g.row(r).segment(f0, nf).array() - sum_g * inv_b - xh.row(r).segment(f0, nf).array() * sum_gx * inv_b));
  });
}

// Spatial, so the per-channel sums run over b, h and w ([B,F] is the MLP gradient checks' case).
Var example(Graph& g) {
  auto x = g.input("x", {batch, 2, 2, 3});
  auto gamma = g.parameter("gamma", {3}, Init::normal(1.0));
  auto beta = g.parameter("beta", {3}, Init::normal(1.0));
  return batch_norm(x, gamma, beta, "bn");
}

}  // namespace

const OpInfo batch_norm_op = {
    .name = "batch_norm",
    .inputs = {{"x"}, {"gamma"}, {"beta"}},
    .attrs = kAttrs,
    .saved = kSaved,
    .scratch = kScratch,
    .state = kState,
    .infer = infer,
    .f32 = {forward<float>, backward<float>},
    .f64 = {forward<double>, backward<double>},
    .example = example,
};

Var batch_norm(Var x, Var gamma, Var beta, const std::string& name, BatchNormOptions options) {
  return x.graph->op(batch_norm_op, {x, gamma, beta}, name,
                     {{"momentum", options.momentum}, {"eps", options.eps}});
}

}  // namespace bnlab

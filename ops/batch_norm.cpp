#include "ops/batch_norm.hpp"

#include <cmath>
#include <span>
#include <string>

#include "graph/batch_share.hpp"
#include "graph/errors.hpp"

namespace bnlab {
namespace {

// [C]: the last dimension ([B,F] → F, [B,H,W,C] → C).
Shape per_feature(const ShapeContext& c) { return Shape{c.in[0][c.in[0].rank() - 1]}; }

constexpr AttrDecl kAttrs[] = {{"momentum", BatchNormOptions{}.momentum},
                               {"eps", BatchNormOptions{}.eps},
                               {"ghost_batches", static_cast<double>(BatchNormOptions{}.ghost_batches)}};
constexpr int momentum = index_of(kAttrs, "momentum"), eps = index_of(kAttrs, "eps");
constexpr int ghost_batches = index_of(kAttrs, "ghost_batches");
// G as infer() accepts it: an integer in [1, kMaxGhostBatches].
constexpr double kMaxGhostBatches = 16777216.0;  // 2^24: exact in float, far beyond any batch

constexpr TensorDecl kSaved[] = {
    {"x_hat", [](const ShapeContext& c) { return c.in[0]; }},  // as x: [B,F] or [B,H,W,C]
    // [C], or [G,C] with G > 1 ghost batches: 1/σ of each share, one row per share.
    {"inv_std",
     [](const ShapeContext& c) {
       const double g = c.attrs[ghost_batches];
       return g > 1 && g <= kMaxGhostBatches ? Shape{static_cast<int64_t>(g), per_feature(c)[0]} : per_feature(c);
     }},
    // [1]: n, the values per channel the batch statistics were over — with a collective the global
    // count, which backward needs and could not learn without another collective call.
    {"count", [](const ShapeContext&) { return Shape{1}; }},
};
// [2,C]: the batch mean and variance in forward (a share's with ghost batches; with a collective,
// row 1 holds the local Σ(x − μ)² until it is summed), the per-feature sums Σg and Σg·x̂ in backward
// (so that neither pass allocates; rows 0 and 1 are one contiguous [2C] span, summed over the
// workers in one call); backward does not read what forward left there.
// "global": [C+1], forward only: the local Σx and the local count n_r packed together, so that one
// collective call gives the global sums and the global n.
constexpr TensorDecl kScratch[] = {
    {"stats", [](const ShapeContext& c) { return Shape{2, per_feature(c)[0]}; }},
    {"global", [](const ShapeContext& c) { return Shape{per_feature(c)[0] + 1}; }, ScratchPass::forward},
};
constexpr StateDecl kState[] = {{"running_mean", 0.0, per_feature, true}, {"running_var", 1.0, per_feature, true}};

constexpr int x_hat = index_of(kSaved, "x_hat"), inv_std = index_of(kSaved, "inv_std"), count = index_of(kSaved, "count");
constexpr int stats = index_of(kScratch, "stats"), global = index_of(kScratch, "global");
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
  const double m = c.attrs[momentum], e = c.attrs[eps], g = c.attrs[ghost_batches];
  if (!(m >= 0 && m <= 1)) throw ShapeError("momentum must be in [0, 1], got " + std::to_string(m));
  if (!(e > 0)) throw ShapeError("eps must be positive, got " + std::to_string(e));
  if (!(g >= 1 && g <= kMaxGhostBatches && g == std::floor(g)))
    throw ShapeError("ghost_batches must be an integer in [1, " + std::to_string(static_cast<int64_t>(kMaxGhostBatches)) + "], got " + field_text(g));
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

// The pieces every path below is made of, on the features [f0, f0 + nf) of the rows [r0, r1): within
// a row the features are contiguous, so each is one vectorized loop per row. The single-process,
// synchronized and ghost paths differ only in which rows they sum over and where the sums meet.
struct Cols {
  int64_t r0, r1, f0, nf;
};

// acc = Σ_rows x
template <class A, class M>
void sum_rows(A&& acc, const M& x, Cols c) {
  acc.setZero();
  for (int64_t r = c.r0; r < c.r1; ++r) acc += x.row(r).segment(c.f0, c.nf).array();
}

// acc = Σ_rows (x − μ)²: the second pass of the two-pass variance (no cancellation, unlike Σx² − nμ²).
template <class A, class M, class Mu>
void sum_squared_deviations(A&& acc, const M& x, const Mu& mean, Cols c) {
  acc.setZero();
  for (int64_t r = c.r0; r < c.r1; ++r) acc += (x.row(r).segment(c.f0, c.nf).array() - mean).square();
}

// x̂ = (x − μ)·s, y = γ·x̂ + β
template <class X, class XH, class Y, class Mu, class S, class G, class B>
void normalize(const X& x, XH& xh, Y& out, const Mu& mean, const S& s, const G& gamma, const B& beta, Cols c) {
  for (int64_t r = c.r0; r < c.r1; ++r) {
    xh.row(r).segment(c.f0, c.nf).array() = (x.row(r).segment(c.f0, c.nf).array() - mean) * s;
    out.row(r).segment(c.f0, c.nf).array() = xh.row(r).segment(c.f0, c.nf).array() * gamma + beta;
  }
}

// running_mean = (1 − momentum)·running_mean + momentum·mean
// running_var  = (1 − momentum)·running_var  + momentum·var·n/(n − 1)   (unbiased, as PyTorch; n the
//                values per channel: B for [B,F], B·H·W for [B,H,W,C], the global count when synchronized)
template <class T, class RM, class RV, class Mu, class V>
void update_running(RM&& rm, RV&& rv, const Mu& mean, const V& var, T m, T n) {
  rm = (T(1) - m) * rm + m * mean;
  rv = (T(1) - m) * rv + m * var * (n / (n - T(1)));
}

std::string values_text(const Shape& xs, int64_t rows) {
  return xs.rank() == 4 ? "B·H·W = " + std::to_string(xs[0]) + "·" + std::to_string(xs[1]) + "·" + std::to_string(xs[2]) +
                              " = " + std::to_string(rows)
                        : "B = " + std::to_string(rows);
}

// Not allocation-free, but only on the way to an error.
[[noreturn]] void too_few_values(const std::string& node, Mode mode, const std::string& n) {
  throw UsageError("node '" + node + "' (batch_norm): " + to_string(mode) + " mode needs at least 2 values per channel, got n = " + n);
}

template <class T>
void eval_forward(const ForwardArgs<T>& a) {
  const auto x = a.in[0].mat();
  const T epsilon = static_cast<T>(a.attrs[eps]);
  auto xh = a.saved[x_hat].mat();
  auto out = a.out.mat();
  parallel_for(a.pool, x.cols(), kFeatureGrain, [&](int64_t f0, int64_t f1) {
    const Cols c{0, x.rows(), f0, f1 - f0};
    auto s = a.saved[inv_std].row().segment(f0, c.nf).array();  // the first row of [G,C]: G plays no part here
    inverse_std(s, a.state[running_var].row().segment(f0, c.nf).array(), epsilon);
    normalize(x, xh, out, a.state[running_mean].row().segment(f0, c.nf).array(), s, a.in[1].row().segment(f0, c.nf).array(),
              a.in[2].row().segment(f0, c.nf).array(), c);
  });
}

// Synchronized: the statistics of the global batch, every worker's rows, in three parallel phases
// around two collective sums (on this thread: Collective is never called inside parallel_for):
//   1. local Σx and n_r → sum [C+1] → global n = Σ n_r, μ = Σx / n
//   2. local Σ(x − μ)²  → sum [C]   → σ² = Σ(x − μ)² / n (biased)
//   3. x̂, y on the local rows; running statistics from μ and σ²·n/(n − 1).
// NOTE: two sums rather than Σx and Σx² in one: σ² = Σx²/n − μ² cancels catastrophically when
// |μ| ≫ σ (in float, for activations far from zero), and it would not be the two-pass formula one
// process uses, so the synchronized statistics would not match a single session's.
// With one worker every sum returns its input, so this computes the single-process bits.
template <class T>
void synchronized_forward(const ForwardArgs<T>& a) {
  const auto x = a.in[0].mat();
  const int64_t rows = x.rows(), channels = x.cols();
  const T epsilon = static_cast<T>(a.attrs[eps]);
  const T m = static_cast<T>(a.attrs[momentum]);
  auto packed = a.scratch[global].row();  // [C+1]: Σx per channel, then the count
  auto st = a.scratch[stats].mat();
  auto xh = a.saved[x_hat].mat();
  auto out = a.out.mat();
  parallel_for(a.pool, channels, kFeatureGrain, [&](int64_t f0, int64_t f1) {
    sum_rows(packed.segment(f0, f1 - f0).array(), x, Cols{0, rows, f0, f1 - f0});
  });
  // NOTE: the count is summed in T: exact up to 2^24 values per channel in float.
  packed[channels] = static_cast<T>(rows);
  a.collective->sum(std::span<T>(packed.data(), static_cast<size_t>(channels + 1)));
  const T n = packed[channels];
  if (n < T(2))  // on every worker alike: they all hold the same global n
    too_few_values(*a.node_name, a.mode,
                   std::to_string(static_cast<int64_t>(n)) + " over all workers (synchronized batch statistics, " +
                       std::to_string(a.collective->size()) + (a.collective->size() == 1 ? " worker)" : " workers)"));
  parallel_for(a.pool, channels, kFeatureGrain, [&](int64_t f0, int64_t f1) {
    const Cols c{0, rows, f0, f1 - f0};
    auto mean = st.row(0).segment(f0, c.nf).array();
    mean = packed.segment(f0, c.nf).array() / n;
    sum_squared_deviations(st.row(1).segment(f0, c.nf).array(), x, mean, c);
  });
  a.collective->sum(std::span<T>(st.row(1).data(), static_cast<size_t>(channels)));
  parallel_for(a.pool, channels, kFeatureGrain, [&](int64_t f0, int64_t f1) {
    const Cols c{0, rows, f0, f1 - f0};
    const auto mean = st.row(0).segment(f0, c.nf).array();
    auto var = st.row(1).segment(f0, c.nf).array();
    var /= n;  // biased: the variance the batch is normalized with
    auto s = a.saved[inv_std].row().segment(f0, c.nf).array();
    inverse_std(s, var, epsilon);
    normalize(x, xh, out, mean, s, a.in[1].row().segment(f0, c.nf).array(), a.in[2].row().segment(f0, c.nf).array(), c);
    if (a.mode == Mode::train)
      update_running(a.state[running_mean].row().segment(f0, c.nf).array(), a.state[running_var].row().segment(f0, c.nf).array(),
                     mean, var, m, n);
  });
  a.saved[count].data[0] = n;
}

// Ghost batches: share g of the B samples (share_of(B, G, g), whole samples: its samples' H·W rows
// each for [B,H,W,C]) is normalized with its own mean μ_g and biased variance σ²_g over its n_g
// values per channel, and the running statistics move towards the mean over the shares:
//   running_mean = (1 − momentum)·running_mean + momentum·(1/G)·Σ_g μ_g
//   running_var  = (1 − momentum)·running_var  + momentum·(1/G)·Σ_g σ²_g·n_g/(n_g − 1)
// (computed as running·(1 − momentum), then + (momentum/G)·stat_g share by share). The update is
// linear in the statistics, so this equals G workers with local statistics whose running
// statistics are averaged once at the end (docs/batch-normalization.md).
template <class T>
void ghost_forward(const ForwardArgs<T>& a, int64_t ghosts) {
  const auto x = a.in[0].mat();
  const Shape& xs = a.in_shapes[0];
  const int64_t samples = xs[0];
  const std::string& node = *a.node_name;
  if (ghosts > samples)
    throw UsageError("node '" + node + "' (batch_norm): ghost_batches = " + std::to_string(ghosts) + " is more than the B = " +
                     std::to_string(samples) + " samples of the batch");
  const int64_t per_sample = x.rows() / samples;  // H·W, or 1 for [B,F]
  for (int64_t g = 0; g < ghosts; ++g) {
    const int64_t n = share_of(samples, ghosts, g).rows * per_sample;
    if (n < 2)
      throw UsageError("node '" + node + "' (batch_norm): " + to_string(a.mode) +
                       " mode needs at least 2 values per channel in every ghost batch, got n = " + std::to_string(n) +
                       " in ghost batch " + std::to_string(g + 1) + " of " + std::to_string(ghosts) + " (B = " +
                       std::to_string(samples) + ")");
  }
  const T epsilon = static_cast<T>(a.attrs[eps]);
  const T m = static_cast<T>(a.attrs[momentum]);
  const T weight = m / static_cast<T>(ghosts);  // momentum/G
  auto xh = a.saved[x_hat].mat();
  auto out = a.out.mat();
  auto s_all = a.saved[inv_std].mat();  // [G,C]
  parallel_for(a.pool, x.cols(), kFeatureGrain, [&](int64_t f0, int64_t f1) {
    const int64_t nf = f1 - f0;
    const auto gamma = a.in[1].row().segment(f0, nf).array();
    const auto beta = a.in[2].row().segment(f0, nf).array();
    auto mean = a.scratch[stats].mat().row(0).segment(f0, nf).array();
    auto var = a.scratch[stats].mat().row(1).segment(f0, nf).array();
    auto rm = a.state[running_mean].row().segment(f0, nf).array();
    auto rv = a.state[running_var].row().segment(f0, nf).array();
    if (a.mode == Mode::train) {
      rm *= T(1) - m;
      rv *= T(1) - m;
    }
    for (int64_t g = 0; g < ghosts; ++g) {
      const BatchShare share = share_of(samples, ghosts, g);
      const Cols c{share.first * per_sample, (share.first + share.rows) * per_sample, f0, nf};
      const T n = static_cast<T>(c.r1 - c.r0);
      sum_rows(mean, x, c);
      mean /= n;
      sum_squared_deviations(var, x, mean, c);
      var /= n;
      auto s = s_all.row(g).segment(f0, nf).array();
      inverse_std(s, var, epsilon);
      normalize(x, xh, out, mean, s, gamma, beta, c);
      if (a.mode == Mode::train) {
        rm += weight * mean;
        rv += weight * var * (n / (n - T(1)));
      }
    }
  });
  a.saved[count].data[0] = static_cast<T>(x.rows());
}

template <class T>
void forward(const ForwardArgs<T>& a) {
  if (a.mode == Mode::eval) return eval_forward(a);  // ghost batches and the collective play no part
  const auto ghosts = static_cast<int64_t>(a.attrs[ghost_batches]);
  if (a.collective) {
    if (ghosts > 1)
      throw UsageError("node '" + *a.node_name + "' (batch_norm): ghost_batches = " + std::to_string(ghosts) +
                       " cannot be combined with synchronized batch statistics (a collective): use one or the other");
    return synchronized_forward(a);
  }
  if (ghosts > 1) return ghost_forward(a, ghosts);
  const auto x = a.in[0].mat();
  const int64_t b = x.rows();  // n: the values per channel, B or B·H·W
  if (b < 2) too_few_values(*a.node_name, a.mode, values_text(a.in_shapes[0], b));
  const T epsilon = static_cast<T>(a.attrs[eps]);
  const T m = static_cast<T>(a.attrs[momentum]);
  auto xh = a.saved[x_hat].mat();
  auto out = a.out.mat();
  parallel_for(a.pool, x.cols(), kFeatureGrain, [&](int64_t f0, int64_t f1) {
    const Cols c{0, b, f0, f1 - f0};
    auto mean = a.scratch[stats].mat().row(0).segment(f0, c.nf).array();
    auto var = a.scratch[stats].mat().row(1).segment(f0, c.nf).array();
    sum_rows(mean, x, c);
    mean /= static_cast<T>(b);
    sum_squared_deviations(var, x, mean, c);
    var /= static_cast<T>(b);  // biased: the variance the batch is normalized with
    auto s = a.saved[inv_std].row().segment(f0, c.nf).array();
    inverse_std(s, var, epsilon);
    normalize(x, xh, out, mean, s, a.in[1].row().segment(f0, c.nf).array(), a.in[2].row().segment(f0, c.nf).array(), c);
    if (a.mode == Mode::train)
      update_running(a.state[running_mean].row().segment(f0, c.nf).array(), a.state[running_var].row().segment(f0, c.nf).array(),
                     mean, var, m, static_cast<T>(b));
  });
  a.saved[count].data[0] = static_cast<T>(b);
}

// Backward, with g = dL/dy, x̂ = (x − μ)·s, s = (σ² + ε)^(-1/2), μ and σ² (biased) over the n rows
// of the matrix view (n = B, or B·H·W: the sums over "the batch" below run over b, h and w alike):
//   dL/dβ = Σ_rows g        dL/dγ = Σ_rows g·x̂        dL/dx̂ = g·γ
//   In training μ and σ² depend on x: ∂μ/∂x_i = 1/n and ∂σ²/∂x_i = 2(x_i − μ)/n, so
//   dL/dx_i = s·(dx̂_i − (1/n)Σ_j dx̂_j − x̂_i·(1/n)Σ_j dx̂_j·x̂_j)
//           = γ·s·(g_i − mean(g) − x̂_i·mean(g·x̂))                 (γ, s are per feature)
//   In eval mode μ and σ² are constants: dL/dx_i = γ·s·g_i.
// Synchronized: μ and σ² are over the global batch, so the sums j run over every worker's rows and
// n is the global count: dL/dx_i = γ·s·(g_i − Σ_j g_j/n − x̂_i·Σ_j g_j·x̂_j/n), Σ_j = the sum over the
// workers of their local sums (one collective call on [2C]). dγ and dβ stay the LOCAL sums: the
// trainer sums every parameter gradient over the workers afterwards, so summing them here as well
// would count them N times.
// Ghost batches: each share is its own batch norm, so the closed form holds share by share (the
// sums j and n over the share; γ·s_g with the share's s_g); dγ and dβ sum over all rows.
// (docs/batch-normalization.md writes the derivations out in full.)

// Σg and Σg·x̂ over the rows into the two rows of the stats scratch.
template <class SG, class SGX, class G, class XH>
void grad_sums(SG&& sum_g, SGX&& sum_gx, const G& g, const XH& xh, Cols c) {
  sum_g.setZero();
  sum_gx.setZero();
  for (int64_t r = c.r0; r < c.r1; ++r) {
    sum_g += g.row(r).segment(c.f0, c.nf).array();
    sum_gx += g.row(r).segment(c.f0, c.nf).array() * xh.row(r).segment(c.f0, c.nf).array();
  }
}

// dL/dx_i = γ·s·(g_i − Σg/n − x̂_i·Σg·x̂/n), with inv_n = 1/n.
template <class T, class G, class XH, class S, class Gamma, class SG, class SGX>
void input_grad(const GradTarget<T>& dx, const G& g, const XH& xh, const S& s, const Gamma& gamma, const SG& sum_g,
                const SGX& sum_gx, T inv_n, Cols c) {
  auto d = dx.grad.mat();
  for (int64_t r = c.r0; r < c.r1; ++r)
    store_grad(dx.accumulate, d.row(r).segment(c.f0, c.nf).array(),
               gamma * s * (g.row(r).segment(c.f0, c.nf).array() - sum_g * inv_n - xh.row(r).segment(c.f0, c.nf).array() * sum_gx * inv_n));
}

template <class T>
void backward(const BackwardArgs<T>& a) {
  const auto g = a.grad_out.mat();
  const auto xh = a.saved[x_hat].mat();
  const int64_t b = g.rows();
  const auto& dx = a.grad_in[0];
  const auto& dgamma = a.grad_in[1];
  const auto& dbeta = a.grad_in[2];
  const auto ghosts = a.mode == Mode::eval ? int64_t{1} : static_cast<int64_t>(a.attrs[ghost_batches]);
  const bool synchronized = a.collective != nullptr && a.mode != Mode::eval;
  // 1/n: the global count when synchronized (saved by forward), the rows otherwise.
  const T inv_b = T(1) / (synchronized ? a.saved[count].data[0] : static_cast<T>(b));
  auto st = a.scratch[stats].mat();
  // The local sums, dγ and dβ from them, and (unless synchronized, which needs the global sums
  // first) dx, over the features [f0, f1).
  auto local = [&](int64_t f0, int64_t f1) {
    const int64_t nf = f1 - f0;
    auto sum_g = st.row(0).segment(f0, nf).array();
    auto sum_gx = st.row(1).segment(f0, nf).array();
    if (ghosts > 1) {
      const int64_t samples = a.in_shapes[0][0], per_sample = b / samples;
      for (int64_t k = 0; k < ghosts; ++k) {
        const BatchShare share = share_of(samples, ghosts, k);
        const Cols c{share.first * per_sample, (share.first + share.rows) * per_sample, f0, nf};
        grad_sums(sum_g, sum_gx, g, xh, c);
        // The first share assigns (or adds, as the executor says), the others add.
        if (!dgamma.grad.empty()) store_grad(dgamma.accumulate || k > 0, dgamma.grad.row().segment(f0, nf).array(), sum_gx);
        if (!dbeta.grad.empty()) store_grad(dbeta.accumulate || k > 0, dbeta.grad.row().segment(f0, nf).array(), sum_g);
        if (!dx.grad.empty())
          input_grad(dx, g, xh, a.saved[inv_std].mat().row(k).segment(f0, nf).array(), a.in[1].row().segment(f0, nf).array(),
                     sum_g, sum_gx, T(1) / static_cast<T>(c.r1 - c.r0), c);
      }
      return;
    }
    const Cols c{0, b, f0, nf};
    grad_sums(sum_g, sum_gx, g, xh, c);
    if (!dgamma.grad.empty()) store_grad(dgamma.accumulate, dgamma.grad.row().segment(f0, nf).array(), sum_gx);
    if (!dbeta.grad.empty()) store_grad(dbeta.accumulate, dbeta.grad.row().segment(f0, nf).array(), sum_g);
    if (dx.grad.empty() || synchronized) return;
    const auto s = a.saved[inv_std].row().segment(f0, nf).array();
    const auto gamma = a.in[1].row().segment(f0, nf).array();
    if (a.mode == Mode::eval) {
      auto d = dx.grad.mat();
      for (int64_t r = 0; r < b; ++r)
        store_grad(dx.accumulate, d.row(r).segment(f0, nf).array(), gamma * s * g.row(r).segment(f0, nf).array());
      return;
    }
    input_grad(dx, g, xh, s, gamma, sum_g, sum_gx, inv_b, c);
  };
  parallel_for(a.pool, g.cols(), kFeatureGrain, local);
  // Every worker has the same graph, so all of them skip this or none does.
  if (!synchronized || dx.grad.empty()) return;
  a.collective->sum(std::span<T>(st.data(), static_cast<size_t>(2 * g.cols())));  // [Σg | Σg·x̂] over every worker's rows
  parallel_for(a.pool, g.cols(), kFeatureGrain, [&](int64_t f0, int64_t f1) {
    const int64_t nf = f1 - f0;
    input_grad(dx, g, xh, a.saved[inv_std].row().segment(f0, nf).array(), a.in[1].row().segment(f0, nf).array(),
               st.row(0).segment(f0, nf).array(), st.row(1).segment(f0, nf).array(), inv_b, Cols{0, b, f0, nf});
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
                     {{"momentum", options.momentum},
                      {"eps", options.eps},
                      {"ghost_batches", static_cast<double>(options.ghost_batches)}});
}

}  // namespace bnlab

// The optimizers against a double-precision reference written out here, over several steps with
// gradients that change from step to step and span ten orders of magnitude — so that swapping β1
// and β2, dropping a bias correction, moving ε, or decaying after the update instead of before all
// change the result by far more than the tolerance (each such variant is checked to be caught).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "train/optimizer.hpp"

using namespace bnlab;

namespace {

constexpr int kSteps = 12;
constexpr int kElements = 40;

// g_t,i = scale_i · sin(0.7·t + 1.3·i + 0.2): signs and sizes change every step; scale_i runs from
// 1e-9 (where √v is far below ε = 1e-7, so ε decides the step) to 10.
double gradient(int t, int i) {
  const double scale = std::pow(10.0, -9.0 + 10.0 * i / (kElements - 1));
  return scale * std::sin(0.7 * t + 1.3 * i + 0.2);
}
// Parameters start at 0, so float resolves every element's movement however small (a parameter
// at 0.5 could not move by 1e-11 in float); AdamW starts away from 0 so that the decay has weights
// to act on.
double initial(const OptimizerConfig& c, int i) {
  return c.kind == OptimizerKind::adamw ? static_cast<double>(static_cast<float>(0.5 - 0.03 * i)) : 0.0;
}

// One reference step of every element, in double. The formulas:
//   sgd       p ← p − lr·g
//   momentum  v ← μ·v + g;  p ← p − lr·v
//   adam      m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²
//             p ← p − lr·(√(1 − β2^t) / (1 − β1^t)) · m / (√v + ε)    (Keras' ε̂ form)
//   adamw     p ← p·(1 − lr·λ), then the adam step (the decay acts on the weights before the update)
struct Reference {
  OptimizerConfig c;
  // The variants a bug would produce; each must be told apart from the real optimizer.
  bool swap_betas = false, no_bias_correction = false, eps_inside = false, decay_after = false;
  std::vector<double> p, m, v;
  std::vector<double> path;  // Σ_t |Δp|: how far each element travelled, the scale of its error
  int t = 0;

  explicit Reference(OptimizerConfig config)
      : c(config), p(kElements), m(kElements, 0.0), v(kElements, 0.0), path(kElements, 0.0) {
    for (int i = 0; i < kElements; ++i) p[static_cast<size_t>(i)] = initial(c, i);
  }
  void step(const std::vector<float>& g) {
    ++t;
    const double b1 = swap_betas ? c.beta2 : c.beta1, b2 = swap_betas ? c.beta1 : c.beta2;
    const double c1 = no_bias_correction ? 1.0 : 1 - std::pow(b1, t);
    const double c2 = no_bias_correction ? 1.0 : 1 - std::pow(b2, t);
    for (size_t i = 0; i < p.size(); ++i) {
      const double gi = g[i], before = p[i];
      switch (c.kind) {
        case OptimizerKind::sgd: p[i] -= c.lr * gi; break;
        case OptimizerKind::momentum:
          m[i] = c.momentum * m[i] + gi;
          p[i] -= c.lr * m[i];
          break;
        case OptimizerKind::adam:
        case OptimizerKind::adamw: {
          const double decay = c.kind == OptimizerKind::adamw ? 1 - c.lr * c.weight_decay : 1.0;
          if (!decay_after) p[i] *= decay;
          m[i] = b1 * m[i] + (1 - b1) * gi;
          v[i] = b2 * v[i] + (1 - b2) * gi * gi;
          // PyTorch's form adds ε to √v̂ = √(v/c2); Keras' to √v with the corrections in the step.
          const double update = eps_inside ? c.lr * (m[i] / c1) / (std::sqrt(v[i] / c2) + c.eps)
                                           : c.lr * std::sqrt(c2) / c1 * m[i] / (std::sqrt(v[i]) + c.eps);
          p[i] -= update;
          if (decay_after) p[i] *= decay;
          break;
        }
      }
      path[i] += std::abs(p[i] - before);
    }
  }
};

// The largest difference over the elements, each relative to the distance its reference value
// travelled (an element that moved 1e-11 in all is compared on that scale, not on 1).
double max_relative_error(const std::vector<float>& got, const Reference& ref) {
  double worst = 0;
  for (size_t k = 0; k < got.size(); ++k)
    worst = std::max(worst, std::abs(static_cast<double>(got[k]) - ref.p[k]) / ref.path[k]);
  return worst;
}

// Runs the real optimizer and the reference (and its variants) side by side for kSteps steps.
struct Race {
  TensorStore<float> params, grads;
  Optimizer opt;
  explicit Race(OptimizerConfig c) : params(make_params(c)), grads(TensorStore<float>::like(params)), opt(c, params) {}
  static TensorStore<float> make_params(const OptimizerConfig& c) {
    TensorStore<float> s;
    s.add("w", Shape{kElements}, 0.0f);
    for (int i = 0; i < kElements; ++i) s.data[static_cast<size_t>(i)] = static_cast<float>(initial(c, i));
    return s;
  }
  std::vector<float> run(std::vector<Reference*> refs) {
    for (int t = 1; t <= kSteps; ++t) {
      std::vector<float> g(kElements);
      for (int i = 0; i < kElements; ++i) g[static_cast<size_t>(i)] = static_cast<float>(gradient(t, i));
      std::copy(g.begin(), g.end(), grads.data.begin());
      opt.step(params, grads);
      for (Reference* r : refs) r->step(g);
    }
    return {params.data.begin(), params.data.end()};
  }
};

// The float optimizer against the double reference: float rounding over 12 steps stays near 1e-6
// of each parameter's movement; a variant must be off by more than 1e-3.
constexpr double kTolerance = 2e-5;
constexpr double kVariantGap = 1e-3;

}  // namespace

TEST_CASE("sgd and momentum follow the reference with varying gradients") {
  for (OptimizerConfig c : {OptimizerConfig{.kind = OptimizerKind::sgd, .lr = 0.05},
                            OptimizerConfig{.kind = OptimizerKind::momentum, .lr = 0.05, .momentum = 0.9}}) {
    CAPTURE(to_string(c.kind));
    Reference ref(c);
    // Momentum with μ taken as 1 − μ (a constant swapped) must be caught.
    OptimizerConfig wrong = c;
    wrong.momentum = 1 - c.momentum;
    Reference variant(wrong);
    Race race(c);
    const std::vector<float> got = race.run({&ref, &variant});
    CHECK(max_relative_error(got, ref) < kTolerance);
    if (c.kind == OptimizerKind::momentum) CHECK(max_relative_error(got, variant) > kVariantGap);
  }
}

TEST_CASE("adam follows the reference; swapped betas, no bias correction and PyTorch's ε are each caught") {
  const OptimizerConfig c{.kind = OptimizerKind::adam, .lr = 1e-2, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-7};
  Reference ref(c), swapped(c), uncorrected(c), torch_eps(c);
  swapped.swap_betas = true;
  uncorrected.no_bias_correction = true;
  torch_eps.eps_inside = true;
  Race race(c);
  const std::vector<float> got = race.run({&ref, &swapped, &uncorrected, &torch_eps});
  CHECK(max_relative_error(got, ref) < kTolerance);
  CHECK(max_relative_error(got, swapped) > kVariantGap);
  CHECK(max_relative_error(got, uncorrected) > kVariantGap);
  // ε decides the step only where √v is near or below it: the elements with gradients of 1e-9 to
  // 1e-7. There, adding ε to √v̂ instead of √v changes the step by a factor of up to √c2 ≈ 0.03.
  CHECK(max_relative_error(got, torch_eps) > kVariantGap);
}

TEST_CASE("adamw with a nonzero gradient: the weights decay before the update, not after") {
  // A large lr·λ (0.05) makes the order visible: decaying after the update also shrinks the update.
  const OptimizerConfig c{.kind = OptimizerKind::adamw, .lr = 0.1, .weight_decay = 0.5};
  Reference ref(c), after(c);
  after.decay_after = true;
  OptimizerConfig no_decay = c;
  no_decay.kind = OptimizerKind::adam;
  Reference plain_adam(no_decay);
  Race race(c);
  const std::vector<float> got = race.run({&ref, &after, &plain_adam});
  CHECK(max_relative_error(got, ref) < kTolerance);
  CHECK(max_relative_error(got, after) > kVariantGap);
  CHECK(max_relative_error(got, plain_adam) > kVariantGap);
}

TEST_CASE("adam's ε: with every gradient far below ε the steps shrink in proportion to the gradient") {
  // g = 1e-10 everywhere, ε = 1e-7: √v ≈ 1e-10·√c2 ≪ ε, so each step is about
  // lr·√c2/c1 · m/ε — proportional to g. Without ε in the formula it would be about lr·sign(g).
  TensorStore<float> p, g;
  p.add("w", Shape{1}, 0.0f);
  g.add("w", Shape{1}, 1e-10f);
  Optimizer opt({.kind = OptimizerKind::adam, .lr = 1e-2, .eps = 1e-7}, p);
  opt.step(p, g);
  // t = 1: m = 0.1·g, √v = √0.001·g; update = lr·(√0.001/0.1)·0.1·g/(√0.001·g + ε)
  //      = lr·√0.001·g/(√0.001·g + ε) = 1e-2 · 3.162e-12 / (3.162e-12 + 1e-7) = 3.1622e-7
  const double s = std::sqrt(0.001) * 1e-10;
  const double expected = 1e-2 * s / (s + 1e-7);
  CHECK(-static_cast<double>(p.data[0]) == doctest::Approx(expected).epsilon(1e-5));
  CHECK(expected < 1e-2 * 1e-4);  // four orders of magnitude below the ε-free step of lr
}

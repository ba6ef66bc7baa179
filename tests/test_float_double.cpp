// The float kernels that train against the double kernels that the gradient check runs: every
// preset at its reference size (784-128-64-10, the reference CNN on 28×28×1), the same parameters
// and batch in a float and a double session, in every mode, on 1 and 2 threads (and, when the suite
// is built with -DBNLAB_BLAS=ON, through OpenBLAS). The gradient check proves the double backward
// matches the double forward; this proves the float code computes the same thing as the double code.
//
// Tolerances, stated: the loss within 2e-5 relative; each gradient tensor within 1e-3 in relative
// L2 norm (‖g_f − g_d‖ / ‖g_d‖) and its largest element error within 1e-2 of the tensor's largest
// magnitude (measured: at most 6e-6 for a gradient and 2e-7 for the loss, AMD EPYC Zen 4, 2026-12-02). Float sums over a batch of 32 and 784 inputs round at ~1e-7 relative per add; batch
// norm's 1/σ and the softmax amplify that by at most a few hundred here. A wrong float kernel (a
// term dropped, a transposed index) is off by O(1).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "graph/compile.hpp"
#include "graph/random.hpp"
#include "graph/session.hpp"
#include "models/model.hpp"
#include "models/presets.hpp"

using namespace bnlab;

namespace {

constexpr int64_t kBatch = 32;

template <class T>
void fill_batch(BasicSession<T>& s, const Model& m, const std::vector<double>& x, const std::vector<int32_t>& y) {
  auto in = s.input(m.input).vec();
  for (Eigen::Index k = 0; k < in.size(); ++k) in[k] = static_cast<T>(x[static_cast<size_t>(k)]);
  std::copy(y.begin(), y.end(), s.labels(m.labels).begin());
}

void compare(const std::string& preset, Mode mode, int threads) {
  // Fashion-MNIST's images: an MLP preset takes them flat (784), a CNN preset as [28,28,1].
  const ModelSpec spec = preset_spec(preset, std::vector<int64_t>{28, 28, 1}, 10);
  const Model m = build_model(spec);
  const Program program = compile(m.graph, m.loss);
  Session f(program, {.seed = 11, .threads = threads});
  BasicSession<double> d(program, {.seed = 11, .threads = threads});
  // The same parameters in both: the float draw, widened (a double session draws its own).
  for (size_t k = 0; k < f.parameters().data.size(); ++k) d.parameters().data[k] = f.parameters().data[k];
  REQUIRE(f.state().data.size() == d.state().data.size());
  // Running statistics away from their initial (0, 1), so eval mode is not the identity.
  Rng rng(99);
  for (size_t k = 0; k < f.state().data.size(); ++k) {
    const float v = static_cast<float>(rng.uniform(0.5, 1.5));
    f.state().data[k] = v;
    d.state().data[k] = v;
  }
  // Pixels in [0, 1] as the data are, labels spread over the 10 classes.
  const int64_t features = spec.input_features();
  std::vector<double> x(static_cast<size_t>(kBatch * features));
  for (double& v : x) v = static_cast<double>(static_cast<float>(rng.uniform(0.0, 1.0)));
  std::vector<int32_t> y(static_cast<size_t>(kBatch));
  for (int64_t r = 0; r < kBatch; ++r) y[static_cast<size_t>(r)] = static_cast<int32_t>((r * 7) % 10);
  f.set_batch(kBatch);
  d.set_batch(kBatch);
  fill_batch(f, m, x, y);
  fill_batch(d, m, x, y);

  const double loss_f = f.forward(mode), loss_d = d.forward(mode);
  f.backward();
  d.backward();
  CAPTURE(preset);
  CAPTURE(to_string(mode));
  CAPTURE(threads);
  CHECK(std::abs(loss_f - loss_d) <= 2e-5 * std::abs(loss_d));
  // A tensor whose gradient is zero in exact arithmetic — a bias right before batch norm, which the
  // normalization cancels — holds only rounding noise in both precisions (double's below 1e-9 of
  // the model's largest gradient norm): then float's noise must stay below 1e-4 of that norm.
  double largest_norm = 0;
  for (int t = 0; t < d.gradients().size(); ++t)
    largest_norm = std::max(largest_norm, std::sqrt(d.gradients().view(t).vec().square().sum()));
  double worst = 0;
  for (int t = 0; t < f.gradients().size(); ++t) {
    const auto gf = f.gradients().view(t).vec();
    const auto gd = d.gradients().view(t).vec();
    const Eigen::ArrayXd diff = gf.template cast<double>() - gd;
    const double norm_d = std::sqrt(gd.square().sum());
    CAPTURE(f.gradients().entries[static_cast<size_t>(t)].name);
    if (norm_d < 1e-9 * largest_norm) {
      const double noise = std::sqrt(gf.template cast<double>().square().sum()) / largest_norm;
      CAPTURE(noise);
      CHECK(noise < 1e-4);
      continue;
    }
    const double rel = std::sqrt(diff.square().sum()) / norm_d;
    const double max_elem = diff.abs().maxCoeff() / gd.abs().maxCoeff();
    CAPTURE(rel);
    CAPTURE(max_elem);
    CHECK(rel < 1e-3);
    CHECK(max_elem < 1e-2);
    worst = std::max(worst, rel);
  }
  std::printf("float vs double %-14s %-16s %d thread(s): loss %.3e rel, worst gradient %.2e rel L2\n", preset.c_str(),
              to_string(mode), threads, std::abs(loss_f - loss_d) / std::abs(loss_d), worst);
}

}  // namespace

TEST_CASE("every preset at its reference size: float loss and gradients match double, every mode, 1 and 2 threads") {
  const std::vector<std::string> presets = preset_names();
  REQUIRE(presets.size() >= 5);  // plain, batchnorm, layernorm, cnn-plain, cnn-batchnorm
  for (const std::string& preset : presets)
    for (Mode mode : {Mode::train, Mode::eval, Mode::eval_batch_stats})
      for (int threads : {1, 2}) compare(preset, mode, threads);
}

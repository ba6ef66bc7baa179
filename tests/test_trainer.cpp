#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "data/registry.hpp"
#include "graph/errors.hpp"
#include "models/mlp.hpp"
#include "lab/run_loop.hpp"
#include "train/config_fields.hpp"
#include "train/running_std.hpp"
#include "train/trainer.hpp"

#include "baseline_support.hpp"

using namespace bnlab;

namespace {
data::Splits synthetic() { return data::load("synthetic", {.seed = 1}); }

MlpSpec mlp_for(const data::Splits& d, const std::string& preset) {
  MlpSpec s = MlpSpec::preset(preset);
  s.inputs = d.train.feature_count;
  s.classes = d.train.num_classes;
  s.hidden = {32, 16};
  return s;
}
ModelSpec spec_for(const data::Splits& d, const std::string& preset) { return mlp_for(d, preset).model_spec(); }

// One run through the lab's run loop: its epochs, then the test pass.
RunRecord train_run(const std::string& name, const ModelSpec& spec, const TrainConfig& cfg, const data::Splits& d) {
  lab::RunLoop loop({{.name = name, .spec = spec, .config = cfg}}, d);
  REQUIRE(loop.run());
  return loop.runs().front().record;
}
}  // namespace

// How far a trained model must beat the nearest-class-mean baseline, in accuracy.
constexpr double kMargin = 0.03;

TEST_CASE("both reference variants learn the synthetic task, beating the nearest-class-mean baseline") {
  const data::Splits d = synthetic();
  for (const char* preset : {"plain", "batchnorm"}) {
    TrainConfig cfg;
    cfg.epochs = 5;
    cfg.dataset = "synthetic";
    const RunRecord r = train_run(preset, spec_for(d, preset), cfg, d);
    REQUIRE(r.epochs.size() == 5);
    REQUIRE(r.test.has_value());
    CAPTURE(preset);
    // The bar is the nearest-class-mean classifier on the same split, plus a margin: a model whose
    // hidden layers stopped learning is a linear readout of random features and does not clear it.
    const double baseline = test::nearest_class_mean_accuracy(d.train, d.test);
    const double val_baseline = test::nearest_class_mean_accuracy(d.train, d.val);
    std::printf("%s: test acc %.4f, val acc %.4f; nearest class mean %.4f (test), %.4f (val)\n", preset, r.test->acc,
                r.epochs.back().val_acc, baseline, val_baseline);
    CHECK(r.test->acc > baseline + kMargin);
    CHECK(r.epochs.back().train_loss < r.epochs.front().train_loss);
    CHECK(r.epochs.back().val_acc > val_baseline + kMargin);
    CHECK(r.test->samples == d.test.size());
    CHECK(r.epochs[0].layers.size() == 2);
    CHECK(r.epochs[0].grad_norms.size() == (std::string(preset) == "plain" ? 6u : 10u));
  }
}

TEST_CASE("same seed → identical metrics apart from times; another seed differs") {
  const data::Splits d = synthetic();
  TrainConfig cfg;
  cfg.epochs = 2;
  auto run = [&](uint64_t seed) {
    cfg.seed = seed;
    return train_run("batchnorm", spec_for(d, "batchnorm"), cfg, d);
  };
  const RunRecord a = run(3), b = run(3), c = run(4);
  for (size_t e = 0; e < 2; ++e) {
    CHECK(a.epochs[e].train_loss == b.epochs[e].train_loss);
    CHECK(a.epochs[e].val_loss == b.epochs[e].val_loss);
    CHECK(a.epochs[e].val_acc == b.epochs[e].val_acc);
    CHECK(a.epochs[e].layers[0].std == b.epochs[e].layers[0].std);
  }
  CHECK(a.test->loss == b.test->loss);
  CHECK(a.test->loss != c.test->loss);
}

TEST_CASE("train metrics are sample-weighted means over the epoch; val is an eval-mode pass") {
  const data::Splits d = synthetic();
  TrainConfig cfg;
  cfg.epochs = 1;
  cfg.batch_size = 64;
  Trainer t(spec_for(d, "batchnorm"), cfg, d);
  const EpochMetrics m = t.train_epoch();
  CHECK(m.steps == (d.train.size() + 63) / 64);
  CHECK(m.train_acc >= 0.0);
  CHECK(m.train_acc <= 1.0);
  // The validation pass does not depend on the eval chunk size in eval mode.
  const EvalMetrics whole = t.evaluate(d.val, Mode::eval, d.val.size());
  const EvalMetrics pieces = t.evaluate(d.val, Mode::eval, 7);
  CHECK(whole.loss == doctest::Approx(pieces.loss).epsilon(1e-5));
  CHECK(whole.acc == pieces.acc);
  CHECK(m.val_loss == doctest::Approx(whole.loss).epsilon(1e-5));
  // Batch statistics at eval time give a different answer than running statistics.
  const EvalMetrics batch_stats = t.evaluate(d.val, Mode::eval_batch_stats, 64);
  CHECK(batch_stats.loss != whole.loss);
}

TEST_CASE("train_loss_std is the sample std of the step losses, as a two-pass computation gives it") {
  const data::Splits d = synthetic();
  TrainConfig cfg;
  cfg.epochs = 1;
  cfg.batch_size = 64;
  Trainer t(spec_for(d, "plain"), cfg, d);
  // Each step's loss from the observer's running mean: loss_k = (mean_k·rows_k − mean_(k−1)·rows_(k−1)) / (rows_k − rows_(k−1)).
  std::vector<double> losses;
  double before_sum = 0;
  int64_t before_rows = 0;
  TrainObserver obs;
  obs.step = [&](const StepProgress& p) {
    const double sum = p.loss * static_cast<double>(p.samples);
    losses.push_back((sum - before_sum) / static_cast<double>(p.samples - before_rows));
    before_sum = sum, before_rows = p.samples;
  };
  const EpochMetrics m = t.train_epoch(&obs);
  REQUIRE(losses.size() == static_cast<size_t>(m.steps));
  REQUIRE(losses.size() >= 3);
  double mean = 0, ss = 0;
  for (double l : losses) mean += l / static_cast<double>(losses.size());
  for (double l : losses) ss += (l - mean) * (l - mean);
  CHECK(m.train_loss_std == doctest::Approx(std::sqrt(ss / static_cast<double>(losses.size() - 1))).epsilon(1e-4));
  CHECK(m.train_loss_std > 0);
}

TEST_CASE("RunningStd: Welford's update keeps the digits a sum of squares loses") {
  RunningStd s;
  CHECK(std::isnan(s.std()));
  s.add(1e9 + 1);
  CHECK(std::isnan(s.std()));  // one value: no spread
  s.add(1e9 + 2);
  s.add(1e9 + 3);
  // 1, 2, 3 shifted by 1e9: sample std exactly 1 (a one-pass Σx² in double would give 0 or garbage).
  CHECK(s.std() == doctest::Approx(1.0).epsilon(1e-9));
  CHECK(s.mean() == doctest::Approx(1e9 + 2));
  CHECK(s.count() == 3);
}

TEST_CASE("trainer refuses settings that cannot work, naming the field and the value") {
  const data::Splits d = synthetic();
  TrainConfig cfg;
  cfg.batch_size = d.train.size() + 1;
  CHECK_THROWS_WITH_AS(Trainer(spec_for(d, "plain"), cfg, d), "batch_size must be at most the training split's 3200 rows, got 3201",
                       ConfigError);
  cfg.batch_size = 1;
  CHECK_THROWS_WITH_AS(Trainer(spec_for(d, "batchnorm"), cfg, d),
                       "batch_size must be at least 2 to train batch norm (a batch of one sample has no variance), got 1", ConfigError);
  cfg.batch_size = 3199;  // 3200 rows: a last batch of 1
  CHECK_THROWS_WITH_AS(Trainer(spec_for(d, "batchnorm"), cfg, d),
                       "with batch_size 3199 the last batch of 3200 training rows holds 1 sample, which batch normalization cannot train "
                       "on; set drop_last or change batch_size",
                       ConfigError);
  cfg.batch_size = 32;
  cfg.epochs = 0;
  CHECK_THROWS_WITH_AS(Trainer(spec_for(d, "plain"), cfg, d), "epochs must be at least 1, got 0", ConfigError);
  MlpSpec wrong = mlp_for(d, "plain");
  wrong.inputs = 784;
  cfg.epochs = 1;
  CHECK_THROWS_WITH_AS(Trainer(wrong.model_spec(), cfg, d), doctest::Contains("784 inputs"), UsageError);
}

TEST_CASE("a diverging run stops at the first non-finite loss, naming epoch, step and node; skip goes on") {
  const data::Splits d = synthetic();
  TrainConfig cfg;
  cfg.epochs = 1;
  cfg.optimizer = {.kind = OptimizerKind::sgd, .lr = 1e30};
  Trainer t(spec_for(d, "plain"), cfg, d);
  try {
    t.train_epoch();
    FAIL("expected a non-finite loss");
  } catch (const RuntimeError& e) {
    const std::string msg = e.what();
    CHECK(msg.find("non-finite") != std::string::npos);
    CHECK(msg.find("epoch 1, step ") != std::string::npos);
    CHECK(msg.find("first in") != std::string::npos);
  }
  cfg.on_nonfinite = NonFinitePolicy::skip;
  Trainer s(spec_for(d, "batchnorm"), cfg, d);
  const EpochMetrics m = s.train_epoch();
  CHECK(m.skipped_steps > 0);
  // Skipped steps leave no NaN in the running statistics.
  const auto& st = s.session().state().data;
  CHECK(Eigen::Map<const Eigen::ArrayXf>(st.data(), static_cast<Eigen::Index>(st.size())).allFinite());
}

TEST_CASE("per-layer statistics: batch norm before the activation gives pre-activations of mean 0 and std 1") {
  // With gamma = 1, beta = 0 (and a learning rate too small to move them), every training batch's
  // normalized values have mean exactly 0 and variance var/(var + eps) ≈ 1 per feature, so over the
  // epoch the pre-activation mean is ≈ 0 and the std ≈ 1. Without batch norm they are not.
  const data::Splits d = synthetic();
  TrainConfig cfg;
  cfg.epochs = 1;
  cfg.optimizer.lr = 1e-9;
  MlpSpec s = mlp_for(d, "batchnorm");
  s.placement = NormPlacement::before_activation;
  Trainer t(s.model_spec(), cfg, d);
  const EpochMetrics m = t.train_epoch();
  REQUIRE(m.layers.size() == 2);
  for (const auto& l : m.layers) {
    CAPTURE(l.layer);
    CHECK(std::abs(l.mean) < 1e-4);
    CHECK(l.std == doctest::Approx(1.0).epsilon(1e-3));
  }
  Trainer plain(spec_for(d, "plain"), cfg, d);
  const EpochMetrics p = plain.train_epoch();
  CHECK(std::abs(p.layers[0].std - 1.0) > 0.05);
  // Gradient norms are recorded for every parameter and are positive.
  for (const auto& g : m.grad_norms) CHECK(g.mean_norm > 0);
}

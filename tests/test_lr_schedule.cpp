// Learning-rate schedules and early stopping in the library: each schedule's rates against values
// computed by hand, the rate the trainer applies, an exact resume in the middle of a cosine, the
// early-stopping rule on made-up metrics, and a run that stops early scored with its best epoch's
// weights.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "data/registry.hpp"
#include "data_test_support.hpp"
#include "graph/errors.hpp"
#include "lab/run_control.hpp"
#include "lab/run_loop.hpp"
#include "models/mlp.hpp"
#include "train/checkpoint.hpp"
#include "train/config_fields.hpp"
#include "train/early_stop.hpp"
#include "train/lr_schedule.hpp"
#include "train/serialize.hpp"
#include "train/trainer.hpp"

using namespace bnlab;
using bnlab::test::TempDir;

namespace {

data::Splits synthetic() { return data::load("synthetic", {.seed = 1}); }

ModelSpec spec_for(const data::Splits& d) {
  MlpSpec s = MlpSpec::preset("batchnorm");
  s.inputs = d.train.feature_count;
  s.classes = d.train.num_classes;
  s.hidden = {16};
  return s.model_spec();
}

std::vector<double> rates(const TrainConfig& c) {
  std::vector<double> out;
  for (int e = 0; e < c.epochs; ++e) out.push_back(scheduled_lr(c, e));
  return out;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

EpochMetrics epoch_with(int epoch, double val_loss, double val_acc) {
  EpochMetrics m;
  m.epoch = epoch;
  m.val_loss = val_loss;
  m.val_acc = val_acc;
  return m;
}

}  // namespace

TEST_CASE("each schedule's rates, epoch by epoch, against values computed by hand") {
  TrainConfig c;
  c.optimizer.lr = 0.1;
  c.epochs = 4;
  SUBCASE("constant: lr itself, exactly") {
    for (double lr : rates(c)) CHECK(lr == 0.1);
  }
  SUBCASE("step: lr·γ^⌊e/N⌋") {
    c.lr_schedule = LrSchedule::step;
    c.epochs = 5;
    c.lr_step_epochs = 2;
    c.lr_gamma = 0.5;
    const std::vector<double> want = {0.1, 0.1, 0.05, 0.05, 0.025};
    const std::vector<double> got = rates(c);
    for (size_t e = 0; e < want.size(); ++e) CHECK(got[e] == doctest::Approx(want[e]).epsilon(1e-15));
  }
  SUBCASE("cosine to lr_min 0 over 4 epochs: 0.1·(1 + cos(π·e/4))/2") {
    c.lr_schedule = LrSchedule::cosine;
    // cos(π/4) = √2/2 = 0.70710678…: (1 ± 0.70710678)/2 · 0.1
    const std::vector<double> want = {0.1, 0.085355339059327, 0.05, 0.014644660940673};
    const std::vector<double> got = rates(c);
    for (size_t e = 0; e < want.size(); ++e) CHECK(got[e] == doctest::Approx(want[e]).epsilon(1e-12));
  }
  SUBCASE("warmup-cosine: 2 warm-up epochs from half the rate, then a cosine to 0.01 over the 2 left") {
    c.lr_schedule = LrSchedule::warmup_cosine;
    c.lr_warmup_epochs = 2;
    c.lr_warmup_start = 0.5;
    c.lr_min = 0.01;
    // e0: 0.1·0.5; e1: 0.1·(0.5 + 0.5·1/2); e2: the cosine's start, 0.1; e3: 0.01 + 0.09·(1 + cos(π/2))/2
    const std::vector<double> want = {0.05, 0.075, 0.1, 0.055};
    const std::vector<double> got = rates(c);
    for (size_t e = 0; e < want.size(); ++e) CHECK(got[e] == doctest::Approx(want[e]).epsilon(1e-12));
  }
}

TEST_CASE("schedule configurations that cannot run are refused, naming the field") {
  TrainConfig c;
  c.epochs = 3;
  c.lr_schedule = LrSchedule::warmup_cosine;
  c.lr_warmup_epochs = 3;
  CHECK_THROWS_WITH_AS(c.validate(),
                       "lr_warmup_epochs 3 with lr_schedule warmup-cosine and epochs 3: the warm-up must last at least 1 epoch and "
                       "fewer than epochs",
                       ConfigError);
  c.lr_warmup_epochs = 0;
  CHECK_THROWS_AS(c.validate(), ConfigError);
  c.lr_warmup_epochs = 1;
  c.validate();
  c.lr_gamma = -0.5;
  CHECK_THROWS_WITH_AS(c.validate(), "lr_gamma must be positive and finite, got -0.5", ConfigError);
  c.lr_gamma = 0.1;
  c.lr_min = 0.01;  // above lr 0.001
  CHECK_THROWS_WITH_AS(c.validate(), "lr_min 0.01 is above lr 0.001: the cosine falls from lr to lr_min", ConfigError);
  CHECK_THROWS_WITH_AS(lr_schedule_from_string("linear"),
                       "unknown learning-rate schedule 'linear' (known: constant, step, cosine, warmup-cosine)", UsageError);
}

TEST_CASE("the trainer trains each epoch with its scheduled rate: a step run's epoch 2 = a constant run at the halved rate from epoch 1's state") {
  const data::Splits d = synthetic();
  TrainConfig c;
  c.epochs = 2;
  c.lr_schedule = LrSchedule::step;
  c.lr_step_epochs = 1;
  c.lr_gamma = 0.5;
  Trainer stepped(spec_for(d), c, d);
  const EpochMetrics s1 = stepped.train_epoch();
  const EpochMetrics s2 = stepped.train_epoch();
  CHECK(s1.lr == 1e-3);
  CHECK(s2.lr == 1e-3 * 0.5);

  TrainConfig first = c;
  first.lr_schedule = LrSchedule::constant;
  Trainer a(spec_for(d), first, d);
  const EpochMetrics a1 = a.train_epoch();
  CHECK(same_bits(a1.train_loss, s1.train_loss));
  TrainConfig halved = first;
  halved.optimizer.lr = 1e-3 * 0.5;
  Trainer b(spec_for(d), halved, d);
  lab::TrainerSnapshot(a).restore(b);  // epoch 1's weights, moments and step count
  const EpochMetrics b2 = b.train_epoch();
  CHECK(b2.lr == s2.lr);
  CHECK(same_bits(b2.train_loss, s2.train_loss));
  CHECK(same_bits(b2.val_loss, s2.val_loss));
  CHECK(b.session().parameters().data == stepped.session().parameters().data);
  // And the rate mattered: epoch 2 at the full rate is another result.
  const EpochMetrics a2 = a.train_epoch();
  CHECK_FALSE(same_bits(a2.train_loss, s2.train_loss));
}

TEST_CASE("a warmup-cosine run checkpointed after epoch 2 of 4 and resumed = the run in one go, bit for bit") {
  const data::Splits d = synthetic();
  TempDir dir;
  TrainConfig c;
  c.epochs = 4;
  c.optimizer.lr = 0.01;
  c.lr_schedule = LrSchedule::warmup_cosine;
  c.lr_warmup_epochs = 1;
  c.lr_min = 0.001;
  Trainer whole(spec_for(d), c, d);
  std::vector<EpochMetrics> all;
  for (int e = 0; e < 4; ++e) all.push_back(whole.train_epoch());

  Trainer first(spec_for(d), c, d);
  std::vector<EpochMetrics> history;
  for (int e = 0; e < 2; ++e) history.push_back(first.train_epoch());
  const std::string path = dir / "ck.safetensors";
  save_checkpoint(path, first, history);
  const Checkpoint ck = read_checkpoint(path);
  CHECK(ck.config.lr_schedule == LrSchedule::warmup_cosine);
  CHECK(ck.history[1].lr == all[1].lr);
  Trainer resumed(ck.spec, ck.config, d);
  restore(resumed, ck);
  for (int e = 2; e < 4; ++e) {
    const EpochMetrics m = resumed.train_epoch();
    CHECK(m.lr == all[static_cast<size_t>(e)].lr);
    CHECK(same_bits(m.train_loss, all[static_cast<size_t>(e)].train_loss));
    CHECK(same_bits(m.val_loss, all[static_cast<size_t>(e)].val_loss));
  }
  CHECK(resumed.session().parameters().data == whole.session().parameters().data);
  // The rates fell from the warm-up's third to lr and on towards lr_min (none equal).
  CHECK(all[0].lr == doctest::Approx(0.01 / 3));
  CHECK(all[1].lr == doctest::Approx(0.01).epsilon(1e-15));  // the cosine at its start: lr_min + (lr − lr_min)
  CHECK(all[3].lr == doctest::Approx(0.001 + 0.009 * (1 + std::cos(2 * 3.14159265358979323846 / 3)) / 2));

  // Resumed towards another epoch count, a cosine's rates would change: refused.
  TrainConfig longer = ck.config;
  longer.epochs = 6;
  Trainer other(ck.spec, longer, d);
  CHECK_THROWS_WITH_AS(restore(other, ck),
                       (path + ": the run's warmup-cosine learning-rate schedule spans its 4 epochs, so it cannot continue to 6 "
                               "(its rates would change); a constant or step schedule can")
                           .c_str(),
                       InputError);
}

TEST_CASE("a training configuration from before schedules (no lr_* or early_stop* fields) reads with their defaults") {
  TrainConfig c;
  c.lr_schedule = LrSchedule::step;
  c.early_stop = 3;
  nlohmann::json j = nlohmann::json::parse(to_json(c));
  for (const char* key : {"lr_schedule", "lr_step_epochs", "lr_gamma", "lr_min", "lr_warmup_epochs", "lr_warmup_start", "early_stop",
                          "early_stop_metric", "early_stop_min_delta"}) {
    CHECK(j.contains(key));
    j.erase(key);
  }
  const TrainConfig old = train_config_from_json(j.dump());
  CHECK(old.lr_schedule == LrSchedule::constant);
  CHECK(old.early_stop == 0);
  CHECK(to_json(train_config_from_json(to_json(c))) == to_json(c));
  // An epoch without "lr" (written before schedules) reads as unknown (NaN).
  nlohmann::json e = nlohmann::json::parse(to_json(EpochMetrics{}));
  e.erase("lr");
  CHECK(std::isnan(epoch_metrics_from_json(e.dump()).lr));
}

TEST_CASE("early stopping: the best epoch, the patience and min_delta, on metrics made up for it") {
  TrainConfig c;
  c.early_stop = 2;
  SUBCASE("val_loss, min_delta 0: 1.0, 0.9, 0.95, 0.91 → best epoch 2, stop after epoch 4") {
    EarlyStopping w(c);
    CHECK(w.update(epoch_with(1, 1.0, 0)));
    CHECK(w.update(epoch_with(2, 0.9, 0)));
    CHECK_FALSE(w.update(epoch_with(3, 0.95, 0)));
    CHECK_FALSE(w.should_stop());
    CHECK_FALSE(w.update(epoch_with(4, 0.91, 0)));
    CHECK(w.should_stop());
    CHECK(w.best_epoch() == 2);
    CHECK(w.best_value() == 0.9);
  }
  SUBCASE("val_loss, min_delta 0.05: 0.97 after 1.0 is not enough, 0.9 is") {
    c.early_stop_min_delta = 0.05;
    c.early_stop = 3;
    EarlyStopping w(c);
    w.update(epoch_with(1, 1.0, 0));
    CHECK_FALSE(w.update(epoch_with(2, 0.97, 0)));
    CHECK(w.epochs_without_improvement() == 1);
    CHECK(w.update(epoch_with(3, 0.9, 0)));
    CHECK(w.epochs_without_improvement() == 0);
    CHECK(w.best_epoch() == 3);
  }
  SUBCASE("val_acc, patience 1: an equal accuracy is no improvement; a NaN loss never is") {
    c.early_stop = 1;
    c.early_stop_metric = EarlyStopMetric::val_acc;
    EarlyStopping w(c);
    CHECK(w.update(epoch_with(1, 9, 0.5)));
    CHECK(w.update(epoch_with(2, 9, 0.6)));
    CHECK_FALSE(w.update(epoch_with(3, 0.1, 0.6)));
    CHECK(w.should_stop());
    CHECK(w.best_epoch() == 2);
    TrainConfig l = c;
    l.early_stop_metric = EarlyStopMetric::val_loss;
    EarlyStopping n(l);
    CHECK_FALSE(n.update(epoch_with(1, std::nan(""), 0.5)));
    CHECK(n.best_epoch() == 0);
  }
}

TEST_CASE("a run that stops early is scored with its best epoch's weights: the test score of a run of best_epoch epochs") {
  const data::Splits d = synthetic();
  TrainConfig c;
  c.epochs = 6;
  c.early_stop = 1;
  c.early_stop_min_delta = 100;  // nothing after epoch 1 counts as an improvement
  lab::RunLoop loop({{.name = "es", .spec = spec_for(d), .config = c}}, d);
  REQUIRE(loop.run());
  const RunRecord r = loop.runs().front().record;
  CHECK(r.epochs.size() == 2);
  CHECK(r.best_epoch == 1);
  CHECK(r.stopped_epoch == 2);
  CHECK(r.stop_reason.starts_with("val_loss did not improve on epoch 1's "));
  CHECK(r.stop_reason.ends_with(" for 1 epochs (patience 1, min_delta 100)"));

  TrainConfig one = c;
  one.epochs = 1;
  one.early_stop = 0;
  one.early_stop_min_delta = 0;
  lab::RunLoop short_loop({{.name = "one", .spec = spec_for(d), .config = one}}, d);
  REQUIRE(short_loop.run());
  const RunRecord s = short_loop.runs().front().record;
  REQUIRE(r.test.has_value());
  CHECK(same_bits(r.test->loss, s.test->loss));
  CHECK(same_bits(r.test->acc, s.test->acc));
  CHECK(same_bits(r.epochs[0].val_loss, s.epochs[0].val_loss));

  // Without a validation split there is nothing to watch.
  const data::Splits no_val = data::load("synthetic", {.val_fraction = 0, .seed = 1});
  CHECK_THROWS_WITH_AS(Trainer(spec_for(no_val), c, no_val),
                       "early_stop watches the validation split, which is empty; set val_fraction above 0", ConfigError);
}

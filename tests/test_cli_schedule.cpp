// Learning-rate schedules and early stopping from the command line: the rates each epoch trained
// with in the metrics document, an early-stopped run's epochs and reasons, and every bad value.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "cli_test_support.hpp"

using namespace bnlab::test;

namespace {
const std::string kTrain = "train --dataset synthetic --hidden 16 --quiet";
}

TEST_CASE("train --lr-schedule: the config and each epoch's rate in the metrics document") {
  TempDir dir;
  const std::string path = dir / "m.json";
  SUBCASE("step: 0.01 halved every 2 epochs") {
    REQUIRE(run_bnlab(kTrain + " --epochs 5 --lr 0.01 --lr-schedule step --lr-step-epochs 2 --lr-gamma 0.5 --json " + path, dir).status == 0);
    const json run = read_json(path)["runs"][0];
    CHECK(run["config"]["lr_schedule"] == "step");
    CHECK(run["config"]["lr_step_epochs"] == 2);
    CHECK(run["config"]["lr_gamma"] == 0.5);
    const double want[] = {0.01, 0.01, 0.005, 0.005, 0.0025};
    REQUIRE(run["epochs"].size() == 5);
    for (size_t e = 0; e < 5; ++e) CHECK(run["epochs"][e]["lr"].get<double>() == doctest::Approx(want[e]).epsilon(1e-15));
  }
  SUBCASE("warmup-cosine: 1 warm-up epoch from a quarter of 0.004, then a cosine to 0 over 2") {
    REQUIRE(run_bnlab(kTrain + " --epochs 3 --lr 0.004 --lr-schedule warmup-cosine --lr-warmup-epochs 1 --lr-warmup-start 0.25 --json " +
                          path,
                      dir)
                .status == 0);
    const json run = read_json(path)["runs"][0];
    CHECK(run["config"]["lr_schedule"] == "warmup-cosine");
    // e0: 0.004·0.25; e1: the cosine at 0 of 2, 0.004; e2: 0.004·(1 + cos(π/2))/2 = 0.002
    const double want[] = {0.001, 0.004, 0.002};
    for (size_t e = 0; e < 3; ++e) CHECK(run["epochs"][e]["lr"].get<double>() == doctest::Approx(want[e]).epsilon(1e-12));
  }
  SUBCASE("constant (the default): every epoch at --lr, and no early_stop entry") {
    REQUIRE(run_bnlab(kTrain + " --epochs 2 --json " + path, dir).status == 0);
    const json run = read_json(path)["runs"][0];
    CHECK(run["config"]["lr_schedule"] == "constant");
    CHECK(run["config"]["early_stop"] == 0);
    for (const json& e : run["epochs"]) CHECK(e["lr"] == 0.001);
    CHECK_FALSE(run.contains("early_stop"));
  }
}

TEST_CASE("train --early-stop: stops when the validation metric stalls, says why, and scores the best epoch's weights") {
  TempDir dir;
  const std::string stopped = dir / "stopped.json", one = dir / "one.json";
  // min_delta 10: no epoch after the first improves val_acc by 10, so patience 2 stops after epoch 3.
  const Run r = run_bnlab(kTrain + " --epochs 8 --early-stop 2 --early-stop-metric val_acc --early-stop-min-delta 10 --json " + stopped, dir);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  const json run = read_json(stopped)["runs"][0];
  CHECK(run["config"]["early_stop"] == 2);
  CHECK(run["config"]["early_stop_metric"] == "val_acc");
  CHECK(run["epochs"].size() == 3);
  CHECK(run["early_stop"]["best_epoch"] == 1);
  CHECK(run["early_stop"]["stopped_epoch"] == 3);
  const std::string reason = run["early_stop"]["reason"];
  CHECK(reason.starts_with("val_acc did not improve on epoch 1's "));
  CHECK(reason.ends_with(" for 2 epochs (patience 2, min_delta 10)"));
  // The test score is that of epoch 1's weights: a run of one epoch.
  REQUIRE(run_bnlab(kTrain + " --epochs 1 --json " + one, dir).status == 0);
  const json first = read_json(one)["runs"][0];
  CHECK(run["test"] == first["test"]);
  CHECK(run["epochs"][0]["val_acc"] == first["epochs"][0]["val_acc"]);
}

TEST_CASE("bad schedule and early-stopping values: one line naming the flag and the value") {
  TempDir dir;
  check_error(run_bnlab(kTrain + " --lr-schedule linear", dir), 2,
              {"--lr-schedule", "unknown learning-rate schedule 'linear' (known: constant, step, cosine, warmup-cosine)"});
  check_error(run_bnlab(kTrain + " --lr-schedule step --lr-gamma -0.5", dir), 2, {"--lr-gamma -0.5", "must be positive and finite"});
  check_error(run_bnlab(kTrain + " --lr-schedule step --lr-step-epochs 0", dir), 2, {"--lr-step-epochs 0", "at least 1"});
  check_error(run_bnlab(kTrain + " --epochs 3 --lr-schedule warmup-cosine --lr-warmup-epochs 5", dir), 2,
              {"--lr-warmup-epochs 5 with --lr-schedule warmup-cosine and --epochs 3: the warm-up must last at least 1 epoch and fewer than "
               "--epochs"});
  check_error(run_bnlab(kTrain + " --lr-schedule warmup-cosine --lr-warmup-epochs 1 --lr-warmup-start 1.5", dir), 2,
              {"--lr-warmup-start 1.5", "must be in (0, 1]"});
  check_error(run_bnlab(kTrain + " --lr-schedule cosine --lr 0.001 --lr-min 0.01", dir), 2,
              {"--lr-min 0.01 is above --lr 0.001: the cosine falls from --lr to --lr-min"});
  check_error(run_bnlab(kTrain + " --lr-gamma 0.5", dir), 2, {"--lr-gamma is for --lr-schedule step, but --lr-schedule is constant"});
  check_error(run_bnlab(kTrain + " --lr-schedule step --lr-min 0.1", dir), 2,
              {"--lr-min is for --lr-schedule cosine or warmup-cosine, but --lr-schedule is step"});
  check_error(run_bnlab(kTrain + " --early-stop 0", dir), 2, {"--early-stop 0: must be at least 1"});
  check_error(run_bnlab(kTrain + " --early-stop -1", dir), 2, {"--early-stop -1"});
  check_error(run_bnlab(kTrain + " --early-stop 3 --val-fraction 0", dir), 2,
              {"--early-stop 3: watches the validation split, but --val-fraction is 0"});
  check_error(run_bnlab(kTrain + " --early-stop-metric val_acc", dir), 2, {"--early-stop-metric is for --early-stop PATIENCE, which was not given"});
  check_error(run_bnlab(kTrain + " --early-stop 2 --early-stop-metric accuracy", dir), 2,
              {"--early-stop-metric", "unknown early-stopping metric 'accuracy' (known: val_loss, val_acc)"});
  check_error(run_bnlab(kTrain + " --early-stop 2 --early-stop-min-delta -1", dir), 2, {"--early-stop-min-delta -1", ">= 0"});
}

TEST_CASE("train --resume of a cosine run to another epoch count is refused: its rates would change") {
  TempDir dir;
  const std::string ck = dir / "c.safetensors";
  REQUIRE(run_bnlab(kTrain + " --epochs 2 --lr-schedule cosine --checkpoint " + ck, dir).status == 0);
  check_error(run_bnlab("train --resume " + ck + " --epochs 4 --quiet", dir), 2,
              {ck, "the run's cosine learning-rate schedule spans its 2 epochs, so it cannot continue to 4"});
}

// The numbers a sweep prints (lab/sweep_summary, lab/run_stats) from hand-made runs: mean ± the
// SAMPLE standard deviation (n − 1) over seeds, worked out by hand for three seeds; the first epoch
// whose validation accuracy reaches the threshold (the threshold itself counts; "never"; "k/n seeds"
// when only some reach it); a diverged run counted in "runs"; rows in order of first appearance;
// and the two printed tables, character for character.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "lab/run_stats.hpp"
#include "lab/sweep_summary.hpp"

using namespace bnlab;
using namespace bnlab::lab;

namespace {

struct Epoch {
  double train_loss, train_acc, val_loss, val_acc, seconds;
};

RunRecord make_run(const std::string& model, int64_t batch, uint64_t seed, const std::vector<Epoch>& epochs,
                   std::optional<EvalMetrics> test) {
  RunRecord r;
  r.name = model + "-bs" + std::to_string(batch) + "-seed" + std::to_string(seed);
  r.config.model = model;
  r.config.batch_size = batch;
  r.config.seed = seed;
  for (size_t i = 0; i < epochs.size(); ++i) {
    EpochMetrics m;
    m.epoch = static_cast<int>(i) + 1;
    m.train_loss = epochs[i].train_loss;
    m.train_acc = epochs[i].train_acc;
    m.val_loss = epochs[i].val_loss;
    m.val_acc = epochs[i].val_acc;
    m.seconds = epochs[i].seconds;
    m.steps = 10;
    r.epochs.push_back(m);
  }
  r.test = test;
  return r;
}

// batchnorm at 32 (three seeds), plain at 32 (two, one diverged), batchnorm at 64 (one), interleaved.
std::vector<RunRecord> sweep_runs() {
  const RunRecord bn0 = make_run("batchnorm", 32, 0, {{0.6, 0.80, 0.7, 0.70, 1.0}, {0.3, 0.90, 0.5, 0.80, 2.0}}, EvalMetrics{0.55, 0.79, 100});
  const RunRecord bn1 = make_run("batchnorm", 32, 1, {{0.5, 0.85, 0.6, 0.80, 2.0}, {0.2, 0.92, 0.4, 0.85, 2.0}}, EvalMetrics{0.45, 0.84, 100});
  const RunRecord bn2 = make_run("batchnorm", 32, 2, {{0.4, 0.88, 0.5, 0.86, 2.5}, {0.1, 0.94, 0.3, 0.90, 2.5}}, EvalMetrics{0.35, 0.89, 100});
  RunRecord plain0 = make_run("plain", 32, 0, {{1.0, 0.50, 1.2, 0.50, 1.0}}, std::nullopt);
  plain0.status = RunStatus::diverged;  // stopped in epoch 2: its one epoch, no test
  const RunRecord plain1 = make_run("plain", 32, 1, {{1.1, 0.45, 1.3, 0.60, 1.0}, {0.8, 0.75, 0.9, 0.70, 1.0}}, EvalMetrics{0.9, 0.69, 100});
  const RunRecord bn64 = make_run("batchnorm", 64, 0, {{0.15, 0.95, 0.25, 0.90, 3.0}}, EvalMetrics{0.3, 0.88, 100});
  return {bn0, plain0, bn1, bn64, bn2, plain1};
}

std::string sp(size_t n) { return std::string(n, ' '); }

}  // namespace

TEST_CASE("mean_std: mean and sample standard deviation (n − 1) of the finite values, by hand") {
  // 0.80, 0.85, 0.90: mean 0.85; squared deviations 0.0025 + 0 + 0.0025 = 0.005; / (3 − 1) → std
  // 0.05 (the population std, / 3, would be 0.0408).
  const MeanStd m = mean_std({0.80, 0.85, 0.90});
  CHECK(m.n == 3);
  CHECK(m.mean == doctest::Approx(0.85).epsilon(1e-12));
  CHECK(m.std == doctest::Approx(0.05).epsilon(1e-12));
  CHECK(format_mean_std(m, 4) == "0.8500 ± 0.0500");
  // 1, 2, 4: mean 7/3, deviations −4/3, −1/3, 5/3 → squares 42/9 / 2 = 7/3 → std √(7/3).
  const MeanStd k = mean_std({1.0, 2.0, 4.0});
  CHECK(k.mean == doctest::Approx(7.0 / 3).epsilon(1e-12));
  CHECK(k.std == doctest::Approx(std::sqrt(7.0 / 3)).epsilon(1e-12));
  CHECK(format_mean_std(k, 3) == "2.333 ± 1.528");
  // Non-finite values are left out and not counted.
  const MeanStd f = mean_std({std::numeric_limits<double>::quiet_NaN(), 0.5, std::numeric_limits<double>::infinity(), 0.7});
  CHECK(f.n == 2);
  CHECK(f.mean == doctest::Approx(0.6));
  CHECK(f.std == doctest::Approx(0.2 / std::sqrt(2.0)));
  CHECK(format_mean_std(mean_std({0.5}), 4) == "0.5000");
  CHECK(format_mean_std(mean_std({}), 4) == "-");
}

TEST_CASE("first_epoch_reaching: the threshold itself counts; never; a NaN epoch never does") {
  const RunRecord r = make_run("plain", 32, 0, {{0, 0, 0, 0.84, 1}, {0, 0, 0, 0.85, 1}, {0, 0, 0, 0.90, 1}}, std::nullopt);
  CHECK(first_epoch_reaching(r, 0.85) == 2);
  CHECK(first_epoch_reaching(r, 0.84) == 1);
  CHECK(first_epoch_reaching(r, 0.9000001) == std::nullopt);
  const RunRecord n = make_run("plain", 32, 0, {{0, 0, 0, std::numeric_limits<double>::quiet_NaN(), 1}}, std::nullopt);
  CHECK(first_epoch_reaching(n, 0.0) == std::nullopt);
  CHECK(seconds_through_epoch(r, 2) == 2.0);
  CHECK(std::isnan(seconds_through_epoch(r, 4)));
}

TEST_CASE("sweep summary rows from hand-made runs: mean ± sample std over seeds and the epoch reaching the threshold") {
  const std::vector<SweepRow> rows = sweep_summary(sweep_runs(), 0.85);
  REQUIRE(rows.size() == 3);
  // In order of first appearance.
  CHECK(rows[0].variant == "batchnorm");
  CHECK(rows[0].batch_size == 32);
  CHECK(rows[1].variant == "plain");
  CHECK(rows[2].batch_size == 64);

  const SweepRow& bn = rows[0];
  CHECK(bn.runs == 3);
  CHECK(bn.diverged == 0);
  CHECK(bn.val_acc.n == 3);
  CHECK(bn.val_acc.mean == doctest::Approx(0.85));
  CHECK(bn.val_acc.std == doctest::Approx(0.05));  // sample std of 0.80, 0.85, 0.90
  CHECK(bn.train_acc.mean == doctest::Approx(0.92));
  CHECK(bn.train_acc.std == doctest::Approx(0.02));
  CHECK(bn.test_acc.mean == doctest::Approx(0.84));
  CHECK(bn.train_loss.std == doctest::Approx(0.1));
  CHECK(bn.test_loss.mean == doctest::Approx(0.45));
  // Seconds per epoch per run: (1 + 2)/2, 2, 2.5 → mean 2, std 0.5.
  CHECK(bn.epoch_seconds.mean == doctest::Approx(2.0));
  CHECK(bn.epoch_seconds.std == doctest::Approx(0.5));
  // Seed 0 never reaches 0.85, seed 1 at epoch 2 (exactly 0.85), seed 2 at epoch 1.
  CHECK(bn.reached == 2);
  CHECK(bn.threshold_epoch.n == 2);
  CHECK(bn.threshold_epoch.mean == doctest::Approx(1.5));
  CHECK(bn.threshold_epoch.std == doctest::Approx(std::sqrt(0.5)));

  const SweepRow& plain = rows[1];
  CHECK(plain.runs == 2);
  CHECK(plain.diverged == 1);
  CHECK(plain.reached == 0);
  CHECK(plain.threshold_epoch.n == 0);
  // The diverged run's last completed epoch is in the means; it has no test score.
  CHECK(plain.val_acc.mean == doctest::Approx(0.6));
  CHECK(plain.test_acc.n == 1);
  CHECK(plain.test_acc.mean == doctest::Approx(0.69));

  CHECK(rows[2].runs == 1);
  CHECK(rows[2].reached == 1);
  CHECK(std::isnan(rows[2].val_acc.std));
}

TEST_CASE("sweep summary table and printed text, cell for cell") {
  const std::vector<SweepRow> rows = sweep_summary(sweep_runs(), 0.85);
  const auto t = sweep_summary_table(rows, 0.85);
  CHECK(t["columns"] == nlohmann::ordered_json({"variant", "batch", "runs", "train acc", "val acc", "test acc", "train loss", "val loss",
                                                "test loss", "s/epoch", "epoch val acc >= 0.85"}));
  REQUIRE(t["rows"].size() == 3);
  CHECK(t["rows"][0] == nlohmann::ordered_json({"batchnorm", "32", "3", "0.9200 ± 0.0200", "0.8500 ± 0.0500", "0.8400 ± 0.0500",
                                                "0.2000 ± 0.1000", "0.4000 ± 0.1000", "0.4500 ± 0.1000", "2.000 ± 0.500",
                                                "1.5 ± 0.7 (2/3 seeds)"}));
  CHECK(t["rows"][1] == nlohmann::ordered_json({"plain", "32", "2 (1 diverged)", "0.6250 ± 0.1768", "0.6000 ± 0.1414", "0.6900",
                                                "0.9000 ± 0.1414", "1.0500 ± 0.2121", "0.9000", "1.000 ± 0.000", "never"}));
  CHECK(t["rows"][2] == nlohmann::ordered_json({"batchnorm", "64", "1", "0.9500", "0.9000", "0.8800", "0.1500", "0.2500", "0.3000", "3.000",
                                                "1.0"}));

  // Column widths in code points ("±" is one): 9, 5, 14, 15, 15, 15, then 9, 5, 15, 15, 15, 13, 21;
  // the variant left-aligned, every other column right-aligned, two spaces between columns.
  const std::string expected =
      "variant" + sp(4) + "batch" + sp(12) + "runs" + sp(8) + "train acc" + sp(10) + "val acc" + sp(9) + "test acc\n" +
      "batchnorm" + sp(5) + "32" + sp(15) + "3  0.9200 ± 0.0200  0.8500 ± 0.0500  0.8400 ± 0.0500\n" +
      "plain" + sp(9) + "32  2 (1 diverged)  0.6250 ± 0.1768  0.6000 ± 0.1414" + sp(11) + "0.6900\n" +
      "batchnorm" + sp(5) + "64" + sp(15) + "1" + sp(11) + "0.9500" + sp(11) + "0.9000" + sp(11) + "0.8800\n" +
      "\n" +
      "variant" + sp(4) + "batch" + sp(7) + "train loss" + sp(9) + "val loss" + sp(8) + "test loss" + sp(8) + "s/epoch  epoch val acc >= 0.85\n" +
      "batchnorm" + sp(5) + "32  0.2000 ± 0.1000  0.4000 ± 0.1000  0.4500 ± 0.1000  2.000 ± 0.500  1.5 ± 0.7 (2/3 seeds)\n" +
      "plain" + sp(9) + "32  0.9000 ± 0.1414  1.0500 ± 0.2121" + sp(11) + "0.9000  1.000 ± 0.000" + sp(18) + "never\n" +
      "batchnorm" + sp(5) + "64" + sp(11) + "0.1500" + sp(11) + "0.2500" + sp(11) + "0.3000" + sp(10) + "3.000" + sp(20) + "1.0\n" +
      "\n";
  CHECK(sweep_summary_text(rows, 0.85) == expected);
}

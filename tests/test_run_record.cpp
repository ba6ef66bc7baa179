// The run record read back from its entry in the metrics document (lab/metrics_json.hpp): entry →
// record → entry gives the same text, for the train/compare form (run_json) and the sweep/study form
// (job_json, finished and diverged), and the record holds the numbers analysis reads.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "graph/errors.hpp"
#include "lab/metrics_json.hpp"
#include "lab/run_job.hpp"
#include "lab/run_stats.hpp"
#include "models/presets.hpp"

using namespace bnlab;
using namespace bnlab::lab;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

RunRecord sample_record() {
  RunRecord r;
  r.name = "batchnorm-bs64-seed1";
  r.config.model = "batchnorm";
  r.config.batch_size = 64;
  r.config.seed = 1;
  r.config.epochs = 2;
  r.config.optimizer.kind = OptimizerKind::sgd;
  r.config.optimizer.lr = 0.05;
  r.config.on_nonfinite = NonFinitePolicy::skip;
  r.config.drop_last = true;
  r.spec = preset_spec("batchnorm", 6, 3, {.hidden = std::vector<int64_t>{5, 4}});
  r.train_size = 80, r.val_size = 0, r.test_size = 20;
  for (int e = 1; e <= 2; ++e) {
    EpochMetrics m;
    m.epoch = e;
    m.train_loss = 1.0 / e;
    m.train_acc = 0.5 + 0.1 * e;
    m.val_loss = kNaN;  // an empty validation split: null in the document
    m.val_acc = kNaN;
    m.seconds = 0.125 * e;
    m.samples_per_second = 640.0 / e;
    m.steps = 2;
    m.skipped_steps = e - 1;
    m.layers = {{"fc1", 0.25, 1.5}, {"fc2", -0.125, kNaN}};
    m.grad_norms = {{"fc1.weight", 0.01 * e}, {"out.weight", 0.3}};
    r.epochs.push_back(m);
  }
  r.test = EvalMetrics{.loss = 0.7, .acc = 0.8125};
  r.total_seconds = 0.5;
  r.eval_train = EvalMetrics{.loss = 0.6, .acc = 0.85};
  r.val_batch_stats = EvalMetrics{.loss = 0.9, .acc = 0.75};
  r.val_batch_stats_batch = 64;
  return r;
}

RunJob job_of(const RunRecord& r) {
  return {.name = r.name, .spec = r.spec, .config = r.config, .extra_config = {{"val_fraction", 0.2}, {"standardize", true}}};
}

// Text → entry → record → entry → text.
std::string round_trip(const nlohmann::ordered_json& entry) {
  const nlohmann::ordered_json parsed = nlohmann::ordered_json::parse(entry.dump(2));
  return stored_run_json(stored_run_from_json(parsed)).dump(2);
}

}  // namespace

TEST_CASE("a finished sweep/study run reads back to the same entry") {
  const RunRecord r = sample_record();
  const nlohmann::ordered_json entry = job_json(r, job_of(r));
  CHECK(round_trip(entry) == entry.dump(2));

  const StoredRun s = stored_run_from_json(entry);
  CHECK(s.job_form);
  CHECK(s.config == entry["config"]);
  const RunRecord& b = s.record;
  CHECK(b.name == r.name);
  CHECK(b.config.model == "batchnorm");
  CHECK(b.config.batch_size == 64);
  CHECK(b.config.seed == 1);
  CHECK(b.config.epochs == 2);
  CHECK(b.config.drop_last);
  CHECK(b.config.optimizer.kind == OptimizerKind::sgd);
  CHECK(b.config.optimizer.lr == 0.05);
  CHECK(b.config.on_nonfinite == NonFinitePolicy::skip);
  CHECK(b.train_size == 80);
  CHECK(b.test_size == 20);
  REQUIRE(b.epochs.size() == 2);
  CHECK(b.epochs[1].train_loss == 0.5);
  CHECK(std::isnan(b.epochs[1].val_acc));
  CHECK(b.epochs[1].skipped_steps == 1);
  REQUIRE(b.epochs[0].layers.size() == 2);
  CHECK(b.epochs[0].layers[1].layer == "fc2");
  CHECK(std::isnan(b.epochs[0].layers[1].std));
  REQUIRE(b.epochs[1].grad_norms.size() == 2);
  CHECK(b.epochs[1].grad_norms[0].mean_norm == 0.02);
  CHECK(b.status == RunStatus::finished);
  REQUIRE(b.test);
  CHECK(b.test->acc == 0.8125);
  REQUIRE(b.eval_train);
  CHECK(b.eval_train->acc == 0.85);
  REQUIRE(b.val_batch_stats);
  CHECK(b.val_batch_stats->acc == 0.75);
  CHECK(b.val_batch_stats_batch == 64);

  // The typed accessors read what the document says.
  CHECK(final_value(b, EpochMetric::train_acc) == doctest::Approx(0.7));
  CHECK(test_value(b, Score::loss) == 0.7);
  CHECK(score(b.eval_train, Score::loss) == 0.6);
  CHECK(seconds_through_epoch(b, 2) == 0.375);
  CHECK(seconds_per_step(b) == doctest::Approx(0.375 / 4));
  CHECK_FALSE(first_epoch_reaching(b, 0.5));  // validation accuracy is NaN: never
}

TEST_CASE("add_job_fields adds what job_json adds") {
  RunRecord r = sample_record();
  for (bool diverge : {false, true}) {
    if (diverge) {
      r.status = RunStatus::diverged;
      r.error = "non-finite loss at epoch 2, step 1 (node 7: softmax_cross_entropy)";
      r.test.reset();
    }
    nlohmann::ordered_json entry = run_json(r, job_of(r).extra_config);
    add_job_fields(entry, r);
    CHECK(entry.dump(2) == job_json(r, job_of(r)).dump(2));
  }
}

TEST_CASE("a diverged run and a train/compare run read back to the same entry") {
  RunRecord r = sample_record();
  r.status = RunStatus::diverged;
  r.error = "non-finite gradient at epoch 2";
  r.test.reset();
  const nlohmann::ordered_json diverged_entry = job_json(r, job_of(r));
  CHECK(round_trip(diverged_entry) == diverged_entry.dump(2));
  const RunRecord b = run_from_json(diverged_entry);
  CHECK(diverged(b));
  CHECK(b.error == r.error);
  CHECK_FALSE(b.test);
  CHECK_FALSE(b.eval_train);  // a diverged run's document has no "evals"

  // run_json alone: no "status", "error" or "evals" (train and compare add "status": lab/outputs).
  const RunRecord plain = sample_record();
  const nlohmann::ordered_json entry = run_json(plain);
  CHECK(round_trip(entry) == entry.dump(2));
  const StoredRun s = stored_run_from_json(entry);
  CHECK_FALSE(s.job_form);
  CHECK_FALSE(diverged(s.record));
  CHECK_FALSE(s.record.eval_train);

  // A run without epochs or a test score (interrupted in its first epoch).
  RunRecord empty = sample_record();
  empty.epochs.clear();
  empty.test.reset();
  const nlohmann::ordered_json e = run_json(empty);
  CHECK(round_trip(e) == e.dump(2));
  CHECK(std::isnan(final_value(run_from_json(e), EpochMetric::val_acc)));
}

TEST_CASE("every run status is written by its name and reads back") {
  const std::vector<std::pair<RunStatus, std::string>> names = {{RunStatus::running, "running"},
                                                                {RunStatus::finished, "finished"},
                                                                {RunStatus::interrupted, "interrupted"},
                                                                {RunStatus::diverged, "diverged"}};
  for (const auto& [status, name] : names) {
    CAPTURE(name);
    RunRecord r = sample_record();
    r.status = status;
    if (status != RunStatus::finished) r.test.reset();
    nlohmann::ordered_json entry = run_json(r);
    add_job_fields(entry, r);
    CHECK(entry["status"] == name);
    CHECK(entry.contains("error") == (status == RunStatus::diverged));
    CHECK(round_trip(entry) == entry.dump(2));
    CHECK(run_from_json(entry).status == status);
  }
}

TEST_CASE("an entry that is not a run is an InputError naming the run and the field") {
  nlohmann::ordered_json entry = run_json(sample_record());
  entry["epochs"][0]["steps"] = "two";
  CHECK_THROWS_WITH_AS(run_from_json(entry), "run 'batchnorm-bs64-seed1': \"epochs[0]\" field 'steps': expected an integer, got string", InputError);
  entry = run_json(sample_record());
  entry["status"] = "paused";
  CHECK_THROWS_WITH_AS(run_from_json(entry),
                       "run 'batchnorm-bs64-seed1': \"status\" is \"paused\": not one of running, finished, interrupted, diverged",
                       InputError);
  CHECK_THROWS_AS(run_from_json(nlohmann::ordered_json::array()), InputError);
  CHECK(runs_from_json(nullptr).empty());
}

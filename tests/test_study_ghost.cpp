// Study item 9, per-worker ("local", ghost-batch) or synchronized batch-norm statistics: its verdict
// rule on constructed numbers, its analysis on hand-made runs (one per verdict, and a gap exactly at
// the tolerance), and the jobs its plan builds in both budgets (names, batch sizes, ghost batches).
// The end-to-end run on synthetic data is in test_cli_study.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "lab/study_item.hpp"
#include "lab/study_items.hpp"
#include "lab/study_plan.hpp"

using namespace bnlab;
using namespace bnlab::lab;

namespace {

constexpr int kItem = 9;

const StudyItem& item() {
  const StudyItem* it = find_study_item(kItem);
  REQUIRE(it != nullptr);
  REQUIRE(it->name == "worker statistics");
  return *it;
}

std::string run_name(int64_t per_worker, const std::string& arm, uint64_t seed) {
  return "workers4-b" + std::to_string(per_worker) + "-" + arm + "-seed" + std::to_string(seed);
}

RunRecord finished_run(const std::string& name, double val_acc) {
  RunRecord r;
  r.name = name;
  EpochMetrics m;
  m.epoch = 1;
  m.val_acc = val_acc;
  r.epochs.push_back(m);
  return r;
}

// Final validation accuracy per (per-worker batch, arm), one value per seed.
using Accs = std::map<int64_t, std::map<std::string, std::vector<double>>>;

ItemResult analyze(const Accs& accs, std::vector<uint64_t> seeds) {
  StudyContext study{.budget = study_budget("quick"), .classes = 10, .items = {kItem}};
  study.budget.seeds = seeds;
  study.budget.small_batches.clear();
  std::map<std::string, RunRecord> runs;
  for (const auto& [b, arms] : accs) {
    study.budget.small_batches.push_back(b);
    for (const auto& [arm, values] : arms) {
      REQUIRE(values.size() == seeds.size());
      for (size_t s = 0; s < seeds.size(); ++s) runs[run_name(b, arm, seeds[s])] = finished_run(run_name(b, arm, seeds[s]), values[s]);
    }
  }
  ItemRuns c{study, runs, {}};
  ItemResult r = item().analyze(c);
  CHECK(c.used.size() == runs.size());  // it reads every run of its grid
  return r;
}

}  // namespace

TEST_CASE("worker-statistics verdict: local worse at the smallest per-worker batch, and more so than at the largest") {
  // gap(b) = local − sync, smallest per-worker batch first.
  CHECK(worker_statistics_verdict({-0.20, -0.08, -0.02, 0.0}, 0.01) == Verdict::supported);
  CHECK(worker_statistics_verdict({0.005, -0.01, 0.0, 0.02}, 0.01) == Verdict::not_supported);
  // Worse at every batch, but no worse at 2 rows than at 16: mixed.
  CHECK(worker_statistics_verdict({-0.05, -0.05, -0.05, -0.05}, 0.01) == Verdict::mixed);
  // Worse only in the middle: mixed.
  CHECK(worker_statistics_verdict({0.0, -0.05, 0.0, 0.0}, 0.01) == Verdict::mixed);
  // Exactly at the tolerance: a gap of −tol is no harm (local >= sync − tol) …
  CHECK(worker_statistics_verdict({-0.01, -0.01, 0.0, 0.0}, 0.01) == Verdict::not_supported);
  CHECK(worker_statistics_verdict({-0.25, 0.0}, 0.25) == Verdict::not_supported);
  // … and a growth of exactly tol is no growth (binary-exact numbers).
  CHECK(worker_statistics_verdict({-0.5, -0.25}, 0.25) == Verdict::mixed);
  CHECK(worker_statistics_verdict({-0.5, -0.125}, 0.25) == Verdict::supported);
  CHECK(worker_statistics_verdict({}, 0.01) == Verdict::mixed);
  CHECK(worker_statistics_verdict({NAN, 0.0}, 0.01) == Verdict::mixed);
}

TEST_CASE("worker-statistics analysis on hand-made runs: each verdict, the tolerance and the numbers") {
  SUBCASE("supported: local far below sync at 2 rows per worker, level at 16") {
    const ItemResult r = analyze({{2, {{"local", {0.70, 0.71}}, {"sync", {0.85, 0.85}}, {"plain", {0.84, 0.84}}}},
                                  {16, {{"local", {0.86, 0.86}}, {"sync", {0.86, 0.86}}, {"plain", {0.85, 0.85}}}}},
                                 {0, 1});
    CHECK(r.verdict == Verdict::supported);
    CHECK(r.tolerance == doctest::Approx(0.01));  // the largest std, 0.0071, is under the floor
    REQUIRE(r.numbers["rows"].size() == 2);
    CHECK(r.numbers["columns"][0] == "rows per worker");
    CHECK(r.numbers["rows"][0][0] == "2");
    CHECK(r.numbers["rows"][0][1] == "8");   // global batch
    CHECK(r.numbers["rows"][1][1] == "64");
    CHECK(r.numbers["rows"][0][5] == "-0.1450");
    CHECK(r.numbers["local_minus_sync"][0].get<double>() == doctest::Approx(-0.145));
    CHECK(r.numbers["workers"] == 4);
    REQUIRE(r.figure.panels.size() == 1);
    CHECK(r.figure.panels[0].series.size() == 3);
  }
  SUBCASE("not supported: local level with sync everywhere") {
    const ItemResult r = analyze({{2, {{"local", {0.845, 0.85}}, {"sync", {0.85, 0.85}}, {"plain", {0.84, 0.84}}}},
                                  {4, {{"local", {0.86, 0.855}}, {"sync", {0.855, 0.86}}, {"plain", {0.84, 0.84}}}},
                                  {16, {{"local", {0.86, 0.86}}, {"sync", {0.86, 0.86}}, {"plain", {0.85, 0.85}}}}},
                                 {0, 1});
    CHECK(r.verdict == Verdict::not_supported);
  }
  SUBCASE("mixed: local worse by the same amount at every per-worker batch") {
    const ItemResult r = analyze({{2, {{"local", {0.80}}, {"sync", {0.85}}, {"plain", {0.84}}}},
                                  {16, {{"local", {0.81}}, {"sync", {0.86}}, {"plain", {0.85}}}}},
                                 {0});
    CHECK(r.verdict == Verdict::mixed);
  }
  SUBCASE("the seed-to-seed spread widens the tolerance until a deficit is none") {
    // local at 2 rows: 0.70 and 0.90 (std 0.1414): a mean deficit of 0.05 is within the tolerance.
    const ItemResult r = analyze({{2, {{"local", {0.70, 0.90}}, {"sync", {0.85, 0.85}}, {"plain", {0.84, 0.84}}}},
                                  {16, {{"local", {0.86, 0.86}}, {"sync", {0.86, 0.86}}, {"plain", {0.85, 0.85}}}}},
                                 {0, 1});
    CHECK(r.tolerance == doctest::Approx(std::sqrt(0.02)));
    // Not supported by the rule, but tol 0.1414 ≥ kAccEffect: the data cannot decide.
    CHECK(r.verdict == Verdict::inconclusive);
  }
  SUBCASE("a gap exactly at the tolerance is no harm") {
    // One seed: no spread, tol = 0.01. (0.015 − 0.01) − 0.015 is exactly −0.01 in double.
    const double sync = 0.015, local = sync - 0.01;
    REQUIRE(local - sync == -0.01);
    const ItemResult r = analyze({{2, {{"local", {local}}, {"sync", {sync}}, {"plain", {0.5}}}},
                                  {16, {{"local", {sync}}, {"sync", {sync}}, {"plain", {0.5}}}}},
                                 {0});
    CHECK(r.tolerance == 0.01);
    CHECK(r.verdict == Verdict::not_supported);
  }
  SUBCASE("a diverged run counts as chance") {
    StudyContext study{.budget = study_budget("quick"), .classes = 10, .items = {kItem}};
    study.budget.seeds = {0};
    study.budget.small_batches = {2, 16};
    std::map<std::string, RunRecord> runs;
    for (int64_t b : {2, 16})
      for (const char* arm : {"local", "sync", "plain"}) runs[run_name(b, arm, 0)] = finished_run(run_name(b, arm, 0), 0.85);
    runs[run_name(2, "local", 0)].status = RunStatus::diverged;
    ItemRuns c{study, runs, {}};
    const ItemResult r = item().analyze(c);
    CHECK(r.numbers["local_minus_sync"][0].get<double>() == doctest::Approx(0.1 - 0.85));
    CHECK(r.verdict == Verdict::supported);
  }
}

TEST_CASE("worker-statistics plan: local, sync and plain at global batch 4·b, for both budgets") {
  for (const char* budget : {"quick", "full"}) {
    CAPTURE(budget);
    const StudyOptions o{.budget = study_budget(budget), .items = {kItem}};
    const std::vector<StudyJob> jobs = study_jobs(o, 784, 10);
    const std::vector<int64_t> per_worker = {2, 4, 8, 16};
    REQUIRE(o.budget.small_batches == per_worker);
    REQUIRE(jobs.size() == o.budget.seeds.size() * per_worker.size() * 3);
    CHECK(o.budget.seeds.size() >= (std::string(budget) == "full" ? 3u : 2u));
    size_t at = 0;
    for (uint64_t seed : o.budget.seeds)
      for (int64_t b : per_worker)
        for (const std::string arm : {"local", "sync", "plain"}) {
          CAPTURE(at);
          const StudyJob& job = jobs[at++];
          CHECK(job.item == kItem);
          CHECK(job.seed == seed);
          REQUIRE(job.runs.size() == 1);
          const RunJob& r = job.runs[0];
          CHECK(r.name == run_name(b, arm, seed));
          CHECK(r.config.batch_size == 4 * b);
          CHECK(r.config.drop_last);
          CHECK(r.config.seed == seed);
          CHECK(r.config.epochs == o.budget.epochs_small_batch);
          CHECK(r.config.model == (arm == "plain" ? "plain" : "batchnorm"));
          CHECK(r.extra_config["limit_train"] == o.budget.limit_train);
          int norms = 0;
          for (const LayerSpec& l : r.spec.layers)
            if (l.kind == LayerKind::batch_norm) {
              ++norms;
              CHECK(l.ghost_batches == (arm == "local" ? 4 : 1));
            }
          CHECK(norms == (arm == "plain" ? 0 : 2));  // the MLP's two hidden layers
        }
  }
}

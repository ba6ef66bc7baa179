// The experiment tools: the study's verdict rules on constructed numbers (they are plain functions),
// the figure files, and end to end on the synthetic dataset: `bnlab sweep` (one run per combination,
// resumed on rerun, refusing a changed configuration), `bnlab study --items …` (verdicts in the
// metrics document, a report that links its figures) and `bnlab report`, with and without gnuplot.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "cli_test_support.hpp"
#include "graph/errors.hpp"
#include "lab/plots.hpp"
#include "lab/run_stats.hpp"
#include "lab/run_store.hpp"
#include "lab/study_criteria.hpp"
#include "lab/study_items.hpp"
#include "lab/study_plan.hpp"
#include "skip_support.hpp"

namespace fs = std::filesystem;
using namespace bnlab::test;
using bnlab::lab::Verdict;

namespace {

// Runs bnlab with PATH emptied of gnuplot (of everything: bnlab needs nothing from PATH).
Run run_bnlab_without_gnuplot(const std::string& args, const TempDir& dir) {
  return run_shell("PATH=/nonexistent-bnlab-test " + std::string(BNLAB_TOOL_PATH) + " " + args, dir);
}

std::set<std::string> files_in(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

const std::set<std::string> kVerdicts = {"supported", "not supported", "mixed", "inconclusive"};

}  // namespace

TEST_CASE("mean_std and tolerance") {
  const auto m = bnlab::lab::mean_std({0.8, 0.9, NAN});
  CHECK(m.n == 2);
  CHECK(m.mean == doctest::Approx(0.85));
  CHECK(m.std == doctest::Approx(std::sqrt(0.005)));
  CHECK(bnlab::lab::format_mean_std(m, 2) == "0.85 ± 0.07");
  CHECK(std::isnan(bnlab::lab::mean_std({0.5}).std));
  CHECK(bnlab::lab::format_mean_std(bnlab::lab::mean_std({}), 2) == "-");
  CHECK(bnlab::lab::tolerance({NAN, 0.003}, 0.01) == 0.01);
  CHECK(bnlab::lab::tolerance({0.02, NAN}, 0.01) == 0.02);
}

TEST_CASE("convergence verdict: fewer epochs in every seed and less time, or not") {
  using bnlab::lab::ConvergenceSeed;
  using bnlab::lab::convergence_verdict;
  // BN at epoch 2, plain at 4, BN faster in wall time too.
  CHECK(convergence_verdict({{4, 2, 8.0, 5.0}, {5, 3, 10.0, 7.0}}) == Verdict::supported);
  // Fewer epochs but more wall time (slower epochs): mixed.
  CHECK(convergence_verdict({{4, 2, 8.0, 9.0}, {4, 3, 8.0, 12.0}}) == Verdict::mixed);
  // Plain never reaches it, BN always does: supported regardless of time.
  CHECK(convergence_verdict({{std::nullopt, 6, 0, 30.0}}) == Verdict::supported);
  // Equal epochs everywhere, BN never, or neither: not supported.
  CHECK(convergence_verdict({{2, 2, 4.0, 3.0}, {3, 3, 6.0, 5.0}}) == Verdict::not_supported);
  CHECK(convergence_verdict({{2, std::nullopt, 4.0, 0}}) == Verdict::not_supported);
  CHECK(convergence_verdict({{std::nullopt, std::nullopt, 0, 0}}) == Verdict::not_supported);
  // Faster in one seed, slower in another: mixed.
  CHECK(convergence_verdict({{4, 2, 8.0, 5.0}, {2, 4, 4.0, 10.0}}) == Verdict::mixed);
}

TEST_CASE("learning-rate verdict: the largest rate that trains well") {
  using bnlab::lab::LrCell;
  const std::vector<LrCell> plain = {{1e-3, 0.85, 0}, {1e-2, 0.86, 0}, {1e-1, 0.40, 0}, {1.0, 0.10, 2}};
  const std::vector<LrCell> bn = {{1e-3, 0.85, 0}, {1e-2, 0.87, 0}, {1e-1, 0.86, 0}, {1.0, 0.84, 1}};
  CHECK(bnlab::lab::max_good_lr(plain, 0.87, 0.02) == doctest::Approx(1e-2));
  CHECK(bnlab::lab::max_good_lr(bn, 0.87, 0.02) == doctest::Approx(1e-1));  // 1.0: a seed diverged
  CHECK(bnlab::lab::max_good_lr(plain, 0.99, 0.02) == 0);
  using bnlab::lab::learning_rate_verdict;
  CHECK(learning_rate_verdict({{1e-2, 1e-1}, {1e-3, 1e-2}}) == Verdict::supported);
  CHECK(learning_rate_verdict({{1e-2, 1e-1}, {1e-2, 1e-2}}) == Verdict::mixed);
  CHECK(learning_rate_verdict({{1e-1, 1e-2}, {1e-2, 1e-2}}) == Verdict::not_supported);
}

TEST_CASE("initialization, depth, small-batch, regularization, train/eval and cost verdicts") {
  using namespace bnlab::lab;
  // Spreads (plain, bn) after the last and the first epoch.
  CHECK(init_verdict({.final_plain = 0.2, .final_bn = 0.02, .first_plain = 0.5, .first_bn = 0.1}, 0.01) == Verdict::supported);
  CHECK(init_verdict({.final_plain = 0.2, .final_bn = 0.02, .first_plain = 0.1, .first_bn = 0.1}, 0.01) == Verdict::mixed);
  // A smaller spread by less than the tolerance is no difference.
  CHECK(init_verdict({.final_plain = 0.05, .final_bn = 0.045, .first_plain = 0.1, .first_bn = 0.095}, 0.01) ==
        Verdict::not_supported);

  CHECK(depth_verdict({0.88, 0.85, 0.60}, {0.88, 0.87, 0.85}, 0.01) == Verdict::supported);
  CHECK(depth_verdict({0.88, 0.87, 0.86}, {0.88, 0.875, 0.865}, 0.01) == Verdict::not_supported);
  CHECK(depth_verdict({0.85, 0.85, 0.84}, {0.88, 0.88, 0.87}, 0.01) == Verdict::mixed);  // better, but not because of depth

  CHECK(small_batch_verdict(-0.20, -0.01, 0.01) == Verdict::supported);
  CHECK(small_batch_verdict(-0.02, -0.015, 0.01) == Verdict::not_supported);
  CHECK(small_batch_verdict(0.0, 0.05, 0.01) == Verdict::mixed);  // deteriorates, but no worse than none

  CHECK(regularization_verdict(0.08, 0.03, 0.85, 0.87, 0.01) == Verdict::supported);
  CHECK(regularization_verdict(0.08, 0.03, 0.85, 0.85, 0.01) == Verdict::mixed);
  CHECK(regularization_verdict(0.03, 0.05, 0.86, 0.855, 0.01) == Verdict::not_supported);

  CHECK(train_eval_verdict({0.2, 0.05, 0.0}, 0.01) == Verdict::supported);
  CHECK(train_eval_verdict({-0.2, -0.05}, 0.01) == Verdict::not_supported);
  CHECK(train_eval_verdict({0.2, -0.05}, 0.01) == Verdict::mixed);

  CHECK(cost_verdict({1.3, 1.2, 1.1}, 0.05) == Verdict::supported);
  CHECK(cost_verdict({1.02, 0.9}, 0.05) == Verdict::not_supported);
  CHECK(cost_verdict({1.3, 1.02}, 0.05) == Verdict::mixed);

  for (const bnlab::lab::StudyItem& item : bnlab::lab::study_items()) {
    CHECK(!item.claim.empty());
    CHECK(!item.criterion.empty());
  }
  CHECK(std::string(to_string(Verdict::not_supported)) == "not supported");
  CHECK(std::string(to_string(Verdict::inconclusive)) == "inconclusive");
  // tol >= effect: inconclusive; below it the criterion's verdict stands; NaN (no tolerance) leaves it.
  CHECK(unless_within_noise(Verdict::not_supported, 0.92, kCostEffect) == Verdict::inconclusive);
  CHECK(unless_within_noise(Verdict::supported, 0.25, kCostEffect) == Verdict::inconclusive);
  CHECK(unless_within_noise(Verdict::not_supported, 0.24, kCostEffect) == Verdict::not_supported);
  CHECK(unless_within_noise(Verdict::mixed, 0.05, kAccEffect) == Verdict::inconclusive);
  CHECK(unless_within_noise(Verdict::supported, 0.049, kAccEffect) == Verdict::supported);
  CHECK(unless_within_noise(Verdict::mixed, std::nan(""), kAccEffect) == Verdict::mixed);
}

TEST_CASE("consistency, hyperparameter-sensitivity and regularizers verdicts on plain numbers") {
  using namespace bnlab::lab;
  // Consistency: below kSpreadRatio (0.5) × plain's counts; exactly half does not; NaN cannot decide.
  CHECK(consistency_verdict({.seeds_plain = 0.02, .seeds_bn = 0.009, .steps_plain = 0.4, .steps_bn = 0.1}) == Verdict::supported);
  CHECK(consistency_verdict({.seeds_plain = 0.02, .seeds_bn = 0.01, .steps_plain = 0.4, .steps_bn = 0.1}) == Verdict::mixed);
  CHECK(consistency_verdict({.seeds_plain = 0.02, .seeds_bn = 0.01, .steps_plain = 0.4, .steps_bn = 0.2}) == Verdict::not_supported);
  CHECK(consistency_verdict({.seeds_plain = 0.02, .seeds_bn = 0.001, .steps_plain = std::nan(""), .steps_bn = 0.1}) == Verdict::mixed);
  // Sensitivity: shares of the grid.
  CHECK(sensitivity_verdict(0.25, 0.5) == Verdict::supported);
  CHECK(sensitivity_verdict(0.25, 0.3) == Verdict::mixed);
  CHECK(sensitivity_verdict(0.25, 0.25) == Verdict::not_supported);
  // Regularizers: {acc_gain, gap_reduction} per regularizer.
  CHECK(regularizers_verdict({{0.0, 0.0}, {0.02, -0.01}}, 0.01) == Verdict::supported);
  CHECK(regularizers_verdict({{0.0, 0.02}, {-0.02, 0.0}}, 0.01) == Verdict::mixed);
  CHECK(regularizers_verdict({{0.01, 0.01}, {-0.02, -0.05}}, 0.01) == Verdict::not_supported);
  CHECK(trains_well(0.86, 0, 0.87, 0.02));
  CHECK_FALSE(trains_well(0.85, 1, 0.87, 0.02));
  CHECK_FALSE(trains_well(std::nan(""), 0, 0.87, 0.02));
}

TEST_CASE("study registry: ids 1..N in order, distinct names, reads name items that train runs") {
  using namespace bnlab::lab;
  std::set<std::string> names;
  for (const StudyItem& item : study_items()) {
    CHECK(find_study_item(item.id) == &item);
    CHECK(names.insert(item.name).second);
    CHECK(!item.title.empty());
    for (const ItemReads& r : item.reads) {
      REQUIRE(find_study_item(r.item) != nullptr);
      CHECK(find_study_item(r.item)->jobs);
    }
  }
  CHECK(find_study_item(0) == nullptr);
  CHECK(find_study_item(static_cast<int>(study_items().size()) + 1) == nullptr);
  CHECK(study_item_ids().size() == study_items().size());
}

TEST_CASE("study plan: runs another item reads are trained for the first selected reader, only those it keeps") {
  using namespace bnlab::lab;
  StudyOptions o{.budget = study_budget("quick")};
  o.budget.seeds = {0};
  const auto plan = [&](std::vector<int> items) {
    o.items = std::move(items);
    std::vector<std::string> lines;
    for (const StudyJob& job : study_jobs(o, 784, 10))
      for (const RunJob& r : job.runs) lines.push_back(std::to_string(job.item) + " " + r.name);
    return lines;
  };
  // Item 7 alone: the batch-norm reference run and the batch-norm small-batch runs, for item 7.
  CHECK(plan({7}) == std::vector<std::string>{"7 ref-batchnorm-seed0", "7 batch2-batchnorm-seed0", "7 batch4-batchnorm-seed0",
                                              "7 batch8-batchnorm-seed0", "7 batch16-batchnorm-seed0"});
  // Item 6 reads all of item 1's runs; 7 then adds nothing new there.
  const auto six_seven = plan({6, 7});
  REQUIRE(six_seven.size() == 6);
  CHECK(six_seven[0] == "6 ref-plain-seed0");
  CHECK(six_seven[1] == "6 ref-batchnorm-seed0");
  // A selected item trains its own runs, all of them, even when another reads them.
  const auto one_five_seven = plan({1, 5, 7});
  CHECK(one_five_seven.front() == "1 ref-plain-seed0");
  CHECK(one_five_seven.back() == "5 batch16-layernorm-seed0");
  CHECK(std::count_if(one_five_seven.begin(), one_five_seven.end(), [](const std::string& l) { return l[0] == '7'; }) == 0);
  CHECK_THROWS_AS(plan({0}), bnlab::UsageError);
}

TEST_CASE("config_difference names the first differing field and ignores the split sizes") {
  using bnlab::lab::config_difference;
  const bnlab::lab::json a = {{"epochs", 3}, {"lr", 0.001}, {"train_size", 100}};
  bnlab::lab::json b = a;
  b["train_size"] = 0;
  CHECK(config_difference(a, b).empty());
  b["epochs"] = 5;
  CHECK(config_difference(a, b) == "epochs: 3 there, 5 now");
}

TEST_CASE("figure files: a data block per series and a script that writes SVG and PNG") {
  using namespace bnlab::lab;
  Figure f;
  f.name = "demo";
  f.title = "demo figure";
  Panel p;
  p.title = "acc";
  p.xlabel = "epoch";
  p.series.push_back({.title = "plain", .x = {1, 2}, .y = {0.8, NAN}});
  p.series.push_back({.title = "empty"});
  p.series.push_back({.title = "bn", .x = {1, 2}, .y = {0.7, 0.9}, .err = {0.01, NAN}});
  f.panels = {p, Panel{.title = "nothing"}};
  const std::string data = gnuplot_data(f);
  CHECK(contains(data, "2 NaN"));
  CHECK(contains(data, "# index 2: panel 'acc', series 'bn'"));
  CHECK(contains(data, "2 0.9 0"));  // a NaN error bar is drawn as none
  const std::string script = gnuplot_script(f);
  CHECK(contains(script, "set output 'demo.svg'"));
  CHECK(contains(script, "set output 'demo.png'"));
  CHECK(contains(script, "index 0 using 1:2 "));
  CHECK(contains(script, "index 2 using 1:2:3 with yerrorlines"));
  CHECK(!contains(script, "index 1 "));  // the empty series is not plotted …
  CHECK(contains(script, "'no data'"));  // … and the empty panel says so
  const Figure back = figure_from_json(figure_to_json(f));
  CHECK(back.name == "demo");
  REQUIRE(back.panels.size() == 2);
  REQUIRE(back.panels[0].series.size() == 3);
  CHECK(std::isnan(back.panels[0].series[0].y[1]));
  CHECK(back.panels[0].series[2].err.size() == 2);
}

TEST_CASE("sweep trains one run per (variant, batch size, seed), resumes, and refuses a changed configuration") {
  TempDir dir;
  const std::string out = dir / "sweep", json_path = dir / "sweep.json";
  const std::string args = "sweep --dataset synthetic --epochs 1 --batch-sizes 64,128 --seeds 0,1 --quiet --out " + out;
  const Run first = run_bnlab(args + " --json " + json_path, dir);
  INFO(first.err);
  REQUIRE(first.status == 0);
  CHECK(first.out.empty());  // the summary is text for people: stderr
  CHECK(contains(first.err, "sweep: 8 runs (8 trained, 0 reused)"));
  CHECK(contains(first.err, "epoch val acc >= 0.85"));
  const json doc = read_json(json_path);
  CHECK(doc["command"] == "sweep");
  REQUIRE(doc["runs"].size() == 8);
  std::set<std::string> names;
  for (const json& r : doc["runs"]) {
    names.insert(r["name"].get<std::string>());
    CHECK(r["status"] == "finished");
    CHECK(r.contains("test"));
  }
  for (const char* v : {"plain", "batchnorm"})
    for (const char* b : {"64", "128"})
      for (const char* s : {"0", "1"}) {
        const std::string name = std::string(v) + "-bs" + b + "-seed" + s;
        CHECK(names.count(name) == 1);
        CHECK(fs::exists(fs::path(out) / "runs" / (name + ".json")));
      }
  const json& run = doc["runs"][0];
  CHECK(run["config"]["batch_size"] == 64);
  CHECK(run["config"]["seed"] == 0);
  CHECK(doc["sweep"]["summary"]["rows"].size() == 4);
  CHECK(read_json(out + "/metrics.json") == doc);
  CHECK(fs::exists(out + "/report.md"));
  CHECK(fs::exists(out + "/sweep-accuracy.gp"));

  // Rerun: nothing retrained, the run files untouched.
  const auto stamp = fs::last_write_time(fs::path(out) / "runs" / "plain-bs64-seed0.json");
  const Run again = run_bnlab(args, dir);
  REQUIRE(again.status == 0);
  CHECK(contains(again.err, "sweep: 8 runs (0 trained, 8 reused)"));
  CHECK(fs::last_write_time(fs::path(out) / "runs" / "plain-bs64-seed0.json") == stamp);

  // A lost run (an interrupted sweep) is the only one trained again.
  fs::remove(fs::path(out) / "runs" / "batchnorm-bs128-seed1.json");
  const Run resumed = run_bnlab(args, dir);
  REQUIRE(resumed.status == 0);
  CHECK(contains(resumed.err, "sweep: 8 runs (1 trained, 7 reused)"));

  // Another configuration in the same directory: refused with the difference named, unless --force.
  // (More epochs is not another configuration to a serial sweep: it continues the stored runs,
  // tests/test_cli_sweep_extend.cpp.)
  const std::string changed = "sweep --dataset synthetic --epochs 1 --lr 0.002 --batch-sizes 64 --seeds 0 --quiet --out " + out;
  check_error(run_bnlab(changed, dir), 2, {"plain-bs64-seed0.json", "different configuration", "lr: 0.001 there, 0.002 now", "--force"});
  const Run forced = run_bnlab(changed + " --force", dir);
  REQUIRE(forced.status == 0);
  CHECK(contains(forced.err, "sweep: 2 runs (2 trained, 0 reused)"));
  CHECK(read_json(out + "/runs/plain-bs64-seed0.json")["config"]["lr"] == 0.002);
}

TEST_CASE("study on a subset of items writes verdicts, figures and a report") {
  TempDir dir;
  const std::string out = dir / "study", json_path = dir / "study.json";
  const Run r = run_bnlab("study --dataset synthetic --items 1,5,7 --epochs 1 --seeds 0 --out " + out + " --json " + json_path, dir);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.err, "[1/"));  // progress lines per run
  CHECK(contains(r.err, "small batches"));
  CHECK(r.out.empty());
  const json doc = read_json(json_path);
  CHECK(doc["command"] == "study");
  const json& items = doc["study"]["items"];
  REQUIRE(items.size() == 3);
  std::vector<int> ids;
  for (const json& item : items) {
    ids.push_back(item["id"].get<int>());
    CHECK(kVerdicts.count(item["verdict"].get<std::string>()) == 1);
    CHECK(!item["claim"].get<std::string>().empty());
    CHECK(!item["criterion"].get<std::string>().empty());
    CHECK(item["numbers"]["rows"].size() > 0);
    CHECK(item["runs"].size() > 0);
  }
  CHECK(ids == std::vector<int>{1, 5, 7});
  // Items 1 and 7 share the reference runs; 5 and 7 share the batch-norm small-batch runs.
  std::set<std::string> names;
  for (const json& run : doc["runs"]) names.insert(run["name"].get<std::string>());
  CHECK(names.size() == doc["runs"].size());
  CHECK(names.count("ref-batchnorm-seed0") == 1);
  CHECK(names.count("batch2-layernorm-seed0") == 1);
  CHECK(doc["runs"][1]["evals"].contains("val_batch_stats"));
  CHECK(doc["runs"][0]["evals"].contains("train"));

  const std::string report = read_text(out + "/report.md");
  CHECK(contains(report, "## Verdicts"));
  CHECK(contains(report, "study-item5.png"));
  CHECK(contains(report, "Criterion (fixed in advance)"));
  for (const char* f : {"study-item1", "study-item5", "study-item7", "study-curves", "study-layers"}) {
    CAPTURE(f);
    CHECK(fs::exists(out + "/" + f + ".dat"));
    CHECK(fs::exists(out + "/" + f + ".gp"));
  }
  // Rerun: every run reused, the same verdicts.
  const Run again = run_bnlab("study --dataset synthetic --items 1,5,7 --epochs 1 --seeds 0 --quiet --out " + out, dir);
  REQUIRE(again.status == 0);
  CHECK(contains(again.err, "0 trained"));
  const json doc2 = read_json(out + "/metrics.json");
  for (size_t i = 0; i < items.size(); ++i) CHECK(doc2["study"]["items"][i]["verdict"] == items[i]["verdict"]);
}

TEST_CASE("study item 9 trains local (ghost), sync and plain runs at 4 workers × 2 … 16 rows and decides") {
  TempDir dir;
  const std::string out = dir / "study";
  const Run r = run_bnlab("study --dataset synthetic --items 9 --epochs 1 --seeds 0 --quiet --out " + out, dir);
  INFO(r.err);
  REQUIRE(r.status == 0);
  const json doc = read_json(out + "/metrics.json");
  REQUIRE(doc["study"]["items"].size() == 1);
  const json& item = doc["study"]["items"][0];
  CHECK(item["id"] == 9);
  CHECK(kVerdicts.count(item["verdict"].get<std::string>()) == 1);
  CHECK(item["numbers"]["rows"].size() == 4);
  CHECK(item["runs"].size() == 12);
  REQUIRE(doc["runs"].size() == 12);
  for (const json& run : doc["runs"]) CHECK(run["status"] == "finished");
  CHECK(doc["runs"][0]["name"] == "workers4-b2-local-seed0");
  CHECK(doc["runs"][0]["config"]["batch_size"] == 8);
  CHECK(fs::exists(out + "/study-item9.dat"));
  CHECK(contains(read_text(out + "/report.md"), "study-item9.png"));
}

TEST_CASE("report: figures rendered with gnuplot, or data and scripts with a hint without it") {
  TempDir dir;
  const std::string metrics = dir / "compare.json";
  REQUIRE(run_bnlab("compare --dataset synthetic --epochs 2 --quiet --json " + metrics, dir).status == 0);

  const std::string plain = dir / "plain";
  const Run without = run_bnlab_without_gnuplot("report " + metrics + " --out " + plain, dir);
  INFO(without.err);
  REQUIRE(without.status == 0);
  CHECK(contains(without.err, "gnuplot"));
  CHECK(contains(without.err, "curves.gp"));
  const auto files = files_in(plain);
  for (const char* f : {"curves.dat", "curves.gp", "layers.dat", "layers.gp", "report.md"}) CHECK(files.count(f) == 1);
  CHECK(files.count("curves.png") == 0);
  const std::string report = read_text(plain + "/report.md");
  CHECK(contains(report, "Not rendered"));
  CHECK(contains(report, "| plain |"));

  if (std::system("command -v gnuplot >/dev/null 2>&1") == 0) {
    const std::string rendered = dir / "rendered";
    const Run with = run_bnlab("report " + metrics + " --out " + rendered, dir);
    REQUIRE(with.status == 0);
    for (const char* f : {"curves.png", "curves.svg", "layers.png"}) CHECK(fs::exists(rendered + "/" + f));
    CHECK(contains(read_text(rendered + "/report.md"), "![")) ;
    // The scripts render from any working directory.
    fs::remove(plain + "/curves.png");
    REQUIRE(std::system(("cd / && gnuplot " + plain + "/curves.gp 2>/dev/null").c_str()) == 0);
    CHECK(fs::exists(plain + "/curves.png"));
  } else {
    skip_test("gnuplot not found: the rendered report is not checked (scripts/install-deps installs gnuplot-nox)");
  }

  check_error(run_bnlab("report " + std::string(dir / "missing"), dir), 2, {"report", "missing"});
}

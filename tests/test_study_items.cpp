// The study's analysis of EVERY registered item (lab/study/item_*.cpp) on hand-made runs, through
// analyze_study as `bnlab study` calls it: for each item the runs its plan names, built in memory
// with the numbers its criterion reads, and the verdict the criterion text gives for them —
// supported, not supported and mixed, a value exactly at the tolerance (on the side the criterion
// says), diverged runs (at chance where the item says so), a threshold never reached, one seed (no
// spread: the tolerance is the floor) and a run missing for a seed. Each case checks the summary line
// and the numbers table (the means put in), not only the verdict, and that the item read exactly the
// runs given. The cases are a table keyed by item id: an item in the registry without a case here
// fails "every registered item has analysis cases".
//
// Exactness: a value "exactly at the tolerance" must be exact in double. For rules of the form
// a > b + tol the test writes a as the same expression b + tol; for rules on differences it uses
// dyadic numbers (multiples of 1/64) and three seeds whose values m − d, m, m + d have a sample std
// of exactly d, so tol = d (REQUIREs state each premise).
//
// The rules themselves on plain numbers: test_cli_study.cpp; item 9 in more depth: test_study_ghost.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "graph/errors.hpp"
#include "lab/study_analysis.hpp"
#include "lab/study_items.hpp"

using namespace bnlab;
using namespace bnlab::lab;

namespace {

constexpr double kChance = 0.1;  // 10 classes
constexpr double kD = 1.0 / 32;  // the dyadic tolerance of the exact-boundary cases

// A finished run: one epoch per value of `val_acc` (validation accuracy), each `epoch_seconds` long
// with 10 steps; train accuracy and the test score follow validation accuracy.
RunRecord make_run(const std::string& name, const std::vector<double>& val_acc, double epoch_seconds = 1.0) {
  RunRecord r;
  r.name = name;
  for (size_t i = 0; i < val_acc.size(); ++i) {
    EpochMetrics m;
    m.epoch = static_cast<int>(i) + 1;
    m.val_acc = val_acc[i];
    m.train_acc = val_acc[i];
    m.seconds = epoch_seconds;
    m.steps = 10;
    r.epochs.push_back(m);
  }
  r.test = EvalMetrics{.loss = 0.5, .acc = val_acc.empty() ? 0.0 : val_acc.back(), .samples = 100};
  return r;
}

// What a diverged run has (lab/run_loop.cpp): the epochs it completed, an error, no test, no evals.
void make_diverged(RunRecord& r) {
  r.status = RunStatus::diverged;
  r.error = "non-finite loss";
  r.test.reset();
  r.eval_train.reset();
  r.val_batch_stats.reset();
}

// The runs of one item's case and its analysis.
struct Case {
  StudyContext ctx;
  std::map<std::string, RunRecord> runs;

  Case(int item, std::vector<uint64_t> seeds) : ctx{.budget = study_budget("quick"), .threshold = 0.85, .classes = 10, .items = {item}} {
    ctx.budget.seeds = std::move(seeds);
  }
  const std::vector<uint64_t>& seeds() const { return ctx.budget.seeds; }
  RunRecord& add(const std::string& name, const std::vector<double>& val_acc, double epoch_seconds = 1.0) {
    return runs[name] = make_run(name, val_acc, epoch_seconds);
  }
  // One single-epoch run per seed, final validation accuracy values[i] for the i-th seed (a value
  // given as a single number is every seed's).
  void finals(const std::function<std::string(uint64_t)>& name, std::vector<double> values) {
    if (values.size() == 1) values.assign(seeds().size(), values[0]);
    REQUIRE(values.size() == seeds().size());
    for (size_t i = 0; i < values.size(); ++i) add(name(seeds()[i]), {values[i]});
  }
  // The item's entry of analyze_study; checks that it read exactly the runs given (each case gives
  // only the runs its item reads).
  nlohmann::ordered_json analyze() const {
    const nlohmann::ordered_json items = analyze_study(ctx, runs);
    REQUIRE(items.size() == 1);
    const auto& item = items[0];
    CHECK(item["id"] == ctx.items[0]);
    std::set<std::string> read, given;
    for (const auto& n : item["runs"]) read.insert(n.get<std::string>());
    for (const auto& [name, run] : runs) given.insert(name);
    CHECK(read == given);
    CHECK(item["runs"].size() == read.size());  // each named once
    return item;
  }
  std::string verdict() const { return analyze()["verdict"].get<std::string>(); }
  // Without `name`, the analysis stops with one line naming it.
  void check_missing(const std::string& name) const {
    Case without = *this;
    REQUIRE(without.runs.erase(name) == 1);
    CHECK_THROWS_WITH_AS(analyze_study(without.ctx, without.runs),
                         ("study: the run '" + name + "' is missing (it should have been trained)").c_str(), RuntimeError);
  }
};

std::string cell(const nlohmann::ordered_json& item, size_t row, size_t col) {
  return item["numbers"]["rows"].at(row).at(col).get<std::string>();
}

// Three seeds m − kD, m, m + kD: mean m and sample std exactly kD.
std::vector<double> spread3(double m) { return {m - kD, m, m + kD}; }

// ---- 1. Convergence ------------------------------------------------------------------------------

std::string ref(const std::string& v, uint64_t s) { return fmt::format("ref-{}-seed{}", v, s); }

void item_convergence() {
  SUBCASE("supported: batchnorm reaches T in fewer epochs and less time in every seed; T itself counts as reached") {
    Case c(1, {0, 1});
    c.add(ref("plain", 0), {0.70, 0.80, 0.86, 0.87});
    c.add(ref("plain", 1), {0.70, 0.80, 0.84, 0.90});
    c.add(ref("batchnorm", 0), {0.80, 0.86, 0.88, 0.89}, 1.25);
    c.add(ref("batchnorm", 1), {0.84, 0.85, 0.88, 0.89}, 1.25);  // exactly T at epoch 2
    const auto r = c.analyze();
    CHECK(r["verdict"] == "supported");
    CHECK(r["tolerance"].is_null());
    CHECK(r["summary"] ==
          "val acc >= 0.85: plain at epoch 3.5 ± 0.7 (2/2 seeds reached it, 3.5 ± 0.7 s of training), batchnorm at epoch 2.0 ± 0.0 "
          "(2/2, 2.5 ± 0.0 s)");
    CHECK(r["numbers"]["rows"].size() == 3);
    CHECK(r["numbers"]["rows"][0] == nlohmann::ordered_json({"0", "3", "2", "3.0000", "2.5000", "1.0000", "1.2500"}));
    CHECK(r["numbers"]["rows"][1] == nlohmann::ordered_json({"1", "4", "2", "4.0000", "2.5000", "1.0000", "1.2500"}));
    CHECK(r["numbers"]["rows"][2] == nlohmann::ordered_json({"mean", "3.50 ± 0.71", "2.00 ± 0.00", "3.50 ± 0.71", "2.50 ± 0.00", "", ""}));
    CHECK(r["numbers"]["epochs_plain"] == nlohmann::ordered_json({3, 4}));
    CHECK(r["numbers"]["epochs_bn"] == nlohmann::ordered_json({2, 2}));
    CHECK(r["numbers"]["seconds_bn"] == nlohmann::ordered_json({2.5, 2.5}));
    CHECK(r["numbers"]["threshold"] == 0.85);
    c.check_missing(ref("batchnorm", 1));
  }
  SUBCASE("mixed: fewer epochs but more wall time") {
    Case c(1, {0, 1});
    for (uint64_t s : {0, 1}) {
      c.add(ref("plain", s), {0.70, 0.80, 0.86});  // epoch 3, 3 s
      c.add(ref("batchnorm", s), {0.80, 0.86, 0.88}, 2.0);  // epoch 2, 4 s
    }
    CHECK(c.verdict() == "mixed");
  }
  SUBCASE("mixed: faster in one seed, slower in the other") {
    Case c(1, {0, 1});
    c.add(ref("plain", 0), {0.70, 0.80, 0.86});
    c.add(ref("plain", 1), {0.86, 0.87, 0.88});
    c.add(ref("batchnorm", 0), {0.86, 0.87, 0.88});
    c.add(ref("batchnorm", 1), {0.70, 0.80, 0.86});
    CHECK(c.verdict() == "mixed");
  }
  SUBCASE("not supported: the same epochs in every seed (less time does not help)") {
    Case c(1, {0, 1});
    for (uint64_t s : {0, 1}) {
      c.add(ref("plain", s), {0.70, 0.86});
      c.add(ref("batchnorm", s), {0.80, 0.90}, 0.5);
    }
    CHECK(c.verdict() == "not supported");
  }
  SUBCASE("supported: plain never reaches T, batchnorm always does, however long it takes") {
    Case c(1, {0, 1});
    for (uint64_t s : {0, 1}) {
      c.add(ref("plain", s), {0.70, 0.80, 0.84});
      c.add(ref("batchnorm", s), {0.70, 0.80, 0.86}, 5.0);
    }
    const auto r = c.analyze();
    CHECK(r["verdict"] == "supported");
    CHECK(r["summary"] ==
          "val acc >= 0.85: plain at epoch - (0/2 seeds reached it, - s of training), batchnorm at epoch 3.0 ± 0.0 (2/2, 15.0 ± 0.0 s)");
    CHECK(cell(r, 0, 1) == "never");
    CHECK(cell(r, 0, 3) == "-");
    CHECK(cell(r, 0, 4) == "15.0000");
    CHECK(r["numbers"]["epochs_plain"] == nlohmann::ordered_json({nullptr, nullptr}));
  }
  SUBCASE("not supported: neither reaches T, and the summary says it shows nothing about speed") {
    Case c(1, {0, 1});
    for (uint64_t s : {0, 1}) {
      c.add(ref("plain", s), {0.70, 0.80});
      c.add(ref("batchnorm", s), {0.80, 0.849});
    }
    const auto r = c.analyze();
    CHECK(r["verdict"] == "not supported");
    CHECK(r["summary"] ==
          "val acc >= 0.85: plain at epoch - (0/2 seeds reached it, - s of training), batchnorm at epoch - (0/2, - s); neither "
          "reached the threshold, so this says nothing about speed");
    CHECK(r["numbers"]["rows"][2] == nlohmann::ordered_json({"mean", "-", "-", "-", "-", "", ""}));
  }
  SUBCASE("a batchnorm run that diverged before reaching T has never reached it") {
    Case c(1, {0, 1});
    for (uint64_t s : {0, 1}) c.add(ref("plain", s), {0.70, 0.80, 0.86});
    c.add(ref("batchnorm", 0), {0.80, 0.86, 0.88});
    make_diverged(c.add(ref("batchnorm", 1), {0.84}));
    const auto r = c.analyze();
    CHECK(r["verdict"] == "mixed");  // faster in seed 0, never in seed 1
    CHECK(cell(r, 1, 2) == "never");
  }
  SUBCASE("one seed: the mean has no spread") {
    Case c(1, {7});
    c.add(ref("plain", 7), {0.70, 0.80, 0.86});
    c.add(ref("batchnorm", 7), {0.86, 0.87, 0.88});
    const auto r = c.analyze();
    CHECK(r["verdict"] == "supported");
    CHECK(r["summary"] == "val acc >= 0.85: plain at epoch 3.0 (1/1 seeds reached it, 3.0 s of training), batchnorm at epoch 1.0 (1/1, 1.0 s)");
    CHECK(r["numbers"]["rows"][0][0] == "7");
    c.check_missing(ref("plain", 7));
  }
}

// ---- 2. Learning rates ---------------------------------------------------------------------------

std::string lr_name(const std::string& opt, const std::string& lr, const std::string& v, uint64_t s) {
  return fmt::format("lr-{}-{}-{}-seed{}", opt, lr, v, s);
}
const std::vector<std::string> kLrTexts = {"0.01", "0.1", "1"};  // how the names write 0.01, 0.1, 1.0

// Final validation accuracy per learning rate of {0.01, 0.1, 1} (one per seed, or one for all);
// values below 0 mark a diverged run (its last epoch at −value, which must not count).
using LrAccs = std::vector<std::vector<double>>;
void lr_cells(Case& c, const std::string& opt, const std::string& variant, const LrAccs& per_lr) {
  REQUIRE(per_lr.size() == kLrTexts.size());
  for (size_t i = 0; i < per_lr.size(); ++i) {
    std::vector<double> v = per_lr[i];
    if (v.size() == 1) v.assign(c.seeds().size(), v[0]);
    REQUIRE(v.size() == c.seeds().size());
    for (size_t k = 0; k < v.size(); ++k) {
      RunRecord& r = c.add(lr_name(opt, kLrTexts[i], variant, c.seeds()[k]), {std::abs(v[k])});
      if (v[k] < 0) make_diverged(r);
    }
  }
}
Case lr_case(std::vector<uint64_t> seeds) {
  Case c(2, std::move(seeds));
  c.ctx.budget.learning_rates = {0.01, 0.1, 1.0};
  return c;
}

void item_learning_rates() {
  SUBCASE("supported: for both optimizers batchnorm trains well at a larger rate; diverged seeds count as chance") {
    Case c = lr_case({0, 1});
    lr_cells(c, "sgd", "plain", {{0.80}, {0.86}, {0.30}});
    lr_cells(c, "sgd", "batchnorm", {{0.85}, {0.87}, {0.86}});
    lr_cells(c, "adam", "plain", {{0.86}, {0.50}, {-0.90}});  // diverged at 1 in both seeds, after an epoch at 0.90
    lr_cells(c, "adam", "batchnorm", {{0.86}, {0.86}, {0.20}});
    const auto r = c.analyze();
    CHECK(r["verdict"] == "supported");
    CHECK(r["tolerance"] == 0.01);
    CHECK(r["summary"] == "largest learning rate that trains well — sgd: plain 0.1, batchnorm 1; adam: plain 0.01, batchnorm 0.1");
    const auto& n = r["numbers"];
    CHECK(n["margin"] == 0.02);
    CHECK(n["max_good_lr"]["sgd"]["plain"] == 0.1);
    CHECK(n["max_good_lr"]["sgd"]["batchnorm"] == 1.0);
    CHECK(n["max_good_lr"]["sgd"]["best"] == 0.87);
    CHECK(n["max_good_lr"]["adam"]["best"] == 0.86);  // the diverged 0.90 is not a best
    REQUIRE(n["rows"].size() == 6);
    CHECK(n["rows"][0] == nlohmann::ordered_json({"sgd", "0.01", "0.8000 ± 0.0000", "0/2", "0.8500 ± 0.0000", "0/2"}));
    CHECK(n["rows"][5] == nlohmann::ordered_json({"adam", "1", "0.1000 ± 0.0000", "2/2", "0.2000 ± 0.0000", "0/2"}));
    c.check_missing(lr_name("adam", "1", "batchnorm", 1));
  }
  SUBCASE("not supported: the same largest rate for both optimizers") {
    Case c = lr_case({0, 1});
    for (const char* opt : {"sgd", "adam"})
      for (const char* v : {"plain", "batchnorm"}) lr_cells(c, opt, v, {{0.85}, {0.86}, {0.30}});
    CHECK(c.verdict() == "not supported");
  }
  SUBCASE("mixed: higher with sgd only") {
    Case c = lr_case({0, 1});
    lr_cells(c, "sgd", "plain", {{0.80}, {0.86}, {0.30}});
    lr_cells(c, "sgd", "batchnorm", {{0.85}, {0.87}, {0.86}});
    for (const char* v : {"plain", "batchnorm"}) lr_cells(c, "adam", v, {{0.86}, {0.50}, {0.20}});
    CHECK(c.verdict() == "mixed");
  }
  SUBCASE("a mean exactly best − margin trains well; just below it does not") {
    for (const bool at : {true, false}) {
      CAPTURE(at);
      Case c = lr_case({0});
      const double edge = 0.87 - 0.02;  // best − margin, as the rule computes it
      lr_cells(c, "sgd", "plain", {{0.87}, {0.50}, {0.30}});
      lr_cells(c, "sgd", "batchnorm", {{0.87}, {at ? edge : std::nextafter(edge, 0.0)}, {0.30}});
      lr_cells(c, "adam", "plain", {{0.86}, {0.20}, {0.20}});
      lr_cells(c, "adam", "batchnorm", {{0.86}, {0.86}, {0.20}});
      const auto r = c.analyze();
      CHECK(r["numbers"]["max_good_lr"]["sgd"]["batchnorm"] == (at ? 0.1 : 0.01));
      CHECK(r["verdict"] == (at ? "supported" : "mixed"));
    }
  }
  SUBCASE("trains well at no rate: every run of plain diverged") {
    Case c = lr_case({0});
    lr_cells(c, "sgd", "plain", {{-0.90}, {-0.90}, {-0.90}});
    lr_cells(c, "sgd", "batchnorm", {{0.50}, {0.86}, {-0.95}});  // diverged at 1: not good, not the best
    lr_cells(c, "adam", "plain", {{0.86}, {0.20}, {0.20}});
    lr_cells(c, "adam", "batchnorm", {{0.86}, {0.86}, {0.20}});
    const auto r = c.analyze();
    CHECK(r["verdict"] == "supported");
    CHECK(r["summary"] == "largest learning rate that trains well — sgd: plain none, batchnorm 0.1; adam: plain 0.01, batchnorm 0.1");
    CHECK(r["numbers"]["max_good_lr"]["sgd"]["plain"] == 0.0);
    CHECK(r["numbers"]["max_good_lr"]["sgd"]["best"] == 0.86);
    CHECK(r["numbers"]["rows"][0] == nlohmann::ordered_json({"sgd", "0.01", "0.1000", "1/1", "0.5000", "0/1"}));
    CHECK(r["numbers"]["rows"][2] == nlohmann::ordered_json({"sgd", "1", "0.1000", "1/1", "0.1000", "1/1"}));
  }
  SUBCASE("the seed-to-seed spread widens the margin beyond 0.02") {
    Case c = lr_case({0, 1});
    for (const char* opt : {"sgd", "adam"}) {
      lr_cells(c, opt, "plain", {{0.85}, {0.80, 0.90}, {0.30}});
      lr_cells(c, opt, "batchnorm", {{0.85}, {0.85}, {0.80}});  // 0.05 under the best: good only with the wider margin
    }
    const auto r = c.analyze();
    CHECK(r["tolerance"].get<double>() == doctest::Approx(std::sqrt(0.005)));
    CHECK(r["numbers"]["margin"].get<double>() == doctest::Approx(std::sqrt(0.005)));
    CHECK(r["numbers"]["max_good_lr"]["adam"]["batchnorm"] == 1.0);
    // Batch norm trains well at a larger rate with both optimizers, but tol = 0.0707 ≥ kAccEffect:
    // the seeds disagree more than the effects claimed, so the verdict is inconclusive.
    CHECK(r["verdict"] == "inconclusive");
  }
}

// ---- 3. Initialization ---------------------------------------------------------------------------

std::string init_name(const std::string& scale, const std::string& v, uint64_t s) { return fmt::format("init-x{}-{}-seed{}", scale, v, s); }
const std::vector<std::string> kScaleTexts = {"0.1", "1", "10"};  // the quick budget's 0.1, 1.0, 10.0

// Per scale: {first, final}, the validation accuracy after epoch 1 and after epoch 2 (the last) of
// every seed; or three values, one per seed of a three-seed case (first = final in that cell).
void init_cells(Case& c, const std::string& v, const std::vector<std::vector<double>>& first_final) {
  REQUIRE(first_final.size() == kScaleTexts.size());
  for (size_t i = 0; i < first_final.size(); ++i)
    for (size_t k = 0; k < c.seeds().size(); ++k) {
      const std::vector<double>& ff = first_final[i];
      if (ff.size() == 2) c.add(init_name(kScaleTexts[i], v, c.seeds()[k]), ff);
      else c.add(init_name(kScaleTexts[i], v, c.seeds()[k]), {ff.at(k), ff.at(k)});
    }
}

void item_initialization() {
  SUBCASE("supported: batchnorm's spread is smaller after epoch 1 and at the end") {
    Case c(3, {0});
    init_cells(c, "plain", {{0.2, 0.5}, {0.7, 0.85}, {0.3, 0.6}});
    init_cells(c, "batchnorm", {{0.7, 0.85}, {0.75, 0.86}, {0.72, 0.85}});
    const auto r = c.analyze();
    CHECK(r["verdict"] == "supported");
    CHECK(r["tolerance"] == 0.01);
    CHECK(r["summary"] ==
          "spread of validation accuracy over weight scales 0.1/1/10 — after epoch 1: plain 0.5000, batchnorm 0.0500; final: plain "
          "0.3500, batchnorm 0.0100 (tol 0.0100)");
    REQUIRE(r["numbers"]["rows"].size() == 4);
    CHECK(r["numbers"]["rows"][0] == nlohmann::ordered_json({"×0.1", "0.2000", "0.5000", "0.7000", "0.8500"}));
    CHECK(r["numbers"]["rows"][3] == nlohmann::ordered_json({"spread (max − min)", "0.5000", "0.3500", "0.0500", "0.0100"}));
    CHECK(r["numbers"]["spread"]["first_plain"].get<double>() == doctest::Approx(0.5));
    CHECK(r["numbers"]["spread"]["final_bn"].get<double>() == doctest::Approx(0.01));
    c.check_missing(init_name("10", "batchnorm", 0));
  }
  SUBCASE("mixed: smaller only at the end; not supported: in neither") {
    Case c(3, {0});
    init_cells(c, "plain", {{0.2, 0.5}, {0.7, 0.85}, {0.3, 0.6}});
    init_cells(c, "batchnorm", {{0.2, 0.85}, {0.7, 0.86}, {0.3, 0.85}});
    CHECK(c.verdict() == "mixed");
    init_cells(c, "batchnorm", {{0.2, 0.5}, {0.7, 0.85}, {0.3, 0.6}});
    CHECK(c.verdict() == "not supported");
  }
  SUBCASE("a spread smaller by exactly tol is no smaller; by more, it is") {
    for (const bool at : {true, false}) {
      CAPTURE(at);
      Case c(3, {0, 1, 2});
      // Plain's first-epoch means 0.25, 0.5, 0.75 (spread 0.5); one cell spread over the seeds by kD
      // (tol = kD); batchnorm's first-epoch spread 0.5 − kD exactly, or 0.5 − 2 kD.
      init_cells(c, "plain", {{0.25, 0.25}, spread3(0.5), {0.75, 0.75}});
      init_cells(c, "batchnorm", {{0.25, 0.5}, {0.5, 0.5}, {at ? 0.75 - kD : 0.75 - 2 * kD, 0.5}});
      const auto r = c.analyze();
      CHECK(r["tolerance"] == kD);
      CHECK(r["numbers"]["spread"]["first_bn"] == (at ? 0.5 - kD : 0.5 - 2 * kD));
      CHECK(r["verdict"] == (at ? "mixed" : "supported"));
    }
  }
  SUBCASE("diverged runs count as chance: in epoch 1 for both measures, later for the final one") {
    Case c(3, {0});
    init_cells(c, "plain", {{0.80, 0.85}, {0.80, 0.85}, {0.80, 0.85}});
    init_cells(c, "batchnorm", {{0.80, 0.85}, {0.80, 0.85}, {0.80, 0.85}});
    make_diverged(c.runs[init_name("10", "plain", 0)] = make_run(init_name("10", "plain", 0), {}));  // in epoch 1
    make_diverged(c.runs[init_name("0.1", "batchnorm", 0)] = make_run(init_name("0.1", "batchnorm", 0), {0.80}));  // in epoch 2
    const auto r = c.analyze();
    CHECK(r["numbers"]["rows"][2] == nlohmann::ordered_json({"×10", "0.1000", "0.1000", "0.8000", "0.8500"}));
    CHECK(r["numbers"]["rows"][0] == nlohmann::ordered_json({"×0.1", "0.8000", "0.8500", "0.8000", "0.1000"}));
    CHECK(r["numbers"]["spread"]["first_plain"].get<double>() == doctest::Approx(0.7));
    CHECK(r["numbers"]["spread"]["first_bn"] == 0.0);
    CHECK(r["numbers"]["spread"]["final_bn"].get<double>() == doctest::Approx(0.75));
    CHECK(r["verdict"] == "mixed");  // smaller after epoch 1, not at the end
  }
}

// ---- 4. Depth ------------------------------------------------------------------------------------

std::string depth_name(int d, const std::string& v, uint64_t s) { return fmt::format("depth{}-{}-seed{}", d, v, s); }

// Final validation accuracy per depth (2, 4, 8), per seed or one for all; fc1's gradient norm in epoch 1.
void depth_cells(Case& c, const std::string& v, const std::vector<std::vector<double>>& per_depth, const std::vector<double>& grads = {}) {
  const std::vector<int> depths = {2, 4, 8};
  REQUIRE(per_depth.size() == depths.size());
  for (size_t i = 0; i < depths.size(); ++i) {
    std::vector<double> a = per_depth[i];
    if (a.size() == 1) a.assign(c.seeds().size(), a[0]);
    for (size_t k = 0; k < c.seeds().size(); ++k) {
      RunRecord& r = c.add(depth_name(depths[i], v, c.seeds()[k]), {a.at(k)});
      if (!grads.empty()) r.epochs[0].grad_norms = {{"fc0.weight", 99.0}, {"fc1.weight", grads.at(i)}};
    }
  }
}

void item_depth() {
  SUBCASE("supported: batchnorm better at the deepest and loses less from shallow to deep") {
    Case c(4, {0, 1});
    depth_cells(c, "plain", {{0.88}, {0.80, 0.82}, {0.60, 0.62}}, {0.5, 0.05, 0.001});
    depth_cells(c, "batchnorm", {{0.88}, {0.87}, {0.86}}, {0.5, 0.4, 0.3});
    const auto r = c.analyze();
    CHECK(r["verdict"] == "supported");
    CHECK(r["tolerance"].get<double>() == doctest::Approx(std::sqrt(0.0002)));  // std of {0.60, 0.62}
    CHECK(r["summary"] ==
          "final validation accuracy at 2 hidden layers: plain 0.8800, batchnorm 0.8800; at 8: plain 0.6100, batchnorm 0.8600 (tol 0.0141)");
    REQUIRE(r["numbers"]["rows"].size() == 3);
    CHECK(r["numbers"]["rows"][0] == nlohmann::ordered_json({"2", "0.8800 ± 0.0000", "0.8800 ± 0.0000", "+0.0000", "0.5", "0.5"}));
    CHECK(r["numbers"]["rows"][2] == nlohmann::ordered_json({"8", "0.6100 ± 0.0141", "0.8600 ± 0.0000", "+0.2500", "0.001", "0.3"}));
    c.check_missing(depth_name(8, "plain", 1));
  }
  SUBCASE("not supported: never better by more than tol; mixed: better everywhere by the same amount") {
    Case c(4, {0, 1});
    depth_cells(c, "plain", {{0.88}, {0.85}, {0.80}});
    depth_cells(c, "batchnorm", {{0.885}, {0.855}, {0.805}});
    CHECK(c.verdict() == "not supported");
    depth_cells(c, "batchnorm", {{0.91}, {0.88}, {0.83}});
    CHECK(c.verdict() == "mixed");
  }
  SUBCASE("better at the deepest by exactly tol is not better; by a hair more it is") {
    for (const bool at : {true, false}) {
      CAPTURE(at);
      Case c(4, {0});
      const double edge = 0.25 + 0.01;  // plain's deepest + tol, as the rule computes it
      depth_cells(c, "plain", {{0.75}, {0.5}, {0.25}});
      depth_cells(c, "batchnorm", {{0.70}, {0.5}, {at ? edge : std::nextafter(edge, 1.0)}});
      const auto r = c.analyze();
      CHECK(r["tolerance"] == 0.01);
      CHECK(r["verdict"] == (at ? "not supported" : "supported"));
    }
  }
  SUBCASE("diverged runs count as chance; a run with no epoch has no gradient norm") {
    Case c(4, {0, 1});
    depth_cells(c, "plain", {{0.88}, {0.85}, {0.70}}, {0.5, 0.05, 0.001});
    depth_cells(c, "batchnorm", {{0.88}, {0.80}, {0.60}}, {0.5, 0.4, 0.3});
    make_diverged(c.runs[depth_name(8, "plain", 0)]);  // after an epoch at 0.70
    make_diverged(c.runs[depth_name(8, "plain", 1)] = make_run(depth_name(8, "plain", 1), {}));
    const auto r = c.analyze();
    // plain at 8: chance in both seeds, while its raw 0.70 would beat batchnorm's 0.60.
    CHECK(r["numbers"]["rows"][2] == nlohmann::ordered_json({"8", "0.1000 ± 0.0000", "0.6000 ± 0.0000", "+0.5000", "0.001", "0.3"}));
    CHECK(r["verdict"] == "supported");
    make_diverged(c.runs[depth_name(8, "plain", 0)] = make_run(depth_name(8, "plain", 0), {}));
    CHECK(cell(c.analyze(), 2, 4) == "-");  // no epoch in any seed: no gradient norm
  }
}

// ---- 5. Small batches ----------------------------------------------------------------------------

std::string batch_name(int64_t b, const std::string& v, uint64_t s) { return fmt::format("batch{}-{}-seed{}", b, v, s); }

// Final validation accuracy per batch size of c.ctx.budget.small_batches for `variant`.
void batch_cells(Case& c, const std::string& v, const std::vector<std::vector<double>>& per_batch) {
  const auto& batches = c.ctx.budget.small_batches;
  REQUIRE(per_batch.size() == batches.size());
  for (size_t i = 0; i < batches.size(); ++i) c.finals([&](uint64_t s) { return batch_name(batches[i], v, s); }, per_batch[i]);
}
Case batch_case(int item, std::vector<uint64_t> seeds, std::vector<int64_t> batches) {
  Case c(item, std::move(seeds));
  c.ctx.budget.small_batches = std::move(batches);
  return c;
}

void item_small_batches() {
  SUBCASE("supported: batchnorm worse than none at batch 2, level at 16") {
    Case c = batch_case(5, {0, 1}, {2, 4, 8, 16});
    batch_cells(c, "plain", {{0.80}, {0.82}, {0.83}, {0.85}});
    batch_cells(c, "batchnorm", {{0.60, 0.62}, {0.75}, {0.82}, {0.86}});
    batch_cells(c, "layernorm", {{0.79}, {0.80}, {0.81}, {0.84}});
    const auto r = c.analyze();
    CHECK(r["verdict"] == "supported");
    CHECK(r["tolerance"].get<double>() == doctest::Approx(std::sqrt(0.0002)));
    CHECK(r["summary"] ==
          "batchnorm − none in final validation accuracy: -0.1900 at batch 2, +0.0100 at batch 16; layernorm − none: -0.0100 and "
          "-0.0100 (tol 0.0141)");
    REQUIRE(r["numbers"]["rows"].size() == 4);
    CHECK(r["numbers"]["rows"][0] ==
          nlohmann::ordered_json({"2", "0.8000 ± 0.0000", "0.6100 ± 0.0141", "0.7900 ± 0.0000", "-0.1900", "-0.0100"}));
    CHECK(r["numbers"]["rows"][1] ==
          nlohmann::ordered_json({"4", "0.8200 ± 0.0000", "0.7500 ± 0.0000", "0.8000 ± 0.0000", "-0.0700", "-0.0200"}));
    CHECK(r["numbers"]["gap_smallest"].get<double>() == doctest::Approx(-0.19));
    CHECK(r["numbers"]["gap_largest"].get<double>() == doctest::Approx(0.01));
    c.check_missing(batch_name(16, "layernorm", 1));
  }
  SUBCASE("not supported: no deterioration; mixed: deteriorates but no worse than none") {
    Case c = batch_case(5, {0, 1}, {2, 16});
    batch_cells(c, "plain", {{0.80}, {0.85}});
    batch_cells(c, "batchnorm", {{0.80}, {0.85}});
    batch_cells(c, "layernorm", {{0.80}, {0.85}});
    CHECK(c.verdict() == "not supported");
    batch_cells(c, "batchnorm", {{0.80}, {0.90}});
    CHECK(c.verdict() == "mixed");
  }
  SUBCASE("gaps exactly at the tolerance fall on the 'no' side") {
    struct Edge {
      double plain2, bn16;
      const char* verdict;
    };
    // gap(2) = 0.75 − plain2, gap(16) = bn16 − 0.5; tol = kD (batchnorm's cell at 8 spread by kD).
    for (const Edge& e : {Edge{0.75 + kD, 0.75, "mixed"},            // gap(2) = −tol: not worse than none
                          Edge{0.75 + 2 * kD, 0.75, "supported"},   // gap(2) = −2 tol
                          Edge{0.75 + kD, 0.5, "not supported"},     // gap(2) = gap(16) − tol: no deterioration
                          Edge{0.75 + 2 * kD, 0.5, "supported"}}) {  // gap(2) = gap(16) − 2 tol
      CAPTURE(e.plain2);
      CAPTURE(e.bn16);
      Case c = batch_case(5, {0, 1, 2}, {2, 8, 16});
      batch_cells(c, "plain", {{e.plain2}, {0.5}, {0.5}});
      batch_cells(c, "batchnorm", {{0.75}, spread3(0.5), {e.bn16}});
      batch_cells(c, "layernorm", {{0.5}, {0.5}, {0.5}});
      const auto r = c.analyze();
      CHECK(r["tolerance"] == kD);
      CHECK(r["numbers"]["gap_smallest"] == 0.75 - e.plain2);
      CHECK(r["verdict"] == e.verdict);
    }
  }
  SUBCASE("the tolerance comes from the compared cells (batchnorm and none), not from layer norm beside them") {
    Case c = batch_case(5, {0, 1, 2}, {2, 16});
    batch_cells(c, "plain", {{0.80}, {0.85}});
    batch_cells(c, "batchnorm", {{0.75}, {0.85}});
    batch_cells(c, "layernorm", {{0.5, 0.7, 0.9}, {0.84}});  // std 0.2
    const auto r = c.analyze();
    CHECK(r["tolerance"] == 0.01);
    CHECK(r["verdict"] == "supported");  // gap(2) = −0.05
  }
  SUBCASE("diverged runs count as chance") {
    Case c = batch_case(5, {0, 1}, {2, 16});
    batch_cells(c, "plain", {{0.80}, {0.85}});
    batch_cells(c, "batchnorm", {{0.80}, {0.85}});
    batch_cells(c, "layernorm", {{0.80}, {0.85}});
    for (uint64_t s : {0, 1}) make_diverged(c.runs[batch_name(2, "batchnorm", s)]);  // after an epoch at 0.80
    const auto r = c.analyze();
    CHECK(cell(r, 0, 2) == "0.1000 ± 0.0000");
    CHECK(r["numbers"]["gap_smallest"].get<double>() == doctest::Approx(kChance - 0.80));
    CHECK(r["verdict"] == "supported");
  }
  SUBCASE("one seed") {
    Case c = batch_case(5, {3}, {2, 16});
    batch_cells(c, "plain", {{0.80}, {0.85}});
    batch_cells(c, "batchnorm", {{0.70}, {0.86}});
    batch_cells(c, "layernorm", {{0.79}, {0.84}});
    const auto r = c.analyze();
    CHECK(r["verdict"] == "supported");
    CHECK(r["numbers"]["rows"][0] == nlohmann::ordered_json({"2", "0.8000", "0.7000", "0.7900", "-0.1000", "-0.0100"}));
  }
}

// ---- 6. Regularization ---------------------------------------------------------------------------

// Item 1's reference run with training-split accuracy `train` (eval mode) and final validation `val`.
void reg_run(Case& c, const std::string& v, uint64_t s, double train, double val, double test) {
  RunRecord& r = c.add(ref(v, s), {val});
  r.eval_train = EvalMetrics{.loss = 0.1, .acc = train, .samples = 8000};
  r.test->acc = test;
}

void item_regularization() {
  SUBCASE("supported: a smaller gap and a higher validation accuracy") {
    Case c(6, {0, 1});
    for (uint64_t s : {0, 1}) {
      reg_run(c, "plain", s, 0.98, 0.85, 0.84);
      reg_run(c, "batchnorm", s, 0.95, 0.88, 0.87);
    }
    const auto r = c.analyze();
    CHECK(r["verdict"] == "supported");
    CHECK(r["tolerance"] == 0.01);
    CHECK(r["summary"] ==
          "train − validation accuracy gap: plain 0.1300, batchnorm 0.0700; validation accuracy: plain 0.8500, batchnorm 0.8800 (tol 0.0100)");
    CHECK(r["numbers"]["rows"][0] == nlohmann::ordered_json({"plain", "0.9800 ± 0.0000", "0.8500 ± 0.0000", "0.1300 ± 0.0000", "0.8400 ± 0.0000"}));
    CHECK(r["numbers"]["rows"][1] ==
          nlohmann::ordered_json({"batchnorm", "0.9500 ± 0.0000", "0.8800 ± 0.0000", "0.0700 ± 0.0000", "0.8700 ± 0.0000"}));
    c.check_missing(ref("plain", 0));
  }
  SUBCASE("mixed: a smaller gap at the same validation accuracy; not supported: neither") {
    Case c(6, {0, 1});
    for (uint64_t s : {0, 1}) {
      reg_run(c, "plain", s, 0.98, 0.85, 0.84);
      reg_run(c, "batchnorm", s, 0.92, 0.85, 0.84);
    }
    CHECK(c.verdict() == "mixed");
    for (uint64_t s : {0, 1}) reg_run(c, "batchnorm", s, 0.98, 0.85, 0.84);
    CHECK(c.verdict() == "not supported");
  }
  SUBCASE("validation higher by exactly tol is not higher; by a hair more it is") {
    for (const bool at : {true, false}) {
      CAPTURE(at);
      Case c(6, {0});
      const double edge = 0.85 + 0.01;  // plain's validation accuracy + tol, as the rule computes it
      reg_run(c, "plain", 0, 0.98, 0.85, 0.84);
      reg_run(c, "batchnorm", 0, 0.90, at ? edge : std::nextafter(edge, 1.0), 0.85);
      const auto r = c.analyze();
      CHECK(r["tolerance"] == 0.01);
      CHECK(r["verdict"] == (at ? "mixed" : "supported"));
    }
  }
  SUBCASE("a diverged run counts as chance in validation accuracy and has no gap") {
    Case c(6, {0, 1});
    for (uint64_t s : {0, 1}) reg_run(c, "plain", s, 0.98, 0.85, 0.84);
    reg_run(c, "batchnorm", 0, 0.95, 0.88, 0.87);
    reg_run(c, "batchnorm", 1, 0.95, 0.88, 0.87);
    make_diverged(c.runs[ref("batchnorm", 1)]);  // its last epoch at 0.88
    const auto r = c.analyze();
    // Validation {0.88, chance}: mean 0.49, std 0.78/√2; gap and train from seed 0 alone.
    CHECK(r["numbers"]["rows"][1] == nlohmann::ordered_json({"batchnorm", "0.9500", "0.4900 ± 0.5515", "0.0700", "0.8700"}));
    CHECK(r["tolerance"].get<double>() == doctest::Approx(0.78 / std::sqrt(2.0)));
    CHECK(r["verdict"] == "inconclusive");  // "not supported" by the rule, but tol 0.55 ≥ kAccEffect
  }
}

// ---- 7. Train/eval -------------------------------------------------------------------------------

// A batch-norm run with validation accuracy `running` (eval mode) and `batch` (batch statistics).
void te_run(Case& c, const std::string& name, double running, double batch) {
  RunRecord& r = c.add(name, {running});
  r.val_batch_stats = EvalMetrics{.loss = 0.4, .acc = batch, .samples = 2000};
  r.val_batch_stats_batch = 2;
}
// Per point (item 5's batches 2 and 16, then item 1's reference at 32): running and batch accuracy.
void te_cells(Case& c, const std::vector<std::vector<double>>& running, const std::vector<std::vector<double>>& batch) {
  REQUIRE(running.size() == 3);
  for (size_t k = 0; k < c.seeds().size(); ++k) {
    const uint64_t s = c.seeds()[k];
    const auto at = [&](const std::vector<double>& v) { return v.size() == 1 ? v[0] : v.at(k); };
    te_run(c, batch_name(2, "batchnorm", s), at(running[0]), at(batch[0]));
    te_run(c, batch_name(16, "batchnorm", s), at(running[1]), at(batch[1]));
    te_run(c, ref("batchnorm", s), at(running[2]), at(batch[2]));
  }
}

void item_train_eval() {
  SUBCASE("supported: running statistics at least as good at every batch size") {
    Case c = batch_case(7, {0, 1}, {2, 16});
    te_cells(c, {{0.70}, {0.85}, {0.88}}, {{0.60}, {0.84}, {0.88}});
    const auto r = c.analyze();
    CHECK(r["verdict"] == "supported");
    CHECK(r["tolerance"] == 0.01);
    CHECK(r["summary"] == "validation accuracy, running − batch statistics: +0.1000 at batch 2, +0.0100 at batch 16, +0.0000 at batch 32 (tol 0.0100)");
    REQUIRE(r["numbers"]["rows"].size() == 3);
    CHECK(r["numbers"]["rows"][0] == nlohmann::ordered_json({"2", "0.7000 ± 0.0000", "0.6000 ± 0.0000", "0.1000 ± 0.0000"}));
    CHECK(r["numbers"]["rows"][2] == nlohmann::ordered_json({"32", "0.8800 ± 0.0000", "0.8800 ± 0.0000", "0.0000 ± 0.0000"}));
    c.check_missing(ref("batchnorm", 1));
  }
  SUBCASE("not supported: short at every batch size; mixed: short at one") {
    Case c = batch_case(7, {0, 1}, {2, 16});
    te_cells(c, {{0.70}, {0.80}, {0.83}}, {{0.80}, {0.85}, {0.88}});
    CHECK(c.verdict() == "not supported");
    te_cells(c, {{0.70}, {0.85}, {0.88}}, {{0.80}, {0.85}, {0.88}});
    CHECK(c.verdict() == "mixed");
  }
  SUBCASE("short by exactly tol still counts as at least as good") {
    for (const bool at : {true, false}) {
      CAPTURE(at);
      Case c = batch_case(7, {0, 1, 2}, {2, 16});
      te_cells(c, {{0.75}, spread3(0.75), {0.75}}, {{at ? 0.75 + kD : 0.75 + 2 * kD}, spread3(0.75), {0.75}});
      const auto r = c.analyze();
      CHECK(r["tolerance"] == kD);
      CHECK(r["verdict"] == (at ? "supported" : "mixed"));
    }
  }
  SUBCASE("diverged runs are left out (they have no batch-statistics evaluation); a point with none left is skipped") {
    Case c = batch_case(7, {0, 1}, {2, 16});
    te_cells(c, {{0.95}, {0.80, 0.70}, {0.80}}, {{0.60}, {0.85}, {0.85}});
    for (uint64_t s : {0, 1}) make_diverged(c.runs[batch_name(2, "batchnorm", s)]);
    make_diverged(c.runs[batch_name(16, "batchnorm", 1)]);
    const auto r = c.analyze();
    CHECK(r["numbers"]["rows"][0] == nlohmann::ordered_json({"2", "-", "-", "-"}));
    CHECK(r["numbers"]["rows"][1] == nlohmann::ordered_json({"16", "0.8000", "0.8500", "-0.0500"}));
    CHECK(r["summary"] == "validation accuracy, running − batch statistics: -0.0500 at batch 16, -0.0500 at batch 32 (tol 0.0100)");
    CHECK(r["verdict"] == "not supported");
  }
}

// ---- 8. Cost -------------------------------------------------------------------------------------

std::string cost_name(int64_t b, const std::string& v, uint64_t s) { return fmt::format("cost-bs{}-{}-seed{}", b, v, s); }

// A run of one epoch of `seconds` over `steps` steps.
void cost_run(Case& c, int64_t b, const std::string& v, uint64_t s, double seconds, int64_t steps) {
  RunRecord& r = c.add(cost_name(b, v, s), {0.85}, seconds);
  r.epochs[0].steps = steps;
}
Case cost_case(std::vector<uint64_t> seeds) {
  Case c(8, std::move(seeds));
  c.ctx.budget.cost_batches = {32, 512};
  return c;
}

void item_cost() {
  SUBCASE("supported: batchnorm costs more than 1 + tol at every batch size") {
    Case c = cost_case({0, 1});
    for (uint64_t s : {0, 1}) {
      cost_run(c, 32, "plain", s, 1.0, 100);
      cost_run(c, 32, "batchnorm", s, 1.3, 100);
      cost_run(c, 512, "plain", s, 0.5, 10);
      cost_run(c, 512, "batchnorm", s, 0.6, 10);
    }
    const auto r = c.analyze();
    CHECK(r["verdict"] == "supported");
    CHECK(r["tolerance"] == 0.05);
    CHECK(r["summary"] == "batchnorm / plain seconds per step: 1.30 at batch 32, 1.20 at batch 512 (tol 5%)");
    CHECK(r["numbers"]["rows"][0] == nlohmann::ordered_json({"32", "10.0000 ± 0.0000", "13.0000 ± 0.0000", "1.300"}));
    CHECK(r["numbers"]["rows"][1] == nlohmann::ordered_json({"512", "50.0000 ± 0.0000", "60.0000 ± 0.0000", "1.200"}));
    REQUIRE(r["numbers"]["ratios"].size() == 2);
    CHECK(r["numbers"]["ratios"][0].get<double>() == doctest::Approx(1.3));
    c.check_missing(cost_name(512, "batchnorm", 1));
  }
  SUBCASE("not supported: at no batch size; mixed: at one") {
    Case c = cost_case({0});
    cost_run(c, 32, "plain", 0, 1.0, 100);
    cost_run(c, 32, "batchnorm", 0, 1.02, 100);
    cost_run(c, 512, "plain", 0, 1.0, 10);
    cost_run(c, 512, "batchnorm", 0, 0.9, 10);
    CHECK(c.verdict() == "not supported");
    cost_run(c, 32, "batchnorm", 0, 1.3, 100);
    CHECK(c.verdict() == "mixed");
  }
  SUBCASE("a ratio of exactly 1 + tol is no more cost") {
    for (const bool at : {true, false}) {
      CAPTURE(at);
      Case c = cost_case({0});
      const double edge = 1 + 0.05;  // 1 + tol, as the rule computes it; plain takes 1 s per step
      for (int64_t b : {32, 512}) {
        cost_run(c, b, "plain", 0, 1.0, 1);
        cost_run(c, b, "batchnorm", 0, at ? edge : std::nextafter(edge, 2.0), 1);
      }
      CHECK(c.verdict() == (at ? "not supported" : "supported"));
    }
  }
  SUBCASE("the relative seed-to-seed spread widens the tolerance") {
    Case c = cost_case({0, 1});
    for (int64_t b : {32, 512}) {
      cost_run(c, b, "plain", 0, 1.0, 1);
      cost_run(c, b, "plain", 1, 1.2, 1);  // mean 1.1, std √0.02: 12.9%
      for (uint64_t s : {0, 1}) cost_run(c, b, "batchnorm", s, 1.1 * 1.10, 1);  // 10% more: more only with the 5% floor
    }
    const auto r = c.analyze();
    CHECK(r["tolerance"].get<double>() == doctest::Approx(std::sqrt(0.02) / 1.1));
    CHECK(r["summary"] == "batchnorm / plain seconds per step: 1.10 at batch 32, 1.10 at batch 512 (tol 13%)");
    CHECK(r["verdict"] == "not supported");
  }
}

// ---- 9. Worker statistics (more cases in test_study_ghost.cpp) -------------------------------------

std::string worker_name(int64_t b, const std::string& arm, uint64_t s) { return fmt::format("workers4-b{}-{}-seed{}", b, arm, s); }

void item_worker_statistics() {
  SUBCASE("supported: the summary and the table's differences") {
    Case c = batch_case(9, {0, 1}, {2, 16});
    c.finals([](uint64_t s) { return worker_name(2, "local", s); }, {0.70, 0.71});
    c.finals([](uint64_t s) { return worker_name(2, "sync", s); }, {0.85});
    c.finals([](uint64_t s) { return worker_name(2, "plain", s); }, {0.84});
    c.finals([](uint64_t s) { return worker_name(16, "local", s); }, {0.86});
    c.finals([](uint64_t s) { return worker_name(16, "sync", s); }, {0.86});
    c.finals([](uint64_t s) { return worker_name(16, "plain", s); }, {0.80, 0.90});  // the reference's spread is no tolerance
    const auto r = c.analyze();
    CHECK(r["verdict"] == "supported");
    CHECK(r["tolerance"] == 0.01);
    CHECK(r["summary"] == "local − sync in final validation accuracy (4 workers): -0.1450 at 2 rows per worker, +0.0000 at 16 (tol 0.0100)");
    CHECK(r["numbers"]["rows"][0] ==
          nlohmann::ordered_json({"2", "8", "0.7050 ± 0.0071", "0.8500 ± 0.0000", "0.8400 ± 0.0000", "-0.1450", "+0.0100"}));
    CHECK(r["numbers"]["rows"][1] ==
          nlohmann::ordered_json({"16", "64", "0.8600 ± 0.0000", "0.8600 ± 0.0000", "0.8500 ± 0.0707", "+0.0000", "+0.0100"}));
    c.check_missing(worker_name(16, "plain", 1));
  }
  SUBCASE("one seed, not supported") {
    Case c = batch_case(9, {5}, {2, 16});
    for (int64_t b : {2, 16})
      for (const char* arm : {"local", "sync", "plain"}) c.finals([&](uint64_t s) { return worker_name(b, arm, s); }, {0.85});
    const auto r = c.analyze();
    CHECK(r["verdict"] == "not supported");
    CHECK(cell(r, 0, 2) == "0.8500");
  }
}

// ---- Items added later: their ids looked up by name, so that renumbering them needs no test change ----

int id_of(const std::string& name) {
  for (const StudyItem& item : study_items())
    if (item.name == name) return item.id;
  FAIL("no study item named " << name);
  return 0;
}

// ---- Consistency ---------------------------------------------------------------------------------

// Item 1's reference run ending at validation accuracy `val`, its last epoch's training loss `loss`
// with step-to-step standard deviation `loss_std`.
void consistency_run(Case& c, const std::string& v, uint64_t s, double val, double loss, double loss_std) {
  RunRecord& r = c.add(ref(v, s), {0.5, val});
  r.epochs.back().train_loss = loss;
  r.epochs.back().train_loss_std = loss_std;
}

void item_consistency() {
  const int id = id_of("consistency");
  SUBCASE("supported: both spreads below half of plain's; the numbers") {
    Case c(id, {0, 1, 2});
    const std::vector<double> plain = spread3(0.875), bn = {0.875 - kD / 4, 0.875, 0.875 + kD / 4};  // std kD and kD/4
    for (size_t i = 0; i < 3; ++i) {
      consistency_run(c, "plain", i, plain[i], 0.5, 0.25);    // relative 0.5
      consistency_run(c, "batchnorm", i, bn[i], 0.5, 0.0625);  // relative 0.125
    }
    const auto r = c.analyze();
    CHECK(r["verdict"] == "supported");
    CHECK(r["tolerance"].is_null());
    CHECK(r["summary"] ==
          "seed-to-seed std of final validation accuracy: plain 0.0312, batchnorm 0.0078; last epoch's step-loss std / mean loss: "
          "plain 0.5000, batchnorm 0.1250 (smaller = below 0.5× the other)");
    CHECK(r["numbers"]["spread"]["seeds_plain"] == kD);
    CHECK(r["numbers"]["spread"]["seeds_bn"] == kD / 4);
    CHECK(r["numbers"]["spread"]["steps_bn"] == 0.125);
    CHECK(r["numbers"]["rows"][0] ==
          nlohmann::ordered_json({"plain", "0.8750 ± 0.0312", "0.0312", "0.2500 ± 0.0000", "0.5000 ± 0.0000"}));
    c.check_missing(ref("batchnorm", 2));
  }
  SUBCASE("exactly half is not smaller: mixed with one measure, not supported with neither") {
    Case c(id, {0, 1, 2});
    const std::vector<double> plain = spread3(0.875), bn = {0.875 - kD / 2, 0.875, 0.875 + kD / 2};  // std kD/2 = 0.5·kD
    REQUIRE(mean_std(bn).std == 0.5 * mean_std(plain).std);
    for (size_t i = 0; i < 3; ++i) {
      consistency_run(c, "plain", i, plain[i], 0.5, 0.25);
      consistency_run(c, "batchnorm", i, bn[i], 0.5, 0.0625);
    }
    CHECK(c.verdict() == "mixed");  // steps smaller, seeds at the boundary
    for (size_t i = 0; i < 3; ++i) consistency_run(c, "batchnorm", i, bn[i], 0.5, 0.125);  // relative 0.25: exactly half
    CHECK(c.verdict() == "not supported");
    for (size_t i = 0; i < 3; ++i) consistency_run(c, "batchnorm", i, 0.875 + (i - 1.0) * kD / 8, 0.5, 0.125);
    CHECK(c.verdict() == "mixed");  // seeds smaller, steps at the boundary
  }
  SUBCASE("the step spread is relative to the loss: the same std at twice the loss is half the spread") {
    Case c(id, {0, 1});
    for (uint64_t s : {0, 1}) {
      consistency_run(c, "plain", s, 0.85, 0.25, 0.1);      // 0.4
      consistency_run(c, "batchnorm", s, 0.85, 1.0, 0.1);   // 0.1
    }
    const auto r = c.analyze();
    CHECK(r["numbers"]["spread"]["steps_plain"] == 0.4);
    CHECK(r["numbers"]["spread"]["steps_bn"] == 0.1);
    CHECK(r["verdict"] == "mixed");  // seeds: 0 and 0, not smaller
  }
  SUBCASE("runs recorded without train_loss_std cannot decide: mixed, shown as -") {
    Case c(id, {0, 1, 2});
    const std::vector<double> plain = spread3(0.875);
    for (size_t i = 0; i < 3; ++i) {
      consistency_run(c, "plain", i, plain[i], 0.5, kNaN);
      consistency_run(c, "batchnorm", i, 0.875, 0.5, kNaN);
    }
    const auto r = c.analyze();
    CHECK(r["verdict"] == "mixed");
    CHECK(r["numbers"]["spread"]["steps_plain"].is_null());
    CHECK(cell(r, 1, 4) == "-");
  }
  SUBCASE("a diverged seed counts as chance: a large seed-to-seed spread") {
    Case c(id, {0, 1});
    for (uint64_t s : {0, 1}) {
      consistency_run(c, "plain", s, 0.85, 0.5, 0.25);
      consistency_run(c, "batchnorm", s, 0.85, 0.5, 0.0625);
    }
    make_diverged(c.runs[ref("plain", 1)]);
    const auto r = c.analyze();
    CHECK(r["numbers"]["spread"]["seeds_plain"].get<double>() == doctest::Approx(0.75 / std::sqrt(2.0)));
    CHECK(r["verdict"] == "supported");
  }
}

// ---- Hyperparameter sensitivity ------------------------------------------------------------------

std::string hp(double lr, double scale, int64_t batch, const std::string& v, uint64_t s) {
  return fmt::format("hp-lr{}-x{}-bs{}-{}-seed{}", lr, scale, batch, v, s);
}

// A case on a small grid: learning rates `lrs` × scale 1 × batches 32 and 256.
Case hp_case(std::vector<uint64_t> seeds, std::vector<double> lrs) {
  Case c(id_of("hyperparameters"), std::move(seeds));
  c.ctx.budget.sensitivity_lrs = std::move(lrs);
  c.ctx.budget.sensitivity_scales = {1.0};
  c.ctx.budget.sensitivity_batches = {32, 256};
  return c;
}

// Every configuration's runs: `acc(variant, k)` for the k-th configuration (batch-major, then lr).
void hp_runs(Case& c, const std::function<double(const std::string&, size_t)>& acc) {
  size_t k = 0;
  for (int64_t batch : c.ctx.budget.sensitivity_batches)
    for (double lr : c.ctx.budget.sensitivity_lrs) {
      for (const std::string v : {"plain", "batchnorm"})
        c.finals([&](uint64_t s) { return hp(lr, 1.0, batch, v, s); }, {acc(v, k)});
      ++k;
    }
}

void item_hyperparameters() {
  SUBCASE("supported: batchnorm trains well on 4/4, plain on 0/4 (0.85 is below best − margin); best − margin itself trains well") {
    Case c = hp_case({0, 1}, {1e-3, 1e-2});
    const double best = 0.875, edge = best - 0.02;  // the margin is the floor: the best cell has std 0
    hp_runs(c, [&](const std::string& v, size_t k) { return v == "batchnorm" ? (k == 0 ? best : edge) : (k == 0 ? 0.85 : 0.5); });
    const auto r = c.analyze();
    CHECK(r["verdict"] == "supported");
    CHECK(r["tolerance"] == 0.02);
    CHECK(r["summary"] ==
          "configurations that train well (within 0.0200 of the best, 0.8750): plain 0/4 (0.00), batchnorm 4/4 (1.00)");
    CHECK(r["numbers"]["rows"][0] ==
          nlohmann::ordered_json({"0.001", "×1", "32", "0.8500 ± 0.0000", "0/2", "no", "0.8750 ± 0.0000", "0/2", "yes"}));
    CHECK(r["numbers"]["share_bn"] == 1.0);
    CHECK(r["numbers"]["best"] == best);
    c.check_missing(hp(1e-2, 1.0, 256, "plain", 1));
  }
  SUBCASE("not supported: the same share; a diverged seed does not train well however accurate the others") {
    Case c = hp_case({0, 1}, {1e-3, 1e-2});
    hp_runs(c, [](const std::string&, size_t k) { return k < 2 ? 0.875 : 0.5; });
    CHECK(c.verdict() == "not supported");
    make_diverged(c.runs[hp(1e-3, 1.0, 32, "plain", 1)]);  // plain 1/4, batchnorm 2/4: higher by 0.25
    const auto r = c.analyze();
    CHECK(r["numbers"]["rows"][0].at(4) == "1/2");
    CHECK(r["numbers"]["rows"][0].at(5) == "no");
    CHECK(r["verdict"] == "supported");
  }
  SUBCASE("mixed: higher by exactly the margin of shares (1 of 10 configurations) is not more") {
    Case c = hp_case({0}, {1e-4, 1e-3, 1e-2, 1e-1, 1.0});
    hp_runs(c, [](const std::string& v, size_t k) { return k < (v == "batchnorm" ? 6u : 5u) ? 0.875 : 0.5; });
    const auto r = c.analyze();
    REQUIRE(r["numbers"]["share_bn"].get<double>() == r["numbers"]["share_plain"].get<double>() + kShareMargin);
    CHECK(r["verdict"] == "mixed");
  }
  SUBCASE("the margin is the best cell's seed-to-seed std when larger than the floor") {
    Case c = hp_case({0, 1, 2}, {1e-3});
    // Configuration 0: batchnorm spread3(0.875) (std kD, the best); the rest within kD of it or not.
    for (uint64_t s : {0, 1, 2}) {
      c.add(hp(1e-3, 1.0, 32, "batchnorm", s), {spread3(0.875)[s]});
      c.add(hp(1e-3, 1.0, 32, "plain", s), {0.875 - kD});  // exactly best − margin: trains well
      c.add(hp(1e-3, 1.0, 256, "batchnorm", s), {0.875 - kD});
      c.add(hp(1e-3, 1.0, 256, "plain", s), {0.875 - kD - 1.0 / 1024});  // below
    }
    const auto r = c.analyze();
    CHECK(r["tolerance"] == kD);
    CHECK(r["numbers"]["share_plain"] == 0.5);
    CHECK(r["numbers"]["share_bn"] == 1.0);
    CHECK(r["verdict"] == "supported");
  }
  SUBCASE("the rule on plain numbers") {
    CHECK(sensitivity_verdict(0.5, 0.5 + kShareMargin) == Verdict::mixed);
    CHECK(sensitivity_verdict(0.5, std::nextafter(0.5 + kShareMargin, 1.0)) == Verdict::supported);
    CHECK(sensitivity_verdict(0.5, 0.5) == Verdict::not_supported);
    CHECK(sensitivity_verdict(0.5, 0.25) == Verdict::not_supported);
  }
}

// ---- Regularization still needed -----------------------------------------------------------------

std::string reg(const std::string& arm, uint64_t s) { return fmt::format("reg-{}-batchnorm-seed{}", arm, s); }

void regularizer_run(Case& c, const std::string& arm, uint64_t s, double train, double val) {
  RunRecord& r = c.add(reg(arm, s), {val});
  r.eval_train = EvalMetrics{.loss = 0.1, .acc = train, .samples = 8000};
}

void item_regularizers() {
  const int id = id_of("regularizers");
  SUBCASE("supported: weight decay raises validation accuracy by more than tol; the numbers") {
    Case c(id, {0, 1});
    for (uint64_t s : {0, 1}) {
      regularizer_run(c, "none", s, 0.96, 0.875);
      regularizer_run(c, "wd", s, 0.9375, 0.90625);
      regularizer_run(c, "dropout", s, 0.96, 0.875);
    }
    const auto r = c.analyze();
    CHECK(r["verdict"] == "supported");
    CHECK(r["tolerance"] == 0.01);
    CHECK(r["summary"] ==
          "batchnorm validation accuracy: alone 0.8750, + weight decay 0.1 0.9062 (+0.0312), + dropout 0.2 0.8750 (+0.0000); gap: "
          "alone 0.0850, + weight decay 0.0312, + dropout 0.0850 (tol 0.0100)");
    CHECK(r["numbers"]["rows"][1] ==
          nlohmann::ordered_json({"wd", "0.9375 ± 0.0000", "0.9062 ± 0.0000", "0.0312 ± 0.0000", "0.9062 ± 0.0000", "+0.0312", "+0.0537"}));  // 0.96 is 0.95999…: the gap 0.0849999…
    CHECK(r["numbers"]["weight_decay"] == 0.1);
    c.check_missing(reg("dropout", 1));
  }
  SUBCASE("mixed: no accuracy gain, but dropout narrows the gap; not supported: neither") {
    Case c(id, {0, 1});
    for (uint64_t s : {0, 1}) {
      regularizer_run(c, "none", s, 0.96, 0.875);
      regularizer_run(c, "wd", s, 0.96, 0.875);
      regularizer_run(c, "dropout", s, 0.90, 0.875);
    }
    CHECK(c.verdict() == "mixed");
    for (uint64_t s : {0, 1}) regularizer_run(c, "dropout", s, 0.96, 0.86);  // worse: still no "need"
    CHECK(c.verdict() == "not supported");
  }
  SUBCASE("a gain of exactly tol is not a gain; a hair more is") {
    // Three seeds m − kD, m, m + kD in every arm: tol = kD; gaps all 0.125, so only the gain counts.
    for (const bool at : {true, false}) {
      CAPTURE(at);
      Case c(id, {0, 1, 2});
      const double with = 0.75 + kD + (at ? 0.0 : 1.0 / 1024);
      for (uint64_t s : {0, 1, 2}) {
        regularizer_run(c, "none", s, spread3(0.75)[s] + 0.125, spread3(0.75)[s]);
        regularizer_run(c, "wd", s, spread3(0.75)[s] + 0.125, spread3(0.75)[s]);
        regularizer_run(c, "dropout", s, spread3(with)[s] + 0.125, spread3(with)[s]);
      }
      const auto r = c.analyze();
      CHECK(r["tolerance"] == kD);
      CHECK(r["verdict"] == (at ? "not supported" : "supported"));
    }
  }
  SUBCASE("the rule on plain numbers: an empty list is mixed") { CHECK(regularizers_verdict({}, 0.01) == Verdict::mixed); }
}

// Every item's cases, by id.
const std::map<int, std::function<void()>>& item_cases() {
  static const std::map<int, std::function<void()>> cases = {
      {1, item_convergence}, {2, item_learning_rates}, {3, item_initialization}, {4, item_depth}, {5, item_small_batches},
      {6, item_regularization}, {7, item_train_eval}, {8, item_cost}, {9, item_worker_statistics},
      {id_of("consistency"), item_consistency}, {id_of("hyperparameters"), item_hyperparameters},
      {id_of("regularizers"), item_regularizers}};
  return cases;
}

}  // namespace

TEST_CASE("every registered item has analysis cases, and its analysis gives the verdicts its criterion states") {
  for (const StudyItem& item : study_items()) {
    CAPTURE(item.id);
    CAPTURE(item.name);
    const auto it = item_cases().find(item.id);
    REQUIRE_MESSAGE(it != item_cases().end(), "study item ", item.id, " (", item.name, ") has no cases in test_study_items.cpp");
    SUBCASE((std::to_string(item.id) + " " + item.name).c_str()) { it->second(); }
  }
  for (const auto& [id, cases] : item_cases()) CHECK_MESSAGE(find_study_item(id) != nullptr, "cases for ", id, ", which is not an item");
}

// One item of `bnlab study`, declared as one unit the way an op is: its id and names, the claim it
// tests, the criterion that decides it (fixed before any run), the runs it needs and its analysis.
// Each item lives in lab/study/item_<name>.cpp; the registry (study_items.hpp) lists them, and the
// runner, `--items`, the default selection and the report all go through it.
//
//   // lab/study/item_depth.cpp
//   StudyItem study_item_depth() {
//     return {.id = 4, .name = "depth", .title = "deeper networks", .claim = "…", .criterion = "…",
//             .jobs = [](const ItemPlan& p) {           // the runs this item trains (none: leave it empty)
//               const Budget& b = p.budget();         // one job per (seed, depth, variant):
//               return grid_jobs(b, b.depths, kPlainVsBn, [&](uint64_t seed, int depth, const std::string& v) {
//                 return p.job(depth_run_name(depth, v, seed), v, seed, b.epochs_grid,
//                              {.hidden = std::vector<int64_t>(depth, b.depth_width)});  // the item's refinement
//               });
//             },
//             .analyze = [](ItemRuns& c) -> ItemResult {
//               … const auto [plain, bn] = c.plain_bn(run_name, c.final_acc()); …   // mean ± std over seeds
//               return {verdict, tol, summary, numbers_table({…}, rows), fig};      // the runner names fig
//             }};
//   }
//   // lab/study_items.cpp: one line, X(depth), in BNLAB_STUDY_ITEMS.
//
// An item may also read runs another item trains (`reads`): item 6 analyzes item 1's runs. The plan
// (study_jobs) then trains those runs — only the ones kept — even when their own item is not selected.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lab/metrics_json.hpp"
#include "lab/plots.hpp"
#include "lab/run_job.hpp"
#include "lab/run_stats.hpp"
#include "lab/study_criteria.hpp"
#include "lab/study_plan.hpp"
#include "models/presets.hpp"

namespace bnlab::lab {

// What an item's `jobs` sees: the study's options and the shape of the data.
struct ItemPlan {
  const StudyOptions& options;
  int64_t inputs = 0;
  int64_t classes = 0;

  const Budget& budget() const { return options.budget; }
  // A run with the settings every study run shares: the preset model `variant` ("plain",
  // "batchnorm", "layernorm") for the data, `epochs` on the data of `seed`, stopped as "diverged"
  // at a non-finite step. The one place a study run's model spec is built: an item passes what it
  // varies of the model as `refine` and refines the returned job's config (j.config.…) itself.
  RunJob job(const std::string& name, const std::string& variant, uint64_t seed, int epochs,
             const ModelOptions& refine = {}) const;
};

// The variants most items compare.
inline const std::vector<std::string> kPlainVsBn = {"plain", "batchnorm"};

// The runs of a grid: for each seed, each value of `grid` and each of `variants` (in that order),
// the RunJob `make(seed, value, variant)`. Each run is a job of its own, or with `side_by_side` one
// job per (seed, value) holds every variant's run, trained one epoch each in turn (for comparing
// wall times).
template <class T, class Make>
std::vector<StudyJob> grid_jobs(const Budget& b, const std::vector<T>& grid, const std::vector<std::string>& variants, Make make,
                                bool side_by_side = false) {
  std::vector<StudyJob> jobs;
  for (uint64_t seed : b.seeds)
    for (const T& value : grid) {
      if (side_by_side) jobs.push_back({.seed = seed});
      for (const std::string& v : variants) {
        RunJob j = make(seed, value, v);
        if (side_by_side) jobs.back().runs.push_back(std::move(j));
        else jobs.push_back({.seed = seed, .runs = {std::move(j)}});
      }
    }
  return jobs;
}

// Runs of another item that an item reads: those of item `item` that `keep` accepts (all when empty).
struct ItemReads {
  int item = 0;
  std::function<bool(const RunJob&)> keep;
};

// What the analysis of `bnlab study` is given (study_analysis.hpp).
struct StudyContext {
  Budget budget;
  double threshold = 0.85;
  int64_t classes = 10;
  std::vector<int> items;
};

// The finished runs, as an item's analysis reads them; records the names it read (the item's "runs").
struct ItemRuns {
  const StudyContext& study;
  const std::map<std::string, RunRecord>& runs;
  std::vector<std::string> used;  // run names read, in order

  double chance() const { return 1.0 / static_cast<double>(std::max<int64_t>(study.classes, 1)); }
  const std::vector<uint64_t>& seeds() const { return study.budget.seeds; }

  // Throws RuntimeError naming a run that is not there.
  const RunRecord& run(const std::string& name);
  // One value per seed.
  std::vector<double> per_seed(const std::function<std::string(uint64_t)>& name, const std::function<double(const RunRecord&)>& value);
  MeanStd cell(const std::function<std::string(uint64_t)>& name, const std::function<double(const RunRecord&)>& value);
  // The cells of plain and of batchnorm, the runs `name(variant, seed)` (plain's read first).
  struct PlainBn {
    MeanStd plain, bn;
  };
  PlainBn plain_bn(const std::function<std::string(const std::string& variant, uint64_t seed)>& name,
                   const std::function<double(const RunRecord&)>& value);
  // Final validation accuracy; a diverged run (or one with no value) counts as chance.
  std::function<double(const RunRecord&)> final_acc() const;
};

// An item's answer; the runner adds id, title, claim, criterion and the runs read (study_analysis.hpp).
struct ItemResult {
  Verdict verdict = Verdict::mixed;
  double tolerance = 0;  // NaN: the item has none (written as null)
  std::string summary;   // one line with the key numbers
  json numbers;          // {columns: [...], rows: [[...]], plus item-specific raw values}
  Figure figure;         // the runner names it study-item<ID>
};

struct StudyItem {
  int id = 0;             // --items, the report's order, the figure study-item<ID>
  std::string name;       // for the --items help: "convergence", "learning rates", …
  std::string title;      // for the verdict table: "faster convergence", …
  std::string claim;      // as usually stated
  std::string criterion;  // the decision rule in words, quoted in the report (the rule itself: study_criteria.hpp)
  // The runs this item trains, grouped into jobs (StudyJob::item is set by the plan); empty when it
  // trains none of its own.
  std::function<std::vector<StudyJob>(const ItemPlan&)> jobs;
  // Runs of other items it reads as well.
  std::vector<ItemReads> reads;
  // From the finished runs to the verdict, numbers and figure.
  std::function<ItemResult(ItemRuns&)> analyze;
};

// ---- Shared by the items' analyses ---------------------------------------------------------------

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Colours shared by every study figure: plain blue, batch norm red, layer norm green.
inline constexpr int kPlainColor = 0, kBnColor = 1, kLnColor = 2;

std::string f4(double v);             // "0.8512", "-" when not finite
std::string ms(const MeanStd& m);     // "0.8512 ± 0.0031"
std::string signed4(double v);        // "+0.0100", "-" when not finite
std::string epochs_text(std::optional<int> e);  // "3", "never"
json row(std::initializer_list<std::string> cells);
// The values as a JSON array, non-finite ones as null.
json numbers_json(const std::vector<double>& values);
// The table of an item's numbers: {columns: [...], rows: [...]}; the item adds its raw values.
json numbers_table(std::initializer_list<std::string> columns, json rows);

// Points of mean ± std over seeds: one per epoch (epoch_curve) or per grid value.
struct Curve {
  std::vector<double> x, mean, std;
  void add(double at, const MeanStd& m) { x.push_back(at), mean.push_back(m.mean), std.push_back(m.std); }
};
// Mean ± std over seeds of `k` at every epoch of the runs `name(seed)`.
Curve epoch_curve(ItemRuns& c, const std::function<std::string(uint64_t)>& name, EpochMetric k);
// The series "plain" (blue) and "batchnorm" (red) of two curves, with error bars unless `errors` is false.
std::vector<Series> plain_vs_bn(const Curve& plain, const Curve& bn, bool errors = true);

}  // namespace bnlab::lab

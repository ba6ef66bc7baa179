// Study item 7. Train/eval difference: the batch-norm runs of items 1 and 5 evaluated with running and with
// batch statistics (it trains none of its own).
#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "lab/study_item.hpp"

namespace bnlab::lab {

namespace {

bool batchnorm_only(const RunJob& run) { return run.config.model == "batchnorm"; }

ItemResult analyze(ItemRuns& c) {
  struct Point {
    int64_t batch;
    std::function<std::string(uint64_t)> name;
  };
  std::vector<Point> points;
  for (int64_t b : c.study.budget.small_batches) points.push_back({b, [b](uint64_t s) { return batch_run_name(b, "batchnorm", s); }});
  points.push_back({32, [](uint64_t s) { return reference_run_name("batchnorm", s); }});
  std::sort(points.begin(), points.end(), [](const Point& a, const Point& b) { return a.batch < b.batch; });
  json rows = json::array();
  std::vector<double> stds, diffs, x, yr, yb, er, eb;
  for (const Point& p : points) {
    const MeanStd running = c.cell(p.name, [](const RunRecord& r) { return diverged(r) ? kNaN : final_value(r, EpochMetric::val_acc); });
    const MeanStd batch = c.cell(p.name, [](const RunRecord& r) { return score(r.val_batch_stats, Score::acc); });
    const MeanStd d = c.cell(p.name, [](const RunRecord& r) {
      return diverged(r) ? kNaN : final_value(r, EpochMetric::val_acc) - score(r.val_batch_stats, Score::acc);
    });
    rows.push_back(row({std::to_string(p.batch), ms(running), ms(batch), ms(d)}));
    if (!std::isfinite(d.mean)) continue;  // every seed diverged: nothing to compare
    stds.push_back(running.std), stds.push_back(batch.std);
    diffs.push_back(d.mean);
    x.push_back(static_cast<double>(p.batch)), yr.push_back(running.mean), yb.push_back(batch.mean);
    er.push_back(running.std), eb.push_back(batch.std);
  }
  const double tol = tolerance(stds, kMinAccTolerance);
  const Verdict v = unless_within_noise(train_eval_verdict(diffs, tol), tol, kAccEffect);
  std::vector<std::string> parts;
  for (size_t i = 0; i < x.size(); ++i) parts.push_back(fmt::format("{:+.4f} at batch {}", diffs[i], x[i]));
  const std::string summary =
      fmt::format("validation accuracy, running − batch statistics: {} (tol {:.4f})", fmt::join(parts, ", "), tol);
  Figure fig{.title = "7. Train/eval difference: batch-norm models evaluated two ways",
             .columns = 1,
             .caption = "Validation accuracy with running statistics (eval mode) and with batch statistics in chunks of the training batch size."};
  Panel p{.title = "validation accuracy after training", .xlabel = "training batch size (= evaluation chunk for batch statistics)",
          .ylabel = "validation accuracy", .logx = 2, .key = "below"};
  p.series = {make_series("running statistics", x, yr, er, kBnColor), make_series("batch statistics", x, yb, eb, kBnColor, true)};
  fig.panels = {p};
  const json numbers = numbers_table({"training batch", "running stats: val acc", "batch stats: val acc", "running − batch"}, rows);
  return {v, tol, summary, numbers, fig};
}

}  // namespace

StudyItem study_item_train_eval() {
  return {.id = 7,
          .name = "train/eval",
          .title = "train/eval difference",
          .claim =
              "At inference batch normalization normalizes with running statistics collected during training, and the model performs "
              "at least as well as with the batch statistics it was trained with.",
          .criterion = fmt::format(
              "Batch-norm runs of items 1 and 5. After training, the validation split is evaluated twice: normalized with the "
              "running statistics (how the model is used) and with batch statistics in chunks of the training batch size (as "
              "in training). Supported if the running statistics give at least the batch-statistics accuracy minus tol at "
              "every training batch size. Not supported if they fall short by more than tol at every batch size. Mixed "
              "otherwise; {}.",
              accuracy_tolerance_text()),
          .reads = {{.item = 1, .keep = batchnorm_only}, {.item = 5, .keep = batchnorm_only}},
          .analyze = analyze};
}

}  // namespace bnlab::lab

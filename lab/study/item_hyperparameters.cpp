// Study item: hyperparameter sensitivity — a grid of learning rate × initial weight scale × batch size
// (Adam, a few epochs), plain vs batchnorm, and the share of it where each variant trains well (hp-…).
#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "lab/study_item.hpp"

namespace bnlab::lab {

namespace {

struct Config {
  double lr = 0, scale = 0;
  int64_t batch = 0;
};

std::vector<Config> grid_of(const Budget& b) {
  std::vector<Config> grid;
  for (int64_t batch : b.sensitivity_batches)
    for (double scale : b.sensitivity_scales)
      for (double lr : b.sensitivity_lrs) grid.push_back({lr, scale, batch});
  return grid;
}

std::vector<StudyJob> plan_runs(const ItemPlan& p) {
  const Budget& b = p.budget();
  return grid_jobs(b, grid_of(b), kPlainVsBn, [&](uint64_t seed, const Config& g, const std::string& v) {
    RunJob j = p.job(sensitivity_run_name(g.lr, g.scale, g.batch, v, seed), v, seed, b.epochs_sensitivity, {.weight_scale = g.scale});
    j.config.optimizer.kind = OptimizerKind::adam;
    j.config.optimizer.lr = g.lr;
    j.config.batch_size = g.batch;
    return j;
  });
}

ItemResult analyze(ItemRuns& c) {
  const Budget& b = c.study.budget;
  const std::vector<Config> grid = grid_of(b);
  struct Cell {
    MeanStd acc;
    int diverged = 0;
  };
  std::vector<Cell> cells[2];  // [plain, batchnorm] per configuration
  for (const Config& g : grid)
    for (int i = 0; i < 2; ++i) {
      const auto name = [&](uint64_t s) { return sensitivity_run_name(g.lr, g.scale, g.batch, kPlainVsBn[i], s); };
      Cell cell{c.cell(name, c.final_acc()), 0};
      for (uint64_t s : c.seeds()) cell.diverged += diverged(c.run(name(s)));
      cells[i].push_back(cell);
    }
  // The best cell of either variant, and the margin from its own seed-to-seed noise.
  double best = -1, best_std = kNaN;
  for (const auto& v : cells)
    for (const Cell& cell : v)
      if (std::isfinite(cell.acc.mean) && cell.acc.mean > best) best = cell.acc.mean, best_std = cell.acc.std;
  const double margin = tolerance({best_std}, kLrMargin);
  int good[2] = {0, 0};
  json rows = json::array();
  const size_t seeds = c.seeds().size();
  std::vector<std::string> well[2];
  for (size_t k = 0; k < grid.size(); ++k) {
    bool ok[2];
    for (int i = 0; i < 2; ++i) {
      ok[i] = trains_well(cells[i][k].acc.mean, cells[i][k].diverged, best, margin);
      good[i] += ok[i];
    }
    const Config& g = grid[k];
    rows.push_back(row({fmt::format("{}", g.lr), fmt::format("×{}", g.scale), std::to_string(g.batch), ms(cells[0][k].acc),
                        fmt::format("{}/{}", cells[0][k].diverged, seeds), ok[0] ? "yes" : "no", ms(cells[1][k].acc),
                        fmt::format("{}/{}", cells[1][k].diverged, seeds), ok[1] ? "yes" : "no"}));
  }
  const double n = static_cast<double>(grid.size());
  const double share_plain = grid.empty() ? kNaN : good[0] / n, share_bn = grid.empty() ? kNaN : good[1] / n;
  const Verdict v = sensitivity_verdict(share_plain, share_bn);
  const std::string summary = fmt::format(
      "configurations that train well (within {:.4f} of the best, {:.4f}): plain {}/{} ({:.2f}), batchnorm {}/{} ({:.2f})", margin,
      best, good[0], grid.size(), share_plain, good[1], grid.size(), share_bn);
  Figure fig{.title = "Hyperparameter sensitivity: final validation accuracy over the grid (diverged runs at chance)",
             .caption = "Final validation accuracy against Adam's learning rate, one line per initial weight scale (dashed: not ×1), "
                        "one panel per batch size; the dotted line is 'trains well' (best − margin)."};
  for (int64_t batch : b.sensitivity_batches) {
    Panel p{.title = fmt::format("batch {}", batch), .xlabel = "learning rate", .ylabel = "final validation accuracy", .logx = 10,
            .key = "below"};
    p.hline = best - margin;
    p.hline_title = "trains well above";
    for (int i = 0; i < 2; ++i)
      for (double scale : b.sensitivity_scales) {
        std::vector<double> x, y, e;
        for (size_t k = 0; k < grid.size(); ++k)
          if (grid[k].batch == batch && grid[k].scale == scale)
            x.push_back(grid[k].lr), y.push_back(cells[i][k].acc.mean), e.push_back(cells[i][k].acc.std);
        p.series.push_back(make_series(fmt::format("{} ×{}", kPlainVsBn[i], scale), x, y, e, i == 0 ? kPlainColor : kBnColor,
                                       scale != 1.0));
      }
    fig.panels.push_back(std::move(p));
  }
  json numbers = numbers_table({"lr", "weight scale", "batch", "plain: val acc", "plain: diverged", "plain: trains well",
                                "batchnorm: val acc", "batchnorm: diverged", "batchnorm: trains well"},
                               rows);
  numbers["best"] = best;
  numbers["margin"] = margin;
  numbers["share_plain"] = json_number(share_plain);
  numbers["share_bn"] = json_number(share_bn);
  return {v, margin, summary, numbers, fig};
}

}  // namespace

StudyItem study_item_hyperparameters() {
  return {.id = 11,
          .name = "hyperparameters",
          .title = "less sensitivity to hyperparameters",
          .claim = "Networks with batch normalization are often less sensitive to hyperparameter tuning, such as the learning rate, "
                   "which makes it easier to find suitable hyperparameters.",
          .criterion = fmt::format(
              "A grid fixed in advance: Adam's learning rate × the initial weight scale (Glorot × scale) × the batch size, plain "
              "vs batchnorm, same seeds, few epochs. A variant trains well at a configuration if no seed diverged and its mean "
              "final validation accuracy is within margin = max({}, the seed-to-seed std of the best cell) of the best mean of "
              "either variant anywhere on the grid. Supported if batchnorm trains well on a share of the grid larger than plain's "
              "by more than {}. Not supported if its share is not larger. Mixed otherwise.",
              kLrMargin, kShareMargin),
          .jobs = plan_runs,
          .analyze = analyze};
}

}  // namespace bnlab::lab

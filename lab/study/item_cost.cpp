// Study item 8. Cost per step: plain and batchnorm trained side by side at several batch sizes (cost-bs…).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "lab/study_item.hpp"

namespace bnlab::lab {

namespace {

std::vector<StudyJob> plan_runs(const ItemPlan& p) {
  const Budget& b = p.budget();
  return grid_jobs(
      b, b.cost_batches, kPlainVsBn,
      [&](uint64_t seed, int64_t batch, const std::string& v) {
        RunJob j = p.job(cost_run_name(batch, v, seed), v, seed, b.epochs_cost);
        j.config.batch_size = batch;
        // Per-layer statistics cost time of their own, the same for both; leave them out of the timing.
        j.config.record_internals = false;
        return j;
      },
      /*side_by_side=*/true);
}

ItemResult analyze(ItemRuns& c) {
  const auto& batches = c.study.budget.cost_batches;
  json rows = json::array();
  std::vector<double> ratios, rel_stds;
  Curve ms_p, ms_b;  // milliseconds per step
  for (int64_t b : batches) {
    const auto [p, q] = c.plain_bn([&](const std::string& v, uint64_t s) { return cost_run_name(b, v, s); }, seconds_per_step);
    rel_stds.push_back(p.std / p.mean);
    rel_stds.push_back(q.std / q.mean);
    const double ratio = q.mean / p.mean;
    ratios.push_back(ratio);
    rows.push_back(row({std::to_string(b), format_mean_std({p.mean * 1e3, p.std * 1e3, p.n}, 4),
                        format_mean_std({q.mean * 1e3, q.std * 1e3, q.n}, 4), fmt::format("{:.3f}", ratio)}));
    ms_p.add(static_cast<double>(b), {p.mean * 1e3, p.std * 1e3, p.n});
    ms_b.add(static_cast<double>(b), {q.mean * 1e3, q.std * 1e3, q.n});
  }
  const double tol = tolerance(rel_stds, kMinTimeTolerance);
  const Verdict v = unless_within_noise(cost_verdict(ratios, tol), tol, kCostEffect);
  std::vector<std::string> parts;
  for (size_t i = 0; i < ratios.size(); ++i) parts.push_back(fmt::format("{:.2f} at batch {}", ratios[i], batches[i]));
  const std::string summary = fmt::format("batchnorm / plain seconds per step: {} (tol {:.0f}%)", fmt::join(parts, ", "), 100 * tol);
  Figure fig{.title = "8. Cost: training time per step",
             .caption = "Milliseconds per training step (forward, backward, update), plain and batchnorm trained side by side."};
  Panel t{.title = "time per step", .xlabel = "batch size", .ylabel = "ms per step", .logx = 2, .logy = true, .key = "below"};
  Panel r{.title = "batchnorm / plain", .xlabel = "batch size", .ylabel = "ratio of times per step", .logx = 2, .key = "below"};
  t.series = plain_vs_bn(ms_p, ms_b);
  r.series = {make_series("batchnorm / plain", ms_b.x, ratios, {}, kBnColor)};
  r.hline = 1.0;
  r.hline_title = "equal cost";
  fig.panels = {t, r};
  json numbers = numbers_table({"batch size", "plain: ms/step", "batchnorm: ms/step", "ratio"}, rows);
  numbers["ratios"] = ratios;
  return {v, tol, summary, numbers, fig};
}

}  // namespace

StudyItem study_item_cost() {
  return {.id = 8,
          .name = "cost",
          .title = "cost per step",
          .claim = "Batch normalization adds computational cost to every training step.",
          .criterion = fmt::format(
              "Plain and batchnorm trained side by side (one epoch each in turn, so load changes hit both) at several batch "
              "sizes; cost = training seconds / training steps. Supported (batch norm costs more) if batchnorm's cost exceeds "
              "plain's by more than tol at every batch size, tol = max({:.0f}%, the largest relative seed-to-seed std). Not "
              "supported if at no batch size. Mixed otherwise.",
              100 * kMinTimeTolerance),
          .jobs = plan_runs,
          .analyze = analyze};
}

}  // namespace bnlab::lab

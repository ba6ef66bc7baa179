// Study item 3. Less sensitivity to initialization: Glorot weights times each scale of the grid, plain vs
// batchnorm (init-x…).
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
  return grid_jobs(b, b.weight_scales, kPlainVsBn, [&](uint64_t seed, double scale, const std::string& v) {
    return p.job(init_run_name(scale, v, seed), v, seed, b.epochs_grid, {.weight_scale = scale});
  });
}

ItemResult analyze(ItemRuns& c) {
  const auto& scales = c.study.budget.weight_scales;
  json rows = json::array();
  std::vector<double> stds;
  Curve first_p, first_b, final_p, final_b;  // validation accuracy after epoch 1 and at the end
  const double chance = c.chance();
  const auto first_acc = [chance](const RunRecord& r) {
    const double a = epoch_value(r, 1, EpochMetric::val_acc);
    return std::isfinite(a) ? a : chance;  // diverged in the first epoch
  };
  for (double scale : scales) {
    const auto name = [&](const std::string& v, uint64_t s) { return init_run_name(scale, v, s); };
    const auto [p1, b1] = c.plain_bn(name, first_acc);
    const auto [pf, bf] = c.plain_bn(name, c.final_acc());
    for (const MeanStd* m : {&p1, &pf, &b1, &bf}) stds.push_back(m->std);
    rows.push_back(row({fmt::format("×{}", scale), ms(p1), ms(pf), ms(b1), ms(bf)}));
    first_p.add(scale, p1), final_p.add(scale, pf), first_b.add(scale, b1), final_b.add(scale, bf);
  }
  const auto spread = [](const std::vector<double>& v) {
    if (v.empty()) return kNaN;
    return *std::max_element(v.begin(), v.end()) - *std::min_element(v.begin(), v.end());
  };
  const InitSpread sp{spread(final_p.mean), spread(final_b.mean), spread(first_p.mean), spread(first_b.mean)};
  const double tol = tolerance(stds, kMinAccTolerance);
  const Verdict v = unless_within_noise(init_verdict(sp, tol), tol, kAccEffect);
  rows.push_back(row({"spread (max − min)", f4(sp.first_plain), f4(sp.final_plain), f4(sp.first_bn), f4(sp.final_bn)}));
  const std::string summary = fmt::format(
      "spread of validation accuracy over weight scales {} — after epoch 1: plain {:.4f}, batchnorm {:.4f}; final: plain {:.4f}, "
      "batchnorm {:.4f} (tol {:.4f})",
      fmt::join(scales, "/"), sp.first_plain, sp.first_bn, sp.final_plain, sp.final_bn, tol);
  Figure fig{.title = "3. Initialization: validation accuracy vs weight scale (Glorot × scale)",
             .caption = "Validation accuracy after the first and after the last epoch, per initial weight scale."};
  Panel first{.title = "after epoch 1", .xlabel = "weight scale", .ylabel = "validation accuracy", .logx = 10, .key = "below"};
  Panel last{.title = "after the last epoch", .xlabel = "weight scale", .ylabel = "validation accuracy", .logx = 10, .key = "below"};
  first.series = plain_vs_bn(first_p, first_b);
  last.series = plain_vs_bn(final_p, final_b);
  fig.panels = {first, last};
  json numbers = numbers_table({"weight scale", "plain: epoch 1", "plain: final", "batchnorm: epoch 1", "batchnorm: final"}, rows);
  numbers["spread"] = {{"first_plain", sp.first_plain}, {"first_bn", sp.first_bn}, {"final_plain", sp.final_plain}, {"final_bn", sp.final_bn}};
  return {v, tol, summary, numbers, fig};
}

}  // namespace

StudyItem study_item_initialization() {
  return {.id = 3,
          .name = "initialization",
          .title = "less sensitivity to initialization",
          .claim = "Networks with batch normalization are less sensitive to the scale of the initial weights.",
          .criterion = fmt::format(
              "Initial weights (Glorot uniform) multiplied by each scale of the grid, plain vs batchnorm, same seeds. Spread = "
              "max − min over the scales of the mean validation accuracy, after the first epoch and after the last (a diverged "
              "run counts as chance accuracy). Supported if batchnorm's spread is smaller than plain's by more than tol in both "
              "measures. Not supported if in neither. Mixed if in one; {}.",
              accuracy_tolerance_text()),
          .jobs = plan_runs,
          .analyze = analyze};
}

}  // namespace bnlab::lab

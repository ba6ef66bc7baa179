// Study item 4. Deeper networks: MLPs with more and more hidden layers of equal width, plain vs batchnorm
// (depth…).
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
  std::vector<StudyJob> jobs;
  for (uint64_t seed : b.seeds)
    for (int depth : b.depths)
      for (const std::string v : {"plain", "batchnorm"}) {
        RunJob j = p.job(depth_run_name(depth, v, seed), v, seed, b.epochs_grid,
                         {.hidden = std::vector<int64_t>(static_cast<size_t>(depth), b.depth_width)});
        jobs.push_back({.seed = seed, .runs = {std::move(j)}});
      }
  return jobs;
}

ItemResult analyze(ItemRuns& c) {
  const auto& depths = c.study.budget.depths;
  json rows = json::array();
  std::vector<double> stds, ap, ab, ep, eb, x, gp, gb;
  const auto fc1_grad = [](const RunRecord& r) {
    // The first layer's mean gradient norm in the first epoch: where vanishing gradients show.
    if (r.epochs.empty()) return kNaN;
    for (const GradNorm& g : r.epochs.front().grad_norms)
      if (g.parameter == "fc1.weight") return g.mean_norm;
    return kNaN;
  };
  for (int d : depths) {
    const auto np = [&](uint64_t s) { return depth_run_name(d, "plain", s); };
    const auto nb = [&](uint64_t s) { return depth_run_name(d, "batchnorm", s); };
    const MeanStd p = c.cell(np, c.final_acc()), b = c.cell(nb, c.final_acc());
    const MeanStd p_grad = c.cell(np, fc1_grad), b_grad = c.cell(nb, fc1_grad);
    stds.push_back(p.std);
    stds.push_back(b.std);
    rows.push_back(row({std::to_string(d), ms(p), ms(b), signed4(b.mean - p.mean), fmt::format("{:.3g}", p_grad.mean),
                        fmt::format("{:.3g}", b_grad.mean)}));
    x.push_back(d), ap.push_back(p.mean), ab.push_back(b.mean), ep.push_back(p.std), eb.push_back(b.std);
    gp.push_back(p_grad.mean), gb.push_back(b_grad.mean);
  }
  const double tol = tolerance(stds, kMinAccTolerance);
  const Verdict v = depth_verdict(ap, ab, tol);
  const std::string summary =
      ap.empty() ? std::string("no depths")
                 : fmt::format("final validation accuracy at {} hidden layers: plain {:.4f}, batchnorm {:.4f}; at {}: plain {:.4f}, "
                               "batchnorm {:.4f} (tol {:.4f})",
                               depths.front(), ap.front(), ab.front(), depths.back(), ap.back(), ab.back(), tol);
  Figure fig;
  fig.name = "study-item4";
  fig.title = fmt::format("4. Depth: MLPs with hidden layers of {} units", c.study.budget.depth_width);
  fig.caption = "Final validation accuracy, and the first layer's gradient norm in epoch 1, against the number of hidden layers.";
  Panel acc{.title = "final validation accuracy", .xlabel = "hidden layers", .ylabel = "validation accuracy", .logx = 2, .key = "below"};
  Panel grad{.title = "fc1.weight gradient norm, epoch 1 (mean over steps)", .xlabel = "hidden layers", .ylabel = "L2 norm",
             .logx = 2, .logy = true, .key = "below"};
  acc.series = {make_series("plain", x, ap, ep, kPlainColor), make_series("batchnorm", x, ab, eb, kBnColor)};
  grad.series = {make_series("plain", x, gp, {}, kPlainColor), make_series("batchnorm", x, gb, {}, kBnColor)};
  fig.panels = {acc, grad};
  json numbers = {{"columns", {"hidden layers", "plain: val acc", "batchnorm: val acc", "batchnorm − plain", "plain: fc1 grad",
                               "batchnorm: fc1 grad"}},
                  {"rows", rows}};
  return {v, tol, summary, numbers, fig};
}

}  // namespace

StudyItem study_item_depth() {
  return {.id = 4,
          .name = "depth",
          .title = "deeper networks",
          .claim = "Batch normalization matters most for deep networks: it keeps deeper plain MLPs trainable.",
          .criterion = fmt::format(
              "MLPs with 2, 4, 8 (… ) hidden layers of equal width, plain vs batchnorm, same seeds and epochs. Supported if at "
              "the deepest network batchnorm's mean final validation accuracy exceeds plain's by more than tol AND batchnorm "
              "loses less accuracy than plain from the shallowest to the deepest network (by more than tol). Not supported if "
              "at no depth batchnorm beats plain by more than tol. Mixed otherwise; {}; a diverged run counts as chance.",
              accuracy_tolerance_text()),
          .jobs = plan_runs,
          .analyze = analyze};
}

}  // namespace bnlab::lab

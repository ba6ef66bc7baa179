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
  return grid_jobs(b, b.depths, kPlainVsBn, [&](uint64_t seed, int depth, const std::string& v) {
    return p.job(depth_run_name(depth, v, seed), v, seed, b.epochs_grid,
                 {.hidden = std::vector<int64_t>(static_cast<size_t>(depth), b.depth_width)});
  });
}

ItemResult analyze(ItemRuns& c) {
  const auto& depths = c.study.budget.depths;
  json rows = json::array();
  std::vector<double> stds;
  Curve acc_p, acc_b, grad_p, grad_b;
  const auto fc1_grad = [](const RunRecord& r) {
    // The first layer's mean gradient norm in the first epoch: where vanishing gradients show.
    if (r.epochs.empty()) return kNaN;
    for (const GradNorm& g : r.epochs.front().grad_norms)
      if (g.parameter == "fc1.weight") return g.mean_norm;
    return kNaN;
  };
  for (int d : depths) {
    const auto name = [&](const std::string& v, uint64_t s) { return depth_run_name(d, v, s); };
    const auto [p, b] = c.plain_bn(name, c.final_acc());
    const auto [p_grad, b_grad] = c.plain_bn(name, fc1_grad);
    stds.push_back(p.std);
    stds.push_back(b.std);
    // A norm no seed has (every run diverged in its first epoch) is "-", as every other empty cell.
    const auto g3 = [](double v) { return std::isfinite(v) ? fmt::format("{:.3g}", v) : std::string("-"); };
    rows.push_back(row({std::to_string(d), ms(p), ms(b), signed4(b.mean - p.mean), g3(p_grad.mean), g3(b_grad.mean)}));
    acc_p.add(d, p), acc_b.add(d, b), grad_p.add(d, p_grad), grad_b.add(d, b_grad);
  }
  const std::vector<double>&ap = acc_p.mean, &ab = acc_b.mean;
  const double tol = tolerance(stds, kMinAccTolerance);
  const Verdict v = unless_within_noise(depth_verdict(ap, ab, tol), tol, kAccEffect);
  const std::string summary =
      ap.empty() ? std::string("no depths")
                 : fmt::format("final validation accuracy at {} hidden layers: plain {:.4f}, batchnorm {:.4f}; at {}: plain {:.4f}, "
                               "batchnorm {:.4f} (tol {:.4f})",
                               depths.front(), ap.front(), ab.front(), depths.back(), ap.back(), ab.back(), tol);
  Figure fig{.title = fmt::format("4. Depth: MLPs with hidden layers of {} units", c.study.budget.depth_width),
             .caption = "Final validation accuracy, and the first layer's gradient norm in epoch 1, against the number of hidden layers."};
  Panel acc{.title = "final validation accuracy", .xlabel = "hidden layers", .ylabel = "validation accuracy", .logx = 2, .key = "below"};
  Panel grad{.title = "fc1.weight gradient norm, epoch 1 (mean over steps)", .xlabel = "hidden layers", .ylabel = "L2 norm",
             .logx = 2, .logy = true, .key = "below"};
  acc.series = plain_vs_bn(acc_p, acc_b);
  grad.series = plain_vs_bn(grad_p, grad_b, false);
  fig.panels = {acc, grad};
  const json numbers = numbers_table({"hidden layers", "plain: val acc", "batchnorm: val acc", "batchnorm − plain", "plain: fc1 grad",
                                      "batchnorm: fc1 grad"},
                                     rows);
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

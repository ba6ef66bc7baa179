// Study item 2. Higher learning rates: a learning-rate grid for SGD and Adam, plain vs batchnorm (lr-…).
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "lab/study_item.hpp"

namespace bnlab::lab {

namespace {

const char* const kOptimizers[] = {"sgd", "adam"};

std::vector<StudyJob> plan_runs(const ItemPlan& p) {
  const Budget& b = p.budget();
  std::vector<std::pair<std::string, double>> grid;  // (optimizer, learning rate)
  for (const char* opt : kOptimizers)
    for (double lr : b.learning_rates) grid.emplace_back(opt, lr);
  return grid_jobs(b, grid, kPlainVsBn, [&](uint64_t seed, const std::pair<std::string, double>& g, const std::string& v) {
    const auto& [opt, lr] = g;
    RunJob j = p.job(lr_run_name(opt, lr, v, seed), v, seed, b.epochs_grid);
    j.config.optimizer.kind = optimizer_from_string(opt);
    j.config.optimizer.lr = lr;
    return j;
  });
}

ItemResult analyze(ItemRuns& c) {
  const auto& lrs = c.study.budget.learning_rates;
  json rows = json::array();
  std::vector<LrOutcome> outcomes;
  std::vector<double> stds;
  struct Opt {
    std::string name;
    std::vector<LrCell> plain, bn;
    std::vector<MeanStd> mp, mb;
    Curve cp, cb;
  };
  std::vector<Opt> opts;
  for (const char* opt : kOptimizers) {
    Opt o{opt, {}, {}, {}, {}, {}, {}};
    for (double lr : lrs) {
      const auto name = [&](const std::string& v, uint64_t s) { return lr_run_name(opt, lr, v, s); };
      const auto [p, b] = c.plain_bn(name, c.final_acc());
      const auto diverged_seeds = [&](const std::string& v) {
        int n = 0;
        for (uint64_t s : c.seeds()) n += diverged(c.run(name(v, s)));
        return n;
      };
      o.plain.push_back({lr, p.mean, diverged_seeds("plain")});
      o.bn.push_back({lr, b.mean, diverged_seeds("batchnorm")});
      o.mp.push_back(p), o.mb.push_back(b);
      o.cp.add(lr, p), o.cb.add(lr, b);
      stds.push_back(p.std);
      stds.push_back(b.std);
    }
    opts.push_back(std::move(o));
  }
  const double tol = tolerance(stds, kMinAccTolerance);
  const double margin = std::max(kLrMargin, tol);
  json max_good = json::object();
  std::string summary = "largest learning rate that trains well —";
  Figure fig{.title = "2. Learning rates: final validation accuracy (diverged runs at chance)",
             .caption = "Final validation accuracy against the learning rate; the dotted line is 'trains well' (best − margin)."};
  const size_t seeds = c.seeds().size();
  for (const Opt& o : opts) {
    double best = -1;
    for (const auto* cells : {&o.plain, &o.bn})
      for (const LrCell& cell : *cells)
        if (std::isfinite(cell.acc_mean)) best = std::max(best, cell.acc_mean);
    const LrOutcome out{max_good_lr(o.plain, best, margin), max_good_lr(o.bn, best, margin)};
    outcomes.push_back(out);
    max_good[o.name] = {{"plain", out.max_good_plain}, {"batchnorm", out.max_good_bn}, {"best", best}};
    summary += fmt::format(" {}: plain {}, batchnorm {};", o.name, out.max_good_plain > 0 ? fmt::format("{}", out.max_good_plain) : "none",
                           out.max_good_bn > 0 ? fmt::format("{}", out.max_good_bn) : "none");
    Panel p{.title = o.name, .xlabel = "learning rate", .ylabel = "final validation accuracy", .logx = 10, .key = "below"};
    p.hline = best - margin;
    p.hline_title = "trains well above";
    for (size_t i = 0; i < lrs.size(); ++i)
      rows.push_back(row({o.name, fmt::format("{}", lrs[i]), ms(o.mp[i]), fmt::format("{}/{}", o.plain[i].diverged, seeds),
                          ms(o.mb[i]), fmt::format("{}/{}", o.bn[i].diverged, seeds)}));
    p.series = plain_vs_bn(o.cp, o.cb);
    fig.panels.push_back(std::move(p));
  }
  summary.pop_back();
  const Verdict v = unless_within_noise(learning_rate_verdict(outcomes), tol, kAccEffect);
  json numbers =
      numbers_table({"optimizer", "lr", "plain: val acc", "plain: diverged", "batchnorm: val acc", "batchnorm: diverged"}, rows);
  numbers["margin"] = margin;
  numbers["max_good_lr"] = max_good;
  return {v, tol, summary, numbers, fig};
}

}  // namespace

StudyItem study_item_learning_rates() {
  return {.id = 2,
          .name = "learning rates",
          .title = "higher learning rates",
          .claim =
              "Batch normalization allows higher learning rates: training stays stable and accurate at rates where the plain network "
              "fails.",
          .criterion = fmt::format(
              "A learning-rate grid for SGD and for Adam, plain vs batchnorm, same seeds and epochs. A variant trains well at a "
              "rate if no seed diverged (non-finite loss or gradient) and its mean final validation accuracy is within "
              "max({}, tol) of the best mean that either variant reached with that optimizer at any rate; {}. Supported if, for "
              "every optimizer, the largest rate at which batchnorm trains well is larger than plain's. Not supported if for no "
              "optimizer. Mixed otherwise.",
              kLrMargin, accuracy_tolerance_text()),
          .jobs = plan_runs,
          .analyze = analyze};
}

}  // namespace bnlab::lab

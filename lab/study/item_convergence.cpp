// Study item 1. Faster convergence: the reference models, plain and batchnorm trained side by side (ref-…),
// epochs and wall time to a validation accuracy. Items 6 and 7 read these runs too.
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "lab/study_item.hpp"

namespace bnlab::lab {

namespace {

std::vector<StudyJob> plan_runs(const ItemPlan& p) {
  const Budget& b = p.budget();
  // No grid (one job per seed); trained side by side: this item compares their wall times.
  return grid_jobs(
      b, std::vector<int>{0}, kPlainVsBn,
      [&](uint64_t seed, int, const std::string& v) {
        RunJob j = p.job(reference_run_name(v, seed), v, seed, b.epochs_reference);
        j.eval_train = true;
        j.eval_batch_stats = v == "batchnorm";
        return j;
      },
      /*side_by_side=*/true);
}

ItemResult analyze(ItemRuns& c) {
  const double T = c.study.threshold;
  json rows = json::array();
  std::vector<ConvergenceSeed> seeds;
  std::vector<double> ep_plain, ep_bn, t_plain, t_bn;
  for (uint64_t s : c.seeds()) {
    const RunRecord& p = c.run(reference_run_name("plain", s));
    const RunRecord& b = c.run(reference_run_name("batchnorm", s));
    ConvergenceSeed cs;
    cs.epochs_plain = first_epoch_reaching(p, T);
    cs.epochs_bn = first_epoch_reaching(b, T);
    cs.seconds_plain = cs.epochs_plain ? seconds_through_epoch(p, *cs.epochs_plain) : kNaN;
    cs.seconds_bn = cs.epochs_bn ? seconds_through_epoch(b, *cs.epochs_bn) : kNaN;
    seeds.push_back(cs);
    ep_plain.push_back(cs.epochs_plain ? *cs.epochs_plain : kNaN);
    ep_bn.push_back(cs.epochs_bn ? *cs.epochs_bn : kNaN);
    t_plain.push_back(cs.seconds_plain);
    t_bn.push_back(cs.seconds_bn);
    rows.push_back(row({std::to_string(s), epochs_text(cs.epochs_plain), epochs_text(cs.epochs_bn), f4(cs.seconds_plain),
                        f4(cs.seconds_bn), f4(mean_epoch_seconds(p)), f4(mean_epoch_seconds(b))}));
  }
  const MeanStd mep = mean_std(ep_plain), meb = mean_std(ep_bn), mtp = mean_std(t_plain), mtb = mean_std(t_bn);
  const Verdict v = convergence_verdict(seeds);
  rows.push_back(row({"mean", format_mean_std(mep, 2), format_mean_std(meb, 2), format_mean_std(mtp, 2), format_mean_std(mtb, 2),
                      "", ""}));
  std::string summary = fmt::format(
      "val acc >= {}: plain at epoch {} ({}/{} seeds reached it, {} s of training), batchnorm at epoch {} ({}/{}, {} s)", T,
      format_mean_std(mep, 1), mep.n, c.seeds().size(), format_mean_std(mtp, 1), format_mean_std(meb, 1), meb.n,
      c.seeds().size(), format_mean_std(mtb, 1));
  if (mep.n == 0 && meb.n == 0) summary += "; neither reached the threshold, so this says nothing about speed";

  Figure fig{.title = "1. Convergence: plain vs batchnorm (" + seeds_note(c.seeds().size()) + ")",
             .caption = "Validation accuracy per epoch and against training wall time; the dotted line is the threshold."};
  Panel acc{.title = "validation accuracy per epoch", .xlabel = "epoch", .ylabel = "validation accuracy", .key = "below"};
  Panel wall{.title = "validation accuracy vs training time", .xlabel = "training seconds (cumulative)",
             .ylabel = "validation accuracy", .key = "below"};
  acc.hline = wall.hline = T;
  acc.hline_title = wall.hline_title = fmt::format("threshold {}", T);
  for (const auto& [variant, color] : {std::pair<std::string, int>{"plain", kPlainColor}, {"batchnorm", kBnColor}}) {
    // An init-capture: clang before 16 (the fuzz build's) cannot capture a structured binding.
    const auto name = [&, &v = variant](uint64_t s) { return reference_run_name(v, s); };
    const Curve va = epoch_curve(c, name, EpochMetric::val_acc);
    const Curve sec = epoch_curve(c, name, EpochMetric::seconds);
    std::vector<double> cumulative;
    double t = 0;
    for (double x : sec.mean) cumulative.push_back(t += x);
    acc.series.push_back(make_series(variant, va.x, va.mean, va.std, color));
    wall.series.push_back(make_series(variant, cumulative, va.mean, {}, color));
  }
  fig.panels = {acc, wall};
  json numbers = numbers_table({"seed", "plain: epoch", "batchnorm: epoch", "plain: s to T", "batchnorm: s to T", "plain: s/epoch",
                                "batchnorm: s/epoch"},
                               rows);
  numbers["threshold"] = T;
  numbers["epochs_plain"] = numbers_json(ep_plain);
  numbers["epochs_bn"] = numbers_json(ep_bn);
  numbers["seconds_plain"] = numbers_json(t_plain);
  numbers["seconds_bn"] = numbers_json(t_bn);
  return {v, kNaN, summary, numbers, fig};
}

}  // namespace

StudyItem study_item_convergence() {
  return {.id = 1,
          .name = "convergence",
          .title = "faster convergence",
          .claim = "Batch normalization makes training converge faster: fewer epochs (and less time) to a given validation accuracy.",
          .criterion =
              "Plain vs batchnorm (the reference models), same seeds. For each seed, the first epoch at which validation "
              "accuracy reaches the threshold T, and the training seconds up to the end of that epoch. Supported if batchnorm "
              "reaches T in every seed, in fewer epochs than plain in every seed (never reaching T counts as slower), and in "
              "less mean wall time than plain (or plain never reaches T). Not supported if in every seed batchnorm needs at "
              "least as many epochs as plain (never counts as more; neither reaching T counts as not faster). Mixed otherwise.",
          .jobs = plan_runs,
          .analyze = analyze};
}

}  // namespace bnlab::lab

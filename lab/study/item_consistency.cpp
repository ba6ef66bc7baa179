// Study item: consistency — the spread of item 1's reference runs from seed to seed (final validation
// accuracy) and from step to step (the training loss within the last epoch). It trains none of its own.
#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "lab/study_item.hpp"

namespace bnlab::lab {

namespace {

// train_loss_std / train_loss of the last epoch: NaN when it was not recorded (older files) or the
// run has no epoch.
double relative_step_spread(const RunRecord& r) {
  return final_value(r, EpochMetric::train_loss_std) / final_value(r, EpochMetric::train_loss);
}

ItemResult analyze(ItemRuns& c) {
  json rows = json::array();
  MeanStd acc[2], steps[2];
  for (int i = 0; i < 2; ++i) {
    const auto name = [&](uint64_t s) { return reference_run_name(kPlainVsBn[i], s); };
    acc[i] = c.cell(name, c.final_acc());
    steps[i] = c.cell(name, relative_step_spread);
    const MeanStd loss_std = c.cell(name, [](const RunRecord& r) { return final_value(r, EpochMetric::train_loss_std); });
    rows.push_back(row({kPlainVsBn[i], ms(acc[i]), f4(acc[i].std), ms(loss_std), ms(steps[i])}));
  }
  const ConsistencySpread sp{acc[0].std, acc[1].std, steps[0].mean, steps[1].mean};
  const Verdict v = consistency_verdict(sp);
  const std::string summary = fmt::format(
      "seed-to-seed std of final validation accuracy: plain {}, batchnorm {}; last epoch's step-loss std / mean loss: plain {}, "
      "batchnorm {} (smaller = below {}× the other)",
      f4(sp.seeds_plain), f4(sp.seeds_bn), f4(sp.steps_plain), f4(sp.steps_bn), kSpreadRatio);
  Figure fig{.title = "Consistency: spread over seeds and over steps (reference runs)",
             .caption = "Validation accuracy per epoch (mean ± std over seeds), and the standard deviation of the step losses within "
                        "each epoch relative to the epoch's mean training loss."};
  Panel val{.title = "validation accuracy (± std over seeds)", .xlabel = "epoch", .ylabel = "validation accuracy", .key = "below"};
  Panel step{.title = "step-to-step spread of the training loss", .xlabel = "epoch", .ylabel = "step-loss std / mean loss",
             .key = "below"};
  Curve va[2], rel[2];
  for (int i = 0; i < 2; ++i) {
    const auto name = [&](uint64_t s) { return reference_run_name(kPlainVsBn[i], s); };
    va[i] = epoch_curve(c, name, EpochMetric::val_acc);
    const Curve sd = epoch_curve(c, name, EpochMetric::train_loss_std), lo = epoch_curve(c, name, EpochMetric::train_loss);
    for (size_t e = 0; e < sd.x.size() && e < lo.x.size(); ++e) rel[i].add(sd.x[e], {sd.mean[e] / lo.mean[e], kNaN});
  }
  val.series = plain_vs_bn(va[0], va[1]);
  step.series = plain_vs_bn(rel[0], rel[1], false);
  fig.panels = {val, step};
  json numbers = numbers_table({"variant", "final val acc", "seed-to-seed std", "last epoch: step-loss std", "step-loss std / mean loss"},
                               rows);
  numbers["spread"] = {{"seeds_plain", json_number(sp.seeds_plain)},
                       {"seeds_bn", json_number(sp.seeds_bn)},
                       {"steps_plain", json_number(sp.steps_plain)},
                       {"steps_bn", json_number(sp.steps_bn)}};
  return {v, kNaN, summary, numbers, fig};
}

}  // namespace

StudyItem study_item_consistency() {
  return {.id = 10,
          .name = "consistency",
          .title = "more consistent training",
          .claim = "Batch normalization makes the network's performance more consistent across different mini-batches, leading to "
                   "more predictable and reliable training outcomes.",
          .criterion = fmt::format(
              "The runs of item 1. Two spreads: the seed-to-seed standard deviation of the final validation accuracy (a diverged "
              "run at chance), and the step-to-step spread of the training loss — the standard deviation of the step losses in "
              "the last epoch divided by that epoch's mean training loss (relative, as the variants end at different losses), "
              "averaged over seeds. A spread is smaller for batchnorm if it is below {} × plain's (the std of 3 seeds is only "
              "known to about ±50%). Supported if smaller in both. Not supported if in neither. Mixed if in one, or if a spread "
              "could not be computed (runs recorded without train_loss_std).",
              kSpreadRatio),
          .reads = {{.item = 1}},
          .analyze = analyze};
}

}  // namespace bnlab::lab

// Study item 6. Regularization: the generalization gap of item 1's reference runs (it trains none of its own).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "lab/study_item.hpp"

namespace bnlab::lab {

namespace {

ItemResult analyze(ItemRuns& c) {
  json rows = json::array();
  std::vector<double> stds;
  MeanStd gap[2], val[2];
  const auto& variants = kPlainVsBn;
  for (int i = 0; i < 2; ++i) {
    const auto name = [&](uint64_t s) { return reference_run_name(variants[i], s); };
    const MeanStd train = c.cell(name, [](const RunRecord& r) { return score(r.eval_train, Score::acc); });
    val[i] = c.cell(name, c.final_acc());
    gap[i] = c.cell(name, [](const RunRecord& r) { return score(r.eval_train, Score::acc) - final_value(r, EpochMetric::val_acc); });
    const MeanStd test = c.cell(name, [](const RunRecord& r) { return test_value(r, Score::acc); });
    for (const MeanStd* m : {&val[i], &gap[i]}) stds.push_back(m->std);
    rows.push_back(row({variants[i], ms(train), ms(val[i]), ms(gap[i]), ms(test)}));
  }
  const double tol = tolerance(stds, kMinAccTolerance);
  const Verdict v = unless_within_noise(regularization_verdict(gap[0].mean, gap[1].mean, val[0].mean, val[1].mean, tol), tol, kAccEffect);
  const std::string summary = fmt::format(
      "train − validation accuracy gap: plain {:.4f}, batchnorm {:.4f}; validation accuracy: plain {:.4f}, batchnorm {:.4f} (tol {:.4f})",
      gap[0].mean, gap[1].mean, val[0].mean, val[1].mean, tol);
  Figure fig{.title = "6. Regularization: training vs validation accuracy (reference runs)",
             .caption = "Training accuracy (running average over each epoch, train mode) and validation accuracy, and their difference."};
  Panel acc{.title = "accuracy per epoch", .xlabel = "epoch", .ylabel = "accuracy", .key = "below"};
  Panel diff{.title = "train − validation accuracy", .xlabel = "epoch", .ylabel = "accuracy gap", .key = "below"};
  for (int i = 0; i < 2; ++i) {
    const auto name = [&](uint64_t s) { return reference_run_name(variants[i], s); };
    const int color = i == 0 ? kPlainColor : kBnColor;
    const Curve tr = epoch_curve(c, name, EpochMetric::train_acc), va = epoch_curve(c, name, EpochMetric::val_acc);
    std::vector<double> g;
    for (size_t e = 0; e < tr.mean.size(); ++e) g.push_back(tr.mean[e] - va.mean[e]);
    acc.series.push_back(make_series(variants[i] + " train", tr.x, tr.mean, {}, color, true));
    acc.series.push_back(make_series(variants[i] + " val", va.x, va.mean, {}, color));
    diff.series.push_back(make_series(variants[i], tr.x, g, {}, color));
  }
  fig.panels = {acc, diff};
  const json numbers = numbers_table({"variant", "train acc (eval mode)", "val acc", "gap", "test acc"}, rows);
  return {v, tol, summary, numbers, fig};
}

}  // namespace

StudyItem study_item_regularization() {
  return {.id = 6,
          .name = "regularization",
          .title = "regularization",
          .claim =
              "Batch normalization acts as a regularizer: it reduces overfitting (the gap between training and validation accuracy) "
              "and improves generalization.",
          .criterion = fmt::format(
              "The runs of item 1. Generalization gap = accuracy on the training split (evaluated in eval mode after training) "
              "− final validation accuracy. Supported if batchnorm's gap is smaller than plain's by more than tol AND its "
              "validation accuracy is higher by more than tol. Not supported if neither holds. Mixed if one does; {}.",
              accuracy_tolerance_text()),
          .reads = {{.item = 1}},
          .analyze = analyze};
}

}  // namespace bnlab::lab

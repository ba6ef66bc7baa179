// Study item: regularization still needed — the batch-norm model trained with AdamW alone, with weight
// decay and with dropout (reg-…): does an explicit regularizer still improve on batch norm?
#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "lab/study_item.hpp"

namespace bnlab::lab {

namespace {

// "none" first: the other arms are compared with it.
const std::vector<std::string> kArms = {"none", "wd", "dropout"};

std::vector<StudyJob> plan_runs(const ItemPlan& p) {
  const Budget& b = p.budget();
  return grid_jobs(b, kArms, {"batchnorm"}, [&](uint64_t seed, const std::string& arm, const std::string& v) {
    ModelOptions refine;
    if (arm == "dropout") refine.dropout = b.dropout;
    RunJob j = p.job(regularizer_run_name(arm, seed), v, seed, b.epochs_regularizers, refine);
    // AdamW in every arm, so that the arms differ in the regularizer alone (AdamW with decay 0 is Adam).
    j.config.optimizer.kind = OptimizerKind::adamw;
    j.config.optimizer.weight_decay = arm == "wd" ? b.weight_decay : 0.0;
    j.eval_train = true;  // for the generalization gap
    return j;
  });
}

ItemResult analyze(ItemRuns& c) {
  const Budget& b = c.study.budget;
  json rows = json::array();
  std::vector<double> stds;
  MeanStd val[3], gap[3];
  for (size_t i = 0; i < kArms.size(); ++i) {
    const auto name = [&](uint64_t s) { return regularizer_run_name(kArms[i], s); };
    const MeanStd train = c.cell(name, [](const RunRecord& r) { return score(r.eval_train, Score::acc); });
    val[i] = c.cell(name, c.final_acc());
    gap[i] = c.cell(name, [](const RunRecord& r) { return score(r.eval_train, Score::acc) - final_value(r, EpochMetric::val_acc); });
    const MeanStd test = c.cell(name, [](const RunRecord& r) { return test_value(r, Score::acc); });
    stds.push_back(val[i].std), stds.push_back(gap[i].std);
    rows.push_back(row({kArms[i], ms(train), ms(val[i]), ms(gap[i]), ms(test), i == 0 ? "" : signed4(val[i].mean - val[0].mean),
                        i == 0 ? "" : signed4(gap[0].mean - gap[i].mean)}));
  }
  std::vector<RegularizerEffect> effects;
  for (size_t i = 1; i < kArms.size(); ++i) effects.push_back({val[i].mean - val[0].mean, gap[0].mean - gap[i].mean});
  const double tol = tolerance(stds, kMinAccTolerance);
  const Verdict v = unless_within_noise(regularizers_verdict(effects, tol), tol, kAccEffect);
  const std::string summary = fmt::format(
      "batchnorm validation accuracy: alone {:.4f}, + weight decay {} {:.4f} ({}), + dropout {} {:.4f} ({}); gap: alone {:.4f}, "
      "+ weight decay {:.4f}, + dropout {:.4f} (tol {:.4f})",
      val[0].mean, b.weight_decay, val[1].mean, signed4(effects[0].acc_gain), b.dropout, val[2].mean, signed4(effects[1].acc_gain),
      gap[0].mean, gap[1].mean, gap[2].mean, tol);
  Figure fig{.title = "Regularization still needed: batch norm alone, with weight decay, with dropout",
             .caption = "Validation accuracy per epoch (mean ± std over seeds) and training (running, train mode) − validation "
                        "accuracy, per arm."};
  Panel acc{.title = "validation accuracy", .xlabel = "epoch", .ylabel = "validation accuracy", .key = "below"};
  Panel diff{.title = "train − validation accuracy", .xlabel = "epoch", .ylabel = "accuracy gap", .key = "below"};
  for (size_t i = 0; i < kArms.size(); ++i) {
    const auto name = [&](uint64_t s) { return regularizer_run_name(kArms[i], s); };
    const Curve tr = epoch_curve(c, name, EpochMetric::train_acc), va = epoch_curve(c, name, EpochMetric::val_acc);
    std::vector<double> g;
    for (size_t e = 0; e < tr.mean.size() && e < va.mean.size(); ++e) g.push_back(tr.mean[e] - va.mean[e]);
    const int color = static_cast<int>(i) == 0 ? kBnColor : static_cast<int>(i) == 1 ? kPlainColor : kLnColor;
    acc.series.push_back(make_series("batchnorm " + kArms[i], va.x, va.mean, va.std, color));
    diff.series.push_back(make_series("batchnorm " + kArms[i], tr.x, g, {}, color));
  }
  fig.panels = {acc, diff};
  json numbers = numbers_table({"regularizer", "train acc (eval mode)", "val acc", "gap", "test acc", "val acc gain", "gap reduction"}, rows);
  numbers["weight_decay"] = b.weight_decay;
  numbers["dropout"] = b.dropout;
  return {v, tol, summary, numbers, fig};
}

}  // namespace

StudyItem study_item_regularizers() {
  return {.id = 12,
          .name = "regularizers",
          .title = "regularization still needed",
          .claim = "While batch normalization acts as a form of regularization, it may not eliminate the need for other "
                   "regularization techniques.",
          .criterion = fmt::format(
              "The batch-norm model trained with AdamW, same seeds and epochs, in three arms: no explicit regularizer (weight "
              "decay 0), decoupled weight decay, and dropout after each hidden block (the budget's weight_decay and dropout). "
              "Per regularizer: the gain in mean final validation accuracy over the arm without, and the reduction of the "
              "generalization gap (training accuracy in eval mode after training − final validation accuracy). Supported (still "
              "needed) if some regularizer raises validation accuracy by more than tol. Not supported (batch norm alone is "
              "enough) if none raises it or narrows the gap by more than tol. Mixed if none raises it but some narrows the gap "
              "by more than tol; {}.",
              accuracy_tolerance_text()),
          .jobs = plan_runs,
          .analyze = analyze};
}

}  // namespace bnlab::lab

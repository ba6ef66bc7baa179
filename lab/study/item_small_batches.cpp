// Study item 5. Small batches: batch norm, layer norm and no normalization at small batch sizes (batch…).
// Item 7 reads the batch-norm runs too.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "lab/study_item.hpp"

namespace bnlab::lab {

namespace {

const std::vector<std::string> kVariants = {"plain", "batchnorm", "layernorm"};

std::vector<StudyJob> plan_runs(const ItemPlan& p) {
  const Budget& b = p.budget();
  return grid_jobs(b, b.small_batches, kVariants, [&](uint64_t seed, int64_t batch, const std::string& v) {
    RunJob j = p.job(batch_run_name(batch, v, seed), v, seed, b.epochs_small_batch);
    j.config.batch_size = batch;
    // A last batch of one sample cannot train batch norm; drop incomplete batches for all three alike.
    j.config.drop_last = true;
    j.eval_batch_stats = v == "batchnorm";
    return j;
  });
}

ItemResult analyze(ItemRuns& c) {
  const auto& batches = c.study.budget.small_batches;
  json rows = json::array();
  std::vector<double> stds, gaps;
  std::vector<Curve> acc(3);  // per variant
  for (int64_t b : batches) {
    MeanStd m[3];
    for (size_t i = 0; i < 3; ++i) {
      m[i] = c.cell([&](uint64_t s) { return batch_run_name(b, kVariants[i], s); }, c.final_acc());
      acc[i].add(static_cast<double>(b), m[i]);
    }
    // The tolerance comes from the compared cells, batch norm and none; layer norm is reported beside them.
    stds.push_back(m[0].std);
    stds.push_back(m[1].std);
    gaps.push_back(m[1].mean - m[0].mean);
    rows.push_back(row({std::to_string(b), ms(m[0]), ms(m[1]), ms(m[2]), signed4(m[1].mean - m[0].mean), signed4(m[2].mean - m[0].mean)}));
  }
  const double tol = tolerance(stds, kMinAccTolerance);
  const double gs = gaps.empty() ? kNaN : gaps.front(), gl = gaps.empty() ? kNaN : gaps.back();
  const Verdict v = unless_within_noise(std::isfinite(gs) && std::isfinite(gl) ? small_batch_verdict(gs, gl, tol) : Verdict::mixed, tol, kAccEffect);
  const std::string summary =
      batches.empty() ? std::string("no batch sizes")
                      : fmt::format("batchnorm − none in final validation accuracy: {:+.4f} at batch {}, {:+.4f} at batch {}; "
                                    "layernorm − none: {:+.4f} and {:+.4f} (tol {:.4f})",
                                    gs, batches.front(), gl, batches.back(), acc[2].mean.front() - acc[0].mean.front(),
                                    acc[2].mean.back() - acc[0].mean.back(), tol);
  Figure fig{.title = "5. Small batches: final validation accuracy vs batch size",
             .columns = 1,
             .caption = "Batch norm, layer norm and no normalization trained with the same seeds and epochs at each batch size."};
  Panel p{.title = "final validation accuracy (eval mode)", .xlabel = "batch size", .ylabel = "validation accuracy", .logx = 2,
          .key = "below"};
  const char* labels[] = {"none", "batch norm", "layer norm"};
  const int colors[] = {kPlainColor, kBnColor, kLnColor};
  for (size_t i = 0; i < 3; ++i) p.series.push_back(make_series(labels[i], acc[i].x, acc[i].mean, acc[i].std, colors[i]));
  fig.panels = {p};
  json numbers = numbers_table({"batch size", "none", "batch norm", "layer norm", "batch − none", "layer − none"}, rows);
  numbers["gap_smallest"] = json_number(gs);
  numbers["gap_largest"] = json_number(gl);
  return {v, tol, summary, numbers, fig};
}

}  // namespace

StudyItem study_item_small_batches() {
  return {.id = 5,
          .name = "small batches",
          .title = "small batches",
          .claim =
              "Batch normalization works poorly with very small batches, whose statistics are noisy (layer normalization, which does "
              "not use the batch, is the usual alternative).",
          .criterion = fmt::format(
              "Batch sizes 2, 4, 8, 16 with batch norm, layer norm and no normalization, same seeds and epochs (incomplete "
              "last batches dropped for all). gap(b) = batchnorm's mean final validation accuracy − no-normalization's at batch "
              "size b. Supported if gap(smallest) < −tol and gap(smallest) < gap(largest) − tol (batch norm is worse than no "
              "normalization at the smallest batch, and its deficit grows as the batch shrinks). Not supported if gap(smallest) "
              ">= gap(largest) − tol. Mixed otherwise. Layer norm is reported beside them; {}.",
              accuracy_tolerance_text()),
          .jobs = plan_runs,
          .analyze = analyze};
}

}  // namespace bnlab::lab

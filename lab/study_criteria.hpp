// The decision rules of `bnlab study`: for each claim about batch normalization, the criterion that
// turns measured numbers into a verdict — supported, not supported, mixed or inconclusive. They are written down
// here, before any run, as plain functions of plain numbers, so they can be read and unit-tested;
// each item (lab/study/item_<name>.cpp) states its rule in words for the report (StudyItem::criterion)
// and applies it here. They were NOT chosen or adjusted after looking at results; the grids and
// defaults of study_plan.hpp were fixed the same way.
//
// Noise: a difference in accuracy counts only when it exceeds the tolerance
//   tol = max(kMinAccTolerance, the largest seed-to-seed standard deviation of the compared cells),
// so with one seed (no spread) differences under one percentage point are "no difference". Times
// use a relative tolerance, max(kMinTimeTolerance, the largest relative seed-to-seed std).
// A diverged run (non-finite loss or gradient) counts as chance accuracy (1 / classes).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace bnlab::lab {

enum class Verdict { supported, not_supported, mixed, inconclusive };
const char* to_string(Verdict v);  // "supported", "not supported", "mixed", "inconclusive"

inline constexpr double kMinAccTolerance = 0.01;   // one percentage point of accuracy
inline constexpr double kMinTimeTolerance = 0.05;  // 5% of a time
inline constexpr double kLrMargin = 0.02;          // item 2: "trains well" = within this of the best
// Consistency: a spread counts as smaller only below this share of the other's. The sample std of 3
// seeds has a relative standard error of about 1/sqrt(2·(3 − 1)) = 50%, so only a factor of two
// stands out of its noise; the step-loss spread is held to the same factor so both are judged alike.
inline constexpr double kSpreadRatio = 0.5;
// Hyperparameter sensitivity: batch norm's share of the grid that trains well must exceed plain's
// by more than this (a share, not accuracy): one configuration of an 18-cell grid is 0.056, which one
// noisy cell can flip, so it takes at least two more.
inline constexpr double kShareMargin = 0.1;

// "Trains well" (items 2 and hyperparameter sensitivity): no seed diverged and the mean final
// validation accuracy is finite and at least best − margin.
bool trains_well(double acc_mean, int diverged, double best, double margin);

// ---- Inconclusive: noise as wide as the effect ------------------------------------------------
// Every item with a tolerance states, before any run, the effect its criterion asks about. When the
// tolerance is at least that effect the data could not have told the claim apart from noise, and
// the verdict is `inconclusive` whatever the criterion would have said:
//   verdict = tol >= effect ? inconclusive : criterion verdict.
// A NaN tolerance (item 1 counts epochs per seed and has none) leaves the verdict as it is.
// Accuracy items (2–7, 9, 12): the claims are about differences of several percentage points; a
//   seed-to-seed std of 0.05 or more means seeds disagree more than the effects claimed. (The
//   tolerance itself cannot be the effect: the rule would then never apply.)
// Items 10 and 11 decide on ratios of spreads and shares of a grid, with margins of their own
//   (kSpreadRatio, kShareMargin), not on a tolerance, and never read inconclusive.
// Item 8: batch norm's arithmetic per step is a few passes over the activations against the dense
//   products' 6·fan-in flops per activation, a few percent; what the claim says a practitioner pays
//   is a noticeable slowdown, which we fix at a quarter more time per step. A relative time
//   tolerance of 25% or more could not have told such a slowdown from load.
inline constexpr double kAccEffect = 0.05;   // five percentage points of accuracy
inline constexpr double kCostEffect = 0.25;  // 25% more time per step
Verdict unless_within_noise(Verdict v, double tol, double effect);

// max(floor, the largest finite value of `stds`).
double tolerance(const std::vector<double>& stds, double floor);

// "tol = max(0.01, the largest seed-to-seed standard deviation of the compared accuracies)": how
// the criteria of the accuracy items state the tolerance.
const std::string& accuracy_tolerance_text();

// ---- 1. Faster convergence -------------------------------------------------------------------
// Per seed: the first epoch each variant's validation accuracy reached the threshold (nullopt =
// never), and the training seconds up to the end of that epoch (ignored when never).
struct ConvergenceSeed {
  std::optional<int> epochs_plain, epochs_bn;
  double seconds_plain = 0, seconds_bn = 0;
};
// supported: BN reaches the threshold in every seed, in fewer epochs than plain in every seed
//   (never = slower than any epoch), and in less mean wall time than plain (or plain never reaches it);
// not supported: in every seed BN needs at least as many epochs as plain (never counts as more;
//   neither variant reaching it in a seed counts as "not faster");
// mixed: otherwise.
Verdict convergence_verdict(const std::vector<ConvergenceSeed>& seeds);

// ---- 2. Higher learning rates ----------------------------------------------------------------
// One learning rate of the grid for one variant and optimizer.
struct LrCell {
  double lr = 0;
  double acc_mean = 0;  // final validation accuracy, mean over seeds (diverged seeds at chance)
  int diverged = 0;     // seeds that diverged
};
// The largest learning rate at which the variant "trains well": no seed diverged and its mean final
// validation accuracy is at least `best − margin`, where `best` is the best mean of either variant
// with this optimizer at any learning rate. 0 when it trains well at none.
double max_good_lr(const std::vector<LrCell>& cells, double best, double margin);
struct LrOutcome {
  double max_good_plain = 0, max_good_bn = 0;  // per optimizer
};
// supported: for every optimizer BN trains well at a larger learning rate than plain;
// not supported: for no optimizer; mixed: for some.
Verdict learning_rate_verdict(const std::vector<LrOutcome>& optimizers);

// ---- 3. Initialization -----------------------------------------------------------------------
// The spread (max − min over weight scales) of the mean validation accuracy, after the last epoch
// and after the first epoch.
struct InitSpread {
  double final_plain = 0, final_bn = 0;
  double first_plain = 0, first_bn = 0;
};
// supported: BN's spread is smaller than plain's by more than tol in both measures;
// not supported: in neither; mixed: in one.
Verdict init_verdict(const InitSpread& s, double tol);

// ---- 4. Depth --------------------------------------------------------------------------------
// Mean final validation accuracy per depth (same order for both, shallowest first).
// supported: at the deepest network BN beats plain by more than tol, AND BN loses less accuracy
//   from the shallowest to the deepest than plain does (by more than tol);
// not supported: at no depth does BN beat plain by more than tol;
// mixed: otherwise.
Verdict depth_verdict(const std::vector<double>& acc_plain, const std::vector<double>& acc_bn, double tol);

// ---- 5. Small batches ------------------------------------------------------------------------
// gap(b) = BN's mean final validation accuracy − no-normalization's, at batch size b; the smallest
// and the largest batch size of the grid.
// supported: gap(smallest) < −tol (BN is worse than no normalization there) and gap(smallest) <
//   gap(largest) − tol (and its deficit grows as the batch shrinks);
// not supported: gap(smallest) >= gap(largest) − tol (no deterioration at small batches);
// mixed: otherwise (BN deteriorates relative to none but is not worse than none).
Verdict small_batch_verdict(double gap_smallest, double gap_largest, double tol);

// ---- 6. Regularization -----------------------------------------------------------------------
// gap = accuracy on the training split (eval mode, after training) − validation accuracy.
// supported: BN's gap is smaller than plain's by more than tol AND BN's validation accuracy is
//   higher by more than tol; not supported: neither; mixed: one of the two.
Verdict regularization_verdict(double gap_plain, double gap_bn, double val_plain, double val_bn, double tol);

// ---- 7. Train/eval difference ----------------------------------------------------------------
// Per training batch size: validation accuracy with running statistics − with batch statistics
// (chunks of the training batch size).
// supported: >= −tol at every batch size (running statistics are at least as good);
// not supported: < −tol at every batch size; mixed: otherwise.
Verdict train_eval_verdict(const std::vector<double>& running_minus_batch, double tol);

// ---- 8. Cost ---------------------------------------------------------------------------------
// Per batch size: BN's seconds per training step / plain's.
// supported (BN costs more): ratio > 1 + tol_rel at every batch size;
// not supported: ratio <= 1 + tol_rel at every batch size; mixed: otherwise.
Verdict cost_verdict(const std::vector<double>& ratios, double tol_rel);

// ---- 9. Per-worker or synchronized statistics --------------------------------------------------
// Per per-worker batch size b (smallest first): gap(b) = the mean final validation accuracy with
// per-worker ("local", ghost-batch) statistics − with statistics synchronized over the global batch.
// supported: gap(smallest) < −tol (local is worse at the smallest per-worker batch) and
//   gap(smallest) < gap(largest) − tol (the harm grows as the per-worker batch shrinks);
// not supported: gap(b) >= −tol at every b (local is never worse than sync by more than tol);
// mixed: otherwise (an empty list included).
Verdict worker_statistics_verdict(const std::vector<double>& local_minus_sync, double tol);

// ---- Consistency (more consistent, more stable training) ---------------------------------------
// seeds_*: the seed-to-seed standard deviation of the final validation accuracy (diverged = chance);
// steps_*: the step-to-step spread of the training loss in the last epoch, relative to its level —
//   train_loss_std / train_loss, the mean over seeds (relative, because the loss's fluctuation grows
//   with the loss and the variants end at different losses).
struct ConsistencySpread {
  double seeds_plain = 0, seeds_bn = 0;
  double steps_plain = 0, steps_bn = 0;
};
// A measure is smaller for BN when bn < kSpreadRatio · plain.
// supported: smaller in both measures; not supported: in neither; mixed: in one, or a measure is
//   missing (not finite: runs recorded before train_loss_std, say) — the data cannot decide.
Verdict consistency_verdict(const ConsistencySpread& s);

// ---- Hyperparameter sensitivity --------------------------------------------------------------
// share_* = the fraction of the grid's configurations (learning rate × weight scale × batch size) at
// which the variant trains well (trains_well, best = the best mean of either variant anywhere).
// supported: share_bn > share_plain + kShareMargin; not supported: share_bn <= share_plain;
// mixed: otherwise (higher, but by no more than the margin).
Verdict sensitivity_verdict(double share_plain, double share_bn);

// ---- Regularization still needed -------------------------------------------------------------
// Per explicit regularizer added to the batch-norm model (weight decay, dropout): the gain in mean
// final validation accuracy over batch norm alone, and the reduction of the generalization gap
// (training accuracy in eval mode − validation accuracy: alone − with it).
struct RegularizerEffect {
  double acc_gain = 0;
  double gap_reduction = 0;
};
// supported ("still needed"): some regularizer raises validation accuracy by more than tol;
// not supported: none raises it nor narrows the gap by more than tol (batch norm alone is enough);
// mixed: none raises validation accuracy by more than tol, but some narrows the gap by more (it curbs
//   overfitting without paying off in accuracy). An empty list is mixed.
Verdict regularizers_verdict(const std::vector<RegularizerEffect>& effects, double tol);

}  // namespace bnlab::lab

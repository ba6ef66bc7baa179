#include "lab/study_criteria.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "graph/errors.hpp"

namespace bnlab::lab {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

Verdict three_way(bool all_for, bool none_for) {
  if (all_for) return Verdict::supported;
  if (none_for) return Verdict::not_supported;
  return Verdict::mixed;
}

void check_item(int item) {
  if (item < 1 || item > 8) throw UsageError(fmt::format("study item {} does not exist (1..8)", item));
}

const std::string kTolerance =
    fmt::format("tol = max({}, the largest seed-to-seed standard deviation of the compared accuracies)", kMinAccTolerance);

}  // namespace

const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::supported: return "supported";
    case Verdict::not_supported: return "not supported";
    case Verdict::mixed: return "mixed";
  }
  return "?";
}

double tolerance(const std::vector<double>& stds, double floor) {
  double t = floor;
  for (double s : stds)
    if (std::isfinite(s)) t = std::max(t, s);
  return t;
}

std::string item_title(int item) {
  check_item(item);
  static const char* titles[] = {"faster convergence", "higher learning rates", "less sensitivity to initialization",
                                 "deeper networks",    "small batches",         "regularization",
                                 "train/eval difference", "cost per step"};
  return titles[item - 1];
}

std::string claim_text(int item) {
  check_item(item);
  static const char* claims[] = {
      "Batch normalization makes training converge faster: fewer epochs (and less time) to a given validation accuracy.",
      "Batch normalization allows higher learning rates: training stays stable and accurate at rates where the plain network "
      "fails.",
      "Networks with batch normalization are less sensitive to the scale of the initial weights.",
      "Batch normalization matters most for deep networks: it keeps deeper plain MLPs trainable.",
      "Batch normalization works poorly with very small batches, whose statistics are noisy (layer normalization, which does "
      "not use the batch, is the usual alternative).",
      "Batch normalization acts as a regularizer: it reduces overfitting (the gap between training and validation accuracy) "
      "and improves generalization.",
      "At inference batch normalization normalizes with running statistics collected during training, and the model performs "
      "at least as well as with the batch statistics it was trained with.",
      "Batch normalization adds computational cost to every training step.",
  };
  return claims[item - 1];
}

std::string criterion_text(int item) {
  check_item(item);
  switch (item) {
    case 1:
      return "Plain vs batchnorm (the reference models), same seeds. For each seed, the first epoch at which validation "
             "accuracy reaches the threshold T, and the training seconds up to the end of that epoch. Supported if batchnorm "
             "reaches T in every seed, in fewer epochs than plain in every seed (never reaching T counts as slower), and in "
             "less mean wall time than plain (or plain never reaches T). Not supported if in every seed batchnorm needs at "
             "least as many epochs as plain (never counts as more; neither reaching T counts as not faster). Mixed otherwise.";
    case 2:
      return fmt::format(
          "A learning-rate grid for SGD and for Adam, plain vs batchnorm, same seeds and epochs. A variant trains well at a "
          "rate if no seed diverged (non-finite loss or gradient) and its mean final validation accuracy is within "
          "max({}, tol) of the best mean that either variant reached with that optimizer at any rate; {}. Supported if, for "
          "every optimizer, the largest rate at which batchnorm trains well is larger than plain's. Not supported if for no "
          "optimizer. Mixed otherwise.",
          kLrMargin, kTolerance);
    case 3:
      return fmt::format(
          "Initial weights (Glorot uniform) multiplied by each scale of the grid, plain vs batchnorm, same seeds. Spread = "
          "max − min over the scales of the mean validation accuracy, after the first epoch and after the last (a diverged "
          "run counts as chance accuracy). Supported if batchnorm's spread is smaller than plain's by more than tol in both "
          "measures. Not supported if in neither. Mixed if in one; {}.",
          kTolerance);
    case 4:
      return fmt::format(
          "MLPs with 2, 4, 8 (… ) hidden layers of equal width, plain vs batchnorm, same seeds and epochs. Supported if at "
          "the deepest network batchnorm's mean final validation accuracy exceeds plain's by more than tol AND batchnorm "
          "loses less accuracy than plain from the shallowest to the deepest network (by more than tol). Not supported if "
          "at no depth batchnorm beats plain by more than tol. Mixed otherwise; {}; a diverged run counts as chance.",
          kTolerance);
    case 5:
      return fmt::format(
          "Batch sizes 2, 4, 8, 16 with batch norm, layer norm and no normalization, same seeds and epochs (incomplete "
          "last batches dropped for all). gap(b) = batchnorm's mean final validation accuracy − no-normalization's at batch "
          "size b. Supported if gap(smallest) < −tol and gap(smallest) < gap(largest) − tol (batch norm is worse than no "
          "normalization at the smallest batch, and its deficit grows as the batch shrinks). Not supported if gap(smallest) "
          ">= gap(largest) − tol. Mixed otherwise. Layer norm is reported beside them; {}.",
          kTolerance);
    case 6:
      return fmt::format(
          "The runs of item 1. Generalization gap = accuracy on the training split (evaluated in eval mode after training) "
          "− final validation accuracy. Supported if batchnorm's gap is smaller than plain's by more than tol AND its "
          "validation accuracy is higher by more than tol. Not supported if neither holds. Mixed if one does; {}.",
          kTolerance);
    case 7:
      return fmt::format(
          "Batch-norm runs of items 1 and 5. After training, the validation split is evaluated twice: normalized with the "
          "running statistics (how the model is used) and with batch statistics in chunks of the training batch size (as "
          "in training). Supported if the running statistics give at least the batch-statistics accuracy minus tol at "
          "every training batch size. Not supported if they fall short by more than tol at every batch size. Mixed "
          "otherwise; {}.",
          kTolerance);
    case 8:
      return fmt::format(
          "Plain and batchnorm trained side by side (one epoch each in turn, so load changes hit both) at several batch "
          "sizes; cost = training seconds / training steps. Supported (batch norm costs more) if batchnorm's cost exceeds "
          "plain's by more than tol at every batch size, tol = max({:.0f}%, the largest relative seed-to-seed std). Not "
          "supported if at no batch size. Mixed otherwise.",
          100 * kMinTimeTolerance);
    default: return "";
  }
}

Verdict convergence_verdict(const std::vector<ConvergenceSeed>& seeds) {
  if (seeds.empty()) return Verdict::mixed;
  bool bn_always_faster = true, bn_never_faster = true;
  double time_plain = 0, time_bn = 0;
  bool plain_always_reaches = true;
  for (const ConvergenceSeed& s : seeds) {
    const double ep = s.epochs_plain ? *s.epochs_plain : kInf;
    const double eb = s.epochs_bn ? *s.epochs_bn : kInf;
    // Neither reaching it: inf < inf is false, so "not faster".
    if (!(eb < ep)) bn_always_faster = false;
    if (eb < ep) bn_never_faster = false;
    if (s.epochs_plain)
      time_plain += s.seconds_plain;
    else
      plain_always_reaches = false;
    if (s.epochs_bn) time_bn += s.seconds_bn;
  }
  // bn_always_faster implies BN reached it in every seed.
  const bool less_time = !plain_always_reaches || time_bn < time_plain;
  return three_way(bn_always_faster && less_time, bn_never_faster);
}

double max_good_lr(const std::vector<LrCell>& cells, double best, double margin) {
  double m = 0;
  for (const LrCell& c : cells)
    if (c.diverged == 0 && std::isfinite(c.acc_mean) && c.acc_mean >= best - margin) m = std::max(m, c.lr);
  return m;
}

Verdict learning_rate_verdict(const std::vector<LrOutcome>& optimizers) {
  if (optimizers.empty()) return Verdict::mixed;
  bool all = true, none = true;
  for (const LrOutcome& o : optimizers) {
    const bool higher = o.max_good_bn > o.max_good_plain;
    all = all && higher;
    none = none && !higher;
  }
  return three_way(all, none);
}

Verdict init_verdict(const InitSpread& s, double tol) {
  const bool final_less = s.final_bn < s.final_plain - tol;
  const bool first_less = s.first_bn < s.first_plain - tol;
  return three_way(final_less && first_less, !final_less && !first_less);
}

Verdict depth_verdict(const std::vector<double>& acc_plain, const std::vector<double>& acc_bn, double tol) {
  if (acc_plain.empty() || acc_plain.size() != acc_bn.size()) return Verdict::mixed;
  bool beats_somewhere = false;
  for (size_t i = 0; i < acc_plain.size(); ++i) beats_somewhere = beats_somewhere || acc_bn[i] > acc_plain[i] + tol;
  const double drop_plain = acc_plain.front() - acc_plain.back();
  const double drop_bn = acc_bn.front() - acc_bn.back();
  const bool deepest = acc_bn.back() > acc_plain.back() + tol;
  const bool smaller_drop = drop_bn < drop_plain - tol;
  return three_way(deepest && smaller_drop, !beats_somewhere);
}

Verdict small_batch_verdict(double gap_smallest, double gap_largest, double tol) {
  const bool worse_than_none = gap_smallest < -tol;
  const bool deteriorates = gap_smallest < gap_largest - tol;
  return three_way(worse_than_none && deteriorates, !deteriorates);
}

Verdict regularization_verdict(double gap_plain, double gap_bn, double val_plain, double val_bn, double tol) {
  const bool smaller_gap = gap_bn < gap_plain - tol;
  const bool better_val = val_bn > val_plain + tol;
  return three_way(smaller_gap && better_val, !smaller_gap && !better_val);
}

Verdict train_eval_verdict(const std::vector<double>& running_minus_batch, double tol) {
  if (running_minus_batch.empty()) return Verdict::mixed;
  bool all_ok = true, all_short = true;
  for (double d : running_minus_batch) {
    const bool ok = d >= -tol;
    all_ok = all_ok && ok;
    all_short = all_short && !ok;
  }
  return three_way(all_ok, all_short);
}

Verdict cost_verdict(const std::vector<double>& ratios, double tol_rel) {
  if (ratios.empty()) return Verdict::mixed;
  bool all = true, none = true;
  for (double r : ratios) {
    const bool more = r > 1 + tol_rel;
    all = all && more;
    none = none && !more;
  }
  return three_way(all, none);
}

}  // namespace bnlab::lab

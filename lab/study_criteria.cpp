#include "lab/study_criteria.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace bnlab::lab {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

Verdict three_way(bool all_for, bool none_for) {
  if (all_for) return Verdict::supported;
  if (none_for) return Verdict::not_supported;
  return Verdict::mixed;
}

}  // namespace

const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::supported: return "supported";
    case Verdict::not_supported: return "not supported";
    case Verdict::mixed: return "mixed";
    case Verdict::inconclusive: return "inconclusive";
  }
  return "?";
}

Verdict unless_within_noise(Verdict v, double tol, double effect) {
  return tol >= effect ? Verdict::inconclusive : v;  // NaN >= x is false
}

double tolerance(const std::vector<double>& stds, double floor) {
  double t = floor;
  for (double s : stds)
    if (std::isfinite(s)) t = std::max(t, s);
  return t;
}

const std::string& accuracy_tolerance_text() {
  static const std::string text =
      fmt::format("tol = max({}, the largest seed-to-seed standard deviation of the compared accuracies)", kMinAccTolerance);
  return text;
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

bool trains_well(double acc_mean, int diverged, double best, double margin) {
  return diverged == 0 && std::isfinite(acc_mean) && acc_mean >= best - margin;
}

double max_good_lr(const std::vector<LrCell>& cells, double best, double margin) {
  double m = 0;
  for (const LrCell& c : cells)
    if (trains_well(c.acc_mean, c.diverged, best, margin)) m = std::max(m, c.lr);
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

Verdict worker_statistics_verdict(const std::vector<double>& local_minus_sync, double tol) {
  if (local_minus_sync.empty()) return Verdict::mixed;
  const double smallest = local_minus_sync.front(), largest = local_minus_sync.back();
  const bool worse_at_smallest = smallest < -tol;
  const bool grows = smallest < largest - tol;
  const bool never_worse =
      std::all_of(local_minus_sync.begin(), local_minus_sync.end(), [tol](double g) { return g >= -tol; });
  return three_way(worse_at_smallest && grows, never_worse);
}

Verdict consistency_verdict(const ConsistencySpread& s) {
  for (double v : {s.seeds_plain, s.seeds_bn, s.steps_plain, s.steps_bn})
    if (!std::isfinite(v)) return Verdict::mixed;
  const bool seeds_smaller = s.seeds_bn < kSpreadRatio * s.seeds_plain;
  const bool steps_smaller = s.steps_bn < kSpreadRatio * s.steps_plain;
  return three_way(seeds_smaller && steps_smaller, !seeds_smaller && !steps_smaller);
}

Verdict sensitivity_verdict(double share_plain, double share_bn) {
  return three_way(share_bn > share_plain + kShareMargin, !(share_bn > share_plain));
}

Verdict regularizers_verdict(const std::vector<RegularizerEffect>& effects, double tol) {
  if (effects.empty()) return Verdict::mixed;
  bool raises_acc = false, narrows_gap = false;
  for (const RegularizerEffect& e : effects) {
    raises_acc = raises_acc || e.acc_gain > tol;
    narrows_gap = narrows_gap || e.gap_reduction > tol;
  }
  return three_way(raises_acc, !raises_acc && !narrows_gap);
}

}  // namespace bnlab::lab

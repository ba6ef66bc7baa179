#include "lab/run_stats.hpp"

#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace bnlab::lab {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

MeanStd mean_std(const std::vector<double>& values) {
  MeanStd m{kNaN, kNaN, 0};
  double sum = 0;
  for (double v : values)
    if (std::isfinite(v)) {
      sum += v;
      ++m.n;
    }
  if (m.n == 0) return m;
  m.mean = sum / m.n;
  if (m.n < 2) return m;
  double sq = 0;
  for (double v : values)
    if (std::isfinite(v)) sq += (v - m.mean) * (v - m.mean);
  m.std = std::sqrt(sq / (m.n - 1));
  return m;
}

std::string format_mean_std(const MeanStd& m, int precision) {
  if (m.n == 0 || !std::isfinite(m.mean)) return "-";
  if (m.n < 2 || !std::isfinite(m.std)) return fmt::format("{:.{}f}", m.mean, precision);
  return fmt::format("{:.{}f} ± {:.{}f}", m.mean, precision, m.std, precision);
}

double number_or_nan(const json& object, const std::string& key) {
  if (!object.is_object()) return kNaN;
  const auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return kNaN;
  return it->get<double>();
}

double value_of(const EpochMetrics& m, EpochMetric k) {
  switch (k) {
    case EpochMetric::train_loss: return m.train_loss;
    case EpochMetric::train_loss_std: return m.train_loss_std;
    case EpochMetric::train_acc: return m.train_acc;
    case EpochMetric::val_loss: return m.val_loss;
    case EpochMetric::val_acc: return m.val_acc;
    case EpochMetric::seconds: return m.seconds;
    case EpochMetric::samples_per_second: return m.samples_per_second;
  }
  return kNaN;
}

double score(const std::optional<EvalMetrics>& e, Score s) {
  if (!e) return kNaN;
  switch (s) {
    case Score::loss: return e->loss;
    case Score::acc: return e->acc;
  }
  return kNaN;
}

double final_value(const RunRecord& run, EpochMetric k) { return run.epochs.empty() ? kNaN : value_of(run.epochs.back(), k); }

double epoch_value(const RunRecord& run, int epoch, EpochMetric k) {
  if (epoch < 1 || static_cast<size_t>(epoch) > run.epochs.size()) return kNaN;
  return value_of(run.epochs[static_cast<size_t>(epoch - 1)], k);
}

double test_value(const RunRecord& run, Score s) { return score(run.test, s); }

std::optional<int> first_epoch_reaching(const RunRecord& run, double threshold) {
  for (const EpochMetrics& m : run.epochs)
    if (m.val_acc >= threshold) return m.epoch;  // false for NaN
  return std::nullopt;
}

double seconds_through_epoch(const RunRecord& run, int epoch) {
  if (epoch < 1 || static_cast<size_t>(epoch) > run.epochs.size()) return kNaN;
  double s = 0;
  for (size_t i = 0; i < static_cast<size_t>(epoch); ++i) s += run.epochs[i].seconds;
  return s;
}

double mean_epoch_seconds(const RunRecord& run) {
  if (run.epochs.empty()) return kNaN;
  return seconds_through_epoch(run, static_cast<int>(run.epochs.size())) / static_cast<double>(run.epochs.size());
}

double seconds_per_step(const RunRecord& run) {
  if (run.epochs.empty()) return kNaN;
  double seconds = 0, steps = 0;
  for (const EpochMetrics& m : run.epochs) {
    seconds += m.seconds;
    steps += static_cast<double>(m.steps);
  }
  return steps > 0 ? seconds / steps : kNaN;
}

bool diverged(const RunRecord& run) { return run.status == RunStatus::diverged; }

}  // namespace bnlab::lab

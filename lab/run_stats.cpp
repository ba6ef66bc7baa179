#include "lab/run_stats.hpp"

#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace bnlab::lab {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

const json* epochs_of(const json& run) {
  if (!run.is_object()) return nullptr;
  const auto it = run.find("epochs");
  if (it == run.end() || !it->is_array()) return nullptr;
  return &*it;
}

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

double final_value(const json& run, const std::string& key) {
  const json* e = epochs_of(run);
  if (!e || e->empty()) return kNaN;
  return number_or_nan(e->back(), key);
}

double epoch_value(const json& run, int epoch, const std::string& key) {
  const json* e = epochs_of(run);
  if (!e || epoch < 1 || static_cast<size_t>(epoch) > e->size()) return kNaN;
  return number_or_nan((*e)[static_cast<size_t>(epoch - 1)], key);
}

double test_value(const json& run, const std::string& key) {
  if (!run.is_object() || !run.contains("test")) return kNaN;
  return number_or_nan(run["test"], key);
}

double eval_value(const json& run, const std::string& which, const std::string& key) {
  if (!run.is_object() || !run.contains("evals") || !run["evals"].contains(which)) return kNaN;
  return number_or_nan(run["evals"][which], key);
}

std::optional<int> first_epoch_reaching(const json& run, double threshold) {
  const json* e = epochs_of(run);
  if (!e) return std::nullopt;
  for (const json& m : *e)
    if (number_or_nan(m, "val_acc") >= threshold) return m.value("epoch", 0);  // false for NaN
  return std::nullopt;
}

double seconds_through_epoch(const json& run, int epoch) {
  const json* e = epochs_of(run);
  if (!e || epoch < 1 || static_cast<size_t>(epoch) > e->size()) return kNaN;
  double s = 0;
  for (size_t i = 0; i < static_cast<size_t>(epoch); ++i) s += number_or_nan((*e)[i], "seconds");
  return s;
}

double mean_epoch_seconds(const json& run) {
  const json* e = epochs_of(run);
  if (!e || e->empty()) return kNaN;
  return seconds_through_epoch(run, static_cast<int>(e->size())) / static_cast<double>(e->size());
}

double seconds_per_step(const json& run) {
  const json* e = epochs_of(run);
  if (!e || e->empty()) return kNaN;
  double seconds = 0, steps = 0;
  for (const json& m : *e) {
    seconds += number_or_nan(m, "seconds");
    steps += number_or_nan(m, "steps");
  }
  return steps > 0 ? seconds / steps : kNaN;
}

bool diverged(const json& run) { return run.is_object() && run.value("status", std::string()) == "diverged"; }

}  // namespace bnlab::lab

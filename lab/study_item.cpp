#include "lab/study_item.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "graph/errors.hpp"
#include "models/presets.hpp"

namespace bnlab::lab {

RunJob ItemPlan::job(const std::string& name, const std::string& variant, uint64_t seed, int epochs,
                     const ModelOptions& refine) const {
  const StudyOptions& o = options;
  RunJob j;
  j.name = name;
  j.spec = preset_spec(variant, inputs, classes, refine);
  j.config.dataset = o.dataset;
  j.config.model = variant;
  j.config.epochs = epochs;
  j.config.seed = seed;
  j.config.threads = o.threads;
  j.config.on_nonfinite = NonFinitePolicy::stop;  // a non-finite step ends the run as "diverged"
  j.extra_config = study_data_config(o);
  return j;
}

const RunRecord& ItemRuns::run(const std::string& name) {
  const auto it = runs.find(name);
  if (it == runs.end()) throw RuntimeError("study: the run '" + name + "' is missing (it should have been trained)");
  if (std::find(used.begin(), used.end(), name) == used.end()) used.push_back(name);
  return it->second;
}

std::vector<double> ItemRuns::per_seed(const std::function<std::string(uint64_t)>& name,
                                       const std::function<double(const RunRecord&)>& value) {
  std::vector<double> v;
  for (uint64_t s : seeds()) v.push_back(value(run(name(s))));
  return v;
}

MeanStd ItemRuns::cell(const std::function<std::string(uint64_t)>& name, const std::function<double(const RunRecord&)>& value) {
  return mean_std(per_seed(name, value));
}

ItemRuns::PlainBn ItemRuns::plain_bn(const std::function<std::string(const std::string& variant, uint64_t seed)>& name,
                                     const std::function<double(const RunRecord&)>& value) {
  PlainBn out;
  out.plain = cell([&](uint64_t s) { return name("plain", s); }, value);
  out.bn = cell([&](uint64_t s) { return name("batchnorm", s); }, value);
  return out;
}

std::function<double(const RunRecord&)> ItemRuns::final_acc() const {
  const double c = chance();
  return [c](const RunRecord& r) {
    const double a = final_value(r, EpochMetric::val_acc);
    return diverged(r) || !std::isfinite(a) ? c : a;
  };
}

std::string f4(double v) { return std::isfinite(v) ? fmt::format("{:.4f}", v) : std::string("-"); }
std::string ms(const MeanStd& m) { return format_mean_std(m, 4); }
std::string signed4(double v) { return std::isfinite(v) ? fmt::format("{:+.4f}", v) : std::string("-"); }
std::string epochs_text(std::optional<int> e) { return e ? std::to_string(*e) : std::string("never"); }

json row(std::initializer_list<std::string> cells) { return json(std::vector<std::string>(cells)); }

json numbers_json(const std::vector<double>& values) {
  json out = json::array();
  for (double v : values) out.push_back(json_number(v));
  return out;
}

json numbers_table(std::initializer_list<std::string> columns, json rows) {
  return {{"columns", std::vector<std::string>(columns)}, {"rows", std::move(rows)}};
}

Curve epoch_curve(ItemRuns& c, const std::function<std::string(uint64_t)>& name, EpochMetric key) {
  Curve curve;
  size_t epochs = 0;
  for (uint64_t s : c.seeds()) epochs = std::max(epochs, c.run(name(s)).epochs.size());
  for (size_t e = 1; e <= epochs; ++e) {
    std::vector<double> v;
    for (uint64_t s : c.seeds()) v.push_back(epoch_value(c.run(name(s)), static_cast<int>(e), key));
    curve.add(static_cast<double>(e), mean_std(v));
  }
  return curve;
}

std::vector<Series> plain_vs_bn(const Curve& plain, const Curve& bn, bool errors) {
  return {make_series("plain", plain.x, plain.mean, errors ? plain.std : std::vector<double>{}, kPlainColor),
          make_series("batchnorm", bn.x, bn.mean, errors ? bn.std : std::vector<double>{}, kBnColor)};
}

}  // namespace bnlab::lab

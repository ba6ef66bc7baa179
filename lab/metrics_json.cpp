#include "lab/metrics_json.hpp"

#include <cmath>

#include "graph/initializer.hpp"
#include "train/config_fields.hpp"
#include <type_traits>
#include <variant>

namespace bnlab::lab {

// ordered: the document reads in the order METRICS.md shows, not alphabetically.
using json = nlohmann::ordered_json;

json json_number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

namespace {

json config_json(const RunRecord& run, const json& extra) {
  const TrainConfig& c = run.config;
  const ModelSpec& s = run.spec;
  json j = {{"dataset", c.dataset}, {"model", s.describe()}, {"preset", c.model}};
  // How the model was made (a preset's parameters, METRICS.md's order); a spec without a recipe
  // still says its input and class counts.
  if (s.recipe.empty()) {
    j["inputs"] = s.input_features();
    j["classes"] = s.classes;
  }
  for (const RecipeField& f : s.recipe)
    j[f.name] = std::visit(
        [](const auto& v) -> json {
          if constexpr (std::is_same_v<std::decay_t<decltype(v)>, double>) return json_number(v); else return json(v);
        },
        f.value);
  // The training configuration's fields that the document names (train/config_fields.hpp).
  visit_fields(c, [&](const FieldInfo& f, const auto& value) {
    if (!f.metrics) return;
    using T = std::decay_t<decltype(value)>;
    if constexpr (std::is_enum_v<T>)
      j[f.metrics] = to_string(value);
    else if constexpr (std::is_same_v<T, double>)
      j[f.metrics] = json_number(value);
    else
      j[f.metrics] = value;
  });
  j["train_size"] = run.train_size;
  j["val_size"] = run.val_size;
  j["test_size"] = run.test_size;
  if (extra.is_object()) j.update(extra);
  return j;
}

json epoch_json(const EpochMetrics& m) {
  json layers = json::array();
  for (const LayerStats& l : m.layers) layers.push_back({{"layer", l.layer}, {"mean", json_number(l.mean)}, {"std", json_number(l.std)}});
  json grads = json::array();
  for (const GradNorm& g : m.grad_norms) grads.push_back({{"parameter", g.parameter}, {"mean_norm", json_number(g.mean_norm)}});
  return {
      {"epoch", m.epoch},
      {"train_loss", json_number(m.train_loss)},
      {"train_acc", json_number(m.train_acc)},
      {"val_loss", json_number(m.val_loss)},
      {"val_acc", json_number(m.val_acc)},
      {"seconds", json_number(m.seconds)},
      {"samples_per_second", json_number(m.samples_per_second)},
      {"steps", m.steps},
      {"skipped_steps", m.skipped_steps},
      {"layers", std::move(layers)},
      {"grad_norms", std::move(grads)},
  };
}

}  // namespace

json run_json(const RunRecord& run, const json& extra_config) {
  json epochs = json::array();
  for (const EpochMetrics& m : run.epochs) epochs.push_back(epoch_json(m));
  json j = {{"name", run.name}, {"config", config_json(run, extra_config)}, {"epochs", std::move(epochs)}};
  // Absent until training finished, as METRICS.md says.
  if (run.test) j["test"] = {{"loss", json_number(run.test->loss)}, {"acc", json_number(run.test->acc)}};
  j["total_seconds"] = json_number(run.total_seconds);
  return j;
}

json metrics_document(const std::string& command, const std::vector<RunRecord>& runs, const json& extra_config) {
  json list = json::array();
  for (const RunRecord& r : runs) list.push_back(run_json(r, extra_config));
  return {{"tool", "bnlab"}, {"version", BNLAB_VERSION}, {"command", command}, {"runs", std::move(list)}};
}

}  // namespace bnlab::lab

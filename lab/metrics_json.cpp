#include "lab/metrics_json.hpp"

#include <cmath>
#include <limits>
#include <type_traits>
#include <variant>

#include "graph/errors.hpp"
#include "graph/initializer.hpp"
#include "train/config_fields.hpp"
#include "train/serialize.hpp"

namespace bnlab::lab {

// ordered: the document reads in the order docs/metrics.md shows, not alphabetically.
using json = nlohmann::ordered_json;

json json_number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

namespace {

json config_json(const RunRecord& run, const json& extra) {
  const TrainConfig& c = run.config;
  const ModelSpec& s = run.spec;
  json j = {{"dataset", c.dataset}, {"model", s.describe()}, {"preset", c.model}};
  // How the model was made (a preset's parameters, docs/metrics.md's order); a spec without a recipe
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

// An epoch as checkpoints store it (train/serialize.hpp): the one writer of the epoch's fields. A
// NaN is written as null there, as json_number does here.
json epoch_json(const EpochMetrics& m) { return json::parse(bnlab::to_json(m)); }

// The entry with `config` as its config block.
json entry_json(const RunRecord& run, json config) {
  json epochs = json::array();
  for (const EpochMetrics& m : run.epochs) epochs.push_back(epoch_json(m));
  json j = {{"name", run.name}, {"config", std::move(config)}, {"epochs", std::move(epochs)}};
  // Absent until training finished, as docs/metrics.md says.
  if (run.test) j["test"] = {{"loss", json_number(run.test->loss)}, {"acc", json_number(run.test->acc)}};
  if (run.config.early_stop > 0)
    j["early_stop"] = {{"best_epoch", run.best_epoch}, {"stopped_epoch", run.stopped_epoch}, {"reason", run.stop_reason}};
  j["total_seconds"] = json_number(run.total_seconds);
  return j;
}

// ---- Reading back ---------------------------------------------------------------------------------

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Readers of one field of an object: absent keeps `fallback`, null is NaN (numbers written by
// json_number); a value of another type is an InputError naming the field.
struct Reader {
  const std::string& run;  // for messages
  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw InputError("run '" + run + "': \"" + field + "\" " + what);
  }
  const json* find(const json& o, const std::string& key) const {
    const auto it = o.find(key);
    return it == o.end() ? nullptr : &*it;
  }
  double number(const json& o, const std::string& key, double fallback = kNaN) const {
    const json* v = find(o, key);
    if (!v) return fallback;
    if (v->is_null()) return kNaN;
    if (!v->is_number()) fail(key, "is not a number");
    return v->get<double>();
  }
  template <class Int>
  Int integer(const json& o, const std::string& key, Int fallback) const {
    const json* v = find(o, key);
    if (!v) return fallback;
    if (!v->is_number_integer()) fail(key, "is not an integer");
    return v->get<Int>();
  }
  bool boolean(const json& o, const std::string& key, bool fallback) const {
    const json* v = find(o, key);
    if (!v) return fallback;
    if (!v->is_boolean()) fail(key, "is not true or false");
    return v->get<bool>();
  }
  std::string string(const json& o, const std::string& key, const std::string& fallback) const {
    const json* v = find(o, key);
    if (!v) return fallback;
    if (!v->is_string()) fail(key, "is not a string");
    return v->get<std::string>();
  }
  const json& object(const json& o, const std::string& key) const {
    static const json empty = json::object();
    const json* v = find(o, key);
    if (!v) return empty;
    if (!v->is_object()) fail(key, "is not an object");
    return *v;
  }
  const json& array(const json& o, const std::string& key) const {
    static const json empty = json::array();
    const json* v = find(o, key);
    if (!v) return empty;
    if (!v->is_array()) fail(key, "is not a list");
    return *v;
  }
  EvalMetrics eval(const json& o) const { return {.loss = number(o, "loss"), .acc = number(o, "acc")}; }
};

// The TrainConfig fields of a config block (config_json's inverse for them) and the split sizes.
void read_config(const Reader& in, const json& c, RunRecord& r) {
  TrainConfig& t = r.config;
  t.dataset = in.string(c, "dataset", t.dataset);
  t.model = in.string(c, "preset", t.model);
  // The rest as the declarations name them in the document (train/config_fields.hpp).
  visit_fields(t, [&](const FieldInfo& f, auto& value) {
    if (!f.metrics) return;
    using T = std::decay_t<decltype(value)>;
    if constexpr (std::is_enum_v<T>) {
      if (!c.contains(f.metrics)) return;
      try {
        parse_field(in.string(c, f.metrics, ""), value);
      } catch (const UsageError& e) {
        in.fail("config", std::string("names what bnlab does not know: ") + e.what());
      }
    } else if constexpr (std::is_same_v<T, bool>) {
      value = in.boolean(c, f.metrics, value);
    } else if constexpr (std::is_same_v<T, double>) {
      value = in.number(c, f.metrics, value);
    } else {
      value = in.integer(c, f.metrics, value);
    }
  });
  r.train_size = in.integer(c, "train_size", r.train_size);
  r.val_size = in.integer(c, "val_size", r.val_size);
  r.test_size = in.integer(c, "test_size", r.test_size);
}

// The inverse, by the same reader checkpoints use (every field present, none unknown).
EpochMetrics read_epoch(const Reader& in, const json& e, size_t index) {
  try {
    return epoch_metrics_from_json(e.dump());
  } catch (const InputError& x) {
    in.fail("epochs[" + std::to_string(index) + "]", x.what());
  }
}

}  // namespace

json run_json(const RunRecord& run, const json& extra_config) { return entry_json(run, config_json(run, extra_config)); }

const char* status_name(RunStatus status) {
  switch (status) {
    case RunStatus::running: return "running";
    case RunStatus::finished: return "finished";
    case RunStatus::interrupted: return "interrupted";
    case RunStatus::diverged: return "diverged";
  }
  return "?";
}

RunStatus status_from_name(const std::string& name) {
  for (RunStatus s : {RunStatus::running, RunStatus::finished, RunStatus::interrupted, RunStatus::diverged})
    if (name == status_name(s)) return s;
  throw InputError("\"" + name + "\": not one of running, finished, interrupted, diverged");
}

void add_job_fields(json& j, const RunRecord& record) {
  const bool diverged = record.status == RunStatus::diverged;
  j["status"] = status_name(record.status);
  if (diverged) {
    j["error"] = record.error;
    return;
  }
  json evals = json::object();
  if (record.eval_train)
    evals["train"] = {{"loss", json_number(record.eval_train->loss)}, {"acc", json_number(record.eval_train->acc)}};
  if (record.val_batch_stats)
    evals["val_batch_stats"] = {{"loss", json_number(record.val_batch_stats->loss)},
                                {"acc", json_number(record.val_batch_stats->acc)},
                                {"batch", record.val_batch_stats_batch}};
  if (!evals.empty()) j["evals"] = std::move(evals);
}

StoredRun stored_run_from_json(const json& entry) {
  if (!entry.is_object()) throw InputError("a run entry is not an object");
  const std::string name = entry.contains("name") && entry["name"].is_string() ? entry["name"].get<std::string>() : "?";
  const Reader in{name};
  StoredRun s;
  RunRecord& r = s.record;
  r.name = in.string(entry, "name", "");
  s.config = in.object(entry, "config");
  read_config(in, s.config, r);
  const json& epochs = in.array(entry, "epochs");
  for (size_t i = 0; i < epochs.size(); ++i) r.epochs.push_back(read_epoch(in, epochs[i], i));
  if (entry.contains("test")) r.test = in.eval(in.object(entry, "test"));
  const json& early = in.object(entry, "early_stop");
  r.best_epoch = in.integer(early, "best_epoch", 0);
  r.stopped_epoch = in.integer(early, "stopped_epoch", 0);
  r.stop_reason = in.string(early, "reason", "");
  r.total_seconds = in.number(entry, "total_seconds");
  s.job_form = entry.contains("status");
  try {
    r.status = status_from_name(in.string(entry, "status", "finished"));
  } catch (const InputError& e) {
    in.fail("status", std::string("is ") + e.what());
  }
  r.error = in.string(entry, "error", "");
  const json& evals = in.object(entry, "evals");
  if (evals.contains("train")) r.eval_train = in.eval(in.object(evals, "train"));
  if (evals.contains("val_batch_stats")) {
    const json& v = in.object(evals, "val_batch_stats");
    r.val_batch_stats = in.eval(v);
    r.val_batch_stats_batch = in.integer(v, "batch", int64_t{0});
  }
  return s;
}

RunRecord run_from_json(const json& entry) { return stored_run_from_json(entry).record; }

std::vector<StoredRun> runs_from_json(const json& runs) {
  std::vector<StoredRun> out;
  if (runs.is_array())
    for (const json& r : runs) out.push_back(stored_run_from_json(r));
  return out;
}

json stored_run_json(const StoredRun& run) {
  json j = entry_json(run.record, run.config);
  if (run.job_form) add_job_fields(j, run.record);
  return j;
}

json metrics_document(const std::string& command, const std::vector<RunRecord>& runs, const json& extra_config) {
  json list = json::array();
  for (const RunRecord& r : runs) list.push_back(run_json(r, extra_config));
  return {{"tool", "bnlab"}, {"version", BNLAB_VERSION}, {"command", command}, {"runs", std::move(list)}};
}

}  // namespace bnlab::lab

#include "train/serialize.hpp"

#include <cmath>
#include <limits>
#include <optional>
#include <type_traits>
#include <nlohmann/json.hpp>
#include <set>
#include <variant>

#include "graph/errors.hpp"
#include "models/presets.hpp"
#include "train/config_fields.hpp"

namespace bnlab {

namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;  // writes fields in struct order

// The fields of one JSON object, read by name; every error names the field by its full path.
class Fields {
 public:
  Fields(const json& object, std::string where) : obj_(object), where_(std::move(where)) {
    if (!obj_.is_object()) throw InputError(label() + "expected an object, got " + obj_.type_name());
  }

  bool has(const std::string& key) const { return obj_.contains(key); }
  const json& at(const std::string& key) {
    const auto it = obj_.find(key);
    if (it == obj_.end()) throw InputError("missing field '" + name(key) + "'");
    seen_.insert(key);
    return *it;
  }
  int64_t integer(const std::string& key, int64_t lo = std::numeric_limits<int64_t>::min(),
                  int64_t hi = std::numeric_limits<int64_t>::max()) {
    return integer_value(at(key), name(key), lo, hi);
  }
  int int32(const std::string& key) {
    return static_cast<int>(integer(key, std::numeric_limits<int>::min(), std::numeric_limits<int>::max()));
  }
  uint64_t unsigned_integer(const std::string& key) {
    const json& v = at(key);
    if (!v.is_number_unsigned()) throw InputError(wrong(key, "a non-negative integer", v));
    return v.get<uint64_t>();
  }
  // A number; with `null_is_nan`, null reads as NaN (metrics such as val_loss of an empty split).
  double number(const std::string& key, bool null_is_nan = false) {
    const json& v = at(key);
    if (v.is_null() && null_is_nan) return std::numeric_limits<double>::quiet_NaN();
    if (!v.is_number()) throw InputError(wrong(key, null_is_nan ? "a number or null" : "a number", v));
    return v.get<double>();
  }
  bool boolean(const std::string& key) {
    const json& v = at(key);
    if (!v.is_boolean()) throw InputError(wrong(key, "true or false", v));
    return v.get<bool>();
  }
  std::string string(const std::string& key) {
    const json& v = at(key);
    if (!v.is_string()) throw InputError(wrong(key, "a string", v));
    return v.get<std::string>();
  }
  const json& array(const std::string& key) {
    const json& v = at(key);
    if (!v.is_array()) throw InputError(wrong(key, "an array", v));
    return v;
  }
  // Parses an enum field with one of the *_from_string functions (their UsageError becomes an InputError).
  template <class F>
  auto choice(const std::string& key, F parse) {
    const std::string s = string(key);
    try {
      return parse(s);
    } catch (const UsageError& e) {
      throw InputError("field '" + name(key) + "': " + e.what());
    }
  }
  // Call last: a field nobody asked for is an error (a newer format, or a typo in a hand-edited file).
  void done() const {
    for (const auto& item : obj_.items())
      if (!seen_.count(item.key())) throw InputError("unknown field '" + name(item.key()) + "'");
  }

  std::string name(const std::string& key) const { return where_.empty() ? key : where_ + "." + key; }
  static int64_t integer_value(const json& v, const std::string& field, int64_t lo, int64_t hi) {
    if (!v.is_number_integer()) throw InputError(wrong_value(field, "an integer", v));
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      throw InputError("field '" + field + "': " + v.dump() + " is out of range");
    const int64_t x = v.get<int64_t>();
    if (x < lo || x > hi) throw InputError("field '" + field + "': " + v.dump() + " is out of range");
    return x;
  }
  static std::string wrong_value(const std::string& field, const char* expected, const json& v) {
    return "field '" + field + "': expected " + expected + ", got " + v.type_name();
  }

 private:
  std::string label() const { return where_.empty() ? "" : "field '" + where_ + "': "; }
  std::string wrong(const std::string& key, const char* expected, const json& v) const {
    return wrong_value(name(key), expected, v);
  }

  const json& obj_;
  std::string where_;
  std::set<std::string> seen_;
};

json parse(std::string_view text) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {  // parse_error, or out_of_range (error 406) for a number like 1e999
    throw InputError(std::string("not valid JSON (") + e.what() + ")");
  }
}

// ---- writers (ordered_json, struct order) ----

ojson recipe_value_json(const RecipeField::Value& v) {
  return std::visit([](const auto& x) { return ojson(x); }, v);
}

ojson spec_json(const ModelSpec& s) {
  ojson j;
  j["input_shape"] = s.input_shape;
  j["classes"] = s.classes;
  j["layers"] = ojson::array();
  for (const LayerSpec& l : s.layers) {
    ojson o;
    o["kind"] = to_string(l.kind);
    o["name"] = l.name;
    // Only the attributes of the layer's kind.
    switch (l.kind) {
      case LayerKind::dense:
        o["units"] = l.units;
        o["init"] = to_string(l.init);
        o["weight_scale"] = l.weight_scale;
        o["bias"] = l.bias;
        break;
      case LayerKind::batch_norm:
        o["momentum"] = l.momentum;
        o["eps"] = l.eps;
        // Only when set: every spec written before ghost batches existed stays byte for byte the same.
        if (l.ghost_batches != 1) o["ghost_batches"] = l.ghost_batches;
        break;
      case LayerKind::layer_norm: o["eps"] = l.eps; break;
      case LayerKind::activation: o["activation"] = to_string(l.activation); break;
      case LayerKind::conv2d:
        o["filters"] = l.filters;
        o["kernel"] = l.kernel;
        o["stride"] = l.stride;
        o["padding"] = l.padding;
        o["init"] = to_string(l.init);
        o["weight_scale"] = l.weight_scale;
        o["bias"] = l.bias;
        break;
      case LayerKind::max_pool2d:
      case LayerKind::avg_pool2d:
        o["window"] = l.window;
        o["stride"] = l.stride;
        break;
      case LayerKind::global_avg_pool:
      case LayerKind::flatten: break;
      case LayerKind::group_norm:
        o["groups"] = l.groups;
        o["eps"] = l.eps;
        break;
      case LayerKind::dropout: o["rate"] = l.rate; break;
    }
    if (!l.probe.empty()) o["probe"] = l.probe;
    j["layers"].push_back(std::move(o));
  }
  // [name, value] pairs: a JSON object's order is not kept by every reader, and the order is the
  // metrics document's.
  j["recipe"] = ojson::array();
  for (const RecipeField& r : s.recipe) j["recipe"].push_back(ojson::array({r.name, recipe_value_json(r.value)}));
  return j;
}

// Every field of a configuration (config_fields.hpp) under its name; the optimizer's nested in
// "optimizer" inside a TrainConfig.
template <class Config>
ojson config_json(const Config& c) {
  ojson j;
  visit_fields(c, [&](const FieldInfo& f, const auto& value) {
    ojson& into = f.nested ? j[f.nested] : j;
    using T = std::decay_t<decltype(value)>;
    if constexpr (std::is_enum_v<T>)
      into[f.name] = to_string(value);
    else
      into[f.name] = value;
  });
  return j;
}

ojson optimizer_json(const OptimizerConfig& c) { return config_json(c); }
ojson train_config_json(const TrainConfig& c) { return config_json(c); }

ojson eval_json(const EvalMetrics& m) {
  ojson j;
  j["loss"] = m.loss;
  j["acc"] = m.acc;
  j["samples"] = m.samples;
  return j;
}

ojson epoch_json(const EpochMetrics& m) {
  ojson j;
  j["epoch"] = m.epoch;
  j["train_loss"] = m.train_loss;
  j["train_loss_std"] = m.train_loss_std;
  j["train_acc"] = m.train_acc;
  j["val_loss"] = m.val_loss;
  j["val_acc"] = m.val_acc;
  j["seconds"] = m.seconds;
  j["samples_per_second"] = m.samples_per_second;
  j["steps"] = m.steps;
  j["skipped_steps"] = m.skipped_steps;
  j["lr"] = m.lr;
  j["layers"] = ojson::array();
  for (const LayerStats& l : m.layers) j["layers"].push_back({{"layer", l.layer}, {"mean", l.mean}, {"std", l.std}});
  j["grad_norms"] = ojson::array();
  for (const GradNorm& g : m.grad_norms)
    j["grad_norms"].push_back({{"parameter", g.parameter}, {"mean_norm", g.mean_norm}});
  return j;
}

ojson load_options_json(const data::LoadOptions& o) { return config_json(o); }

// ---- readers ----

std::vector<int64_t> integers(Fields& f, const std::string& key) {
  std::vector<int64_t> out;
  const json& a = f.array(key);
  for (size_t i = 0; i < a.size(); ++i)
    out.push_back(Fields::integer_value(a[i], f.name(key) + "[" + std::to_string(i) + "]",
                                        std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()));
  return out;
}

// [h, w], or one integer for both.
Size2 size2(Fields& f, const std::string& key) {
  const json& v = f.at(key);
  if (v.is_number_integer()) {
    const int64_t x = Fields::integer_value(v, f.name(key), 0, ModelSpec::max_size);
    return {x, x};
  }
  if (!v.is_array() || v.size() != 2) throw InputError(Fields::wrong_value(f.name(key), "an integer or [height, width]", v));
  return {Fields::integer_value(v[0], f.name(key) + "[0]", 0, ModelSpec::max_size),
          Fields::integer_value(v[1], f.name(key) + "[1]", 0, ModelSpec::max_size)};
}

// A convolution's padding: [h, w], one integer, or in a model file "valid" (none) or "same" (the
// output keeps H×W at stride 1: (k − 1)/2 on each side, so the kernel must be odd).
Size2 padding(Fields& f, const std::string& key, const Size2& kernel, bool model_file) {
  const json& v = f.at(key);
  if (!model_file || !v.is_string()) return size2(f, key);
  const std::string mode = v.get<std::string>();
  if (mode == "valid") return {0, 0};
  if (mode != "same") throw InputError("field '" + f.name(key) + "': expected \"same\", \"valid\", an integer or [height, width], got \"" + mode + "\"");
  if (kernel[0] % 2 == 0 || kernel[1] % 2 == 0)
    throw InputError("field '" + f.name(key) + "': \"same\" needs an odd kernel (the padding is (k - 1)/2 on each side), got " +
                     std::to_string(kernel[0]) + "x" + std::to_string(kernel[1]));
  return {(kernel[0] - 1) / 2, (kernel[1] - 1) / 2};
}

// The layer list. A checkpoint's spec (model_file false) has every field of each layer's kind; a
// model file may leave out any attribute (LayerSpec's default), the names ("<kind><i>") and the
// recipe, and may write padding as "same" or "valid".
ModelSpec spec_from(const json& j, const std::string& where, bool model_file = false) {
  Fields f(j, where);
  ModelSpec s;
  s.input_shape = integers(f, "input_shape");
  s.classes = f.integer("classes");
  s.layers.clear();
  const json& layers = f.array("layers");
  for (size_t i = 0; i < layers.size(); ++i) {
    Fields l(layers[i], f.name("layers") + "[" + std::to_string(i) + "]");
    LayerSpec layer;
    layer.kind = l.choice("kind", layer_kind_from_string);
    // In a model file, a missing attribute keeps its default; in a checkpoint it is an error.
    auto read = [&](const char* key, auto& value, auto reader) {
      if (!model_file || l.has(key)) value = reader(key);
    };
    auto number = [&](const char* key) { return l.number(key); };
    auto pair = [&](const char* key) { return size2(l, key); };
    if (model_file && !l.has("name")) layer.name = std::string(to_string(layer.kind)) + std::to_string(i + 1);
    else layer.name = l.string("name");
    auto weights = [&] {
      read("init", layer.init, [&](const char* key) { return l.choice(key, init_kind_from_string); });
      read("weight_scale", layer.weight_scale, number);
      read("bias", layer.bias, [&](const char* key) { return l.boolean(key); });
    };
    switch (layer.kind) {
      case LayerKind::dense:
        layer.units = l.integer("units");
        weights();
        break;
      case LayerKind::conv2d:
        layer.filters = l.integer("filters");
        read("kernel", layer.kernel, pair);
        read("stride", layer.stride, pair);
        read("padding", layer.padding, [&](const char* key) { return padding(l, key, layer.kernel, model_file); });
        weights();
        break;
      case LayerKind::max_pool2d:
      case LayerKind::avg_pool2d:
        read("window", layer.window, pair);
        // A pool's stride defaults to its window (non-overlapping windows), as in PyTorch and Keras.
        layer.stride = layer.window;
        read("stride", layer.stride, pair);
        break;
      case LayerKind::global_avg_pool:
      case LayerKind::flatten: break;
      case LayerKind::batch_norm:
        read("momentum", layer.momentum, number);
        read("eps", layer.eps, number);
        // Optional in checkpoints too: one written before ghost batches existed has 1.
        if (l.has("ghost_batches")) layer.ghost_batches = l.integer("ghost_batches");
        break;
      case LayerKind::layer_norm: read("eps", layer.eps, number); break;
      case LayerKind::group_norm:
        layer.groups = l.integer("groups");
        read("eps", layer.eps, number);
        break;
      case LayerKind::dropout: read("rate", layer.rate, number); break;
      case LayerKind::activation: layer.activation = l.choice("activation", activation_from_string); break;
    }
    if (layers[i].contains("probe")) layer.probe = l.string("probe");
    l.done();
    s.layers.push_back(std::move(layer));
  }
  if (model_file && !f.has("recipe")) {
    f.done();
    return s;
  }
  const json& recipe = f.array("recipe");
  for (size_t i = 0; i < recipe.size(); ++i) {
    const std::string field = f.name("recipe") + "[" + std::to_string(i) + "]";
    const json& pair = recipe[i];
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string())
      throw InputError("field '" + field + "': expected a [name, value] pair");
    const std::string name = pair[0].get<std::string>();
    const json& v = pair[1];
    constexpr int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
    if (v.is_number_integer())
      s.recipe.push_back({name, Fields::integer_value(v, field, lo, hi)});
    else if (v.is_number())
      s.recipe.push_back({name, v.get<double>()});
    else if (v.is_string())
      s.recipe.push_back({name, v.get<std::string>()});
    else if (v.is_array()) {
      std::vector<int64_t> values;
      for (size_t k = 0; k < v.size(); ++k) values.push_back(Fields::integer_value(v[k], field + "[" + std::to_string(k) + "]", lo, hi));
      s.recipe.push_back({name, std::move(values)});
    } else
      throw InputError(Fields::wrong_value(field, "a number, a string or an array of integers", v));
  }
  f.done();
  return s;
}


// One declared value from `from` by its type (an optional field: its value, which must be there).
template <class T>
void read_value(Fields& from, const char* name, T& value) {
  if constexpr (is_optional<T>::value) {
    typename T::value_type v{};
    read_value(from, name, v);
    value = v;
  } else if constexpr (std::is_enum_v<T>) {
    value = from.choice(name, [](const std::string& s) {
      T v{};
      parse_field(s, v);
      return v;
    });
  } else if constexpr (std::is_same_v<T, bool>) {
    value = from.boolean(name);
  } else if constexpr (std::is_same_v<T, double>) {
    value = from.number(name);
  } else if constexpr (std::is_same_v<T, int>) {
    value = from.int32(name);
  } else if constexpr (std::is_same_v<T, int64_t>) {
    value = from.integer(name);
  } else if constexpr (std::is_same_v<T, uint64_t>) {
    value = from.unsigned_integer(name);
  } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
    value = integers(from, name);
  } else {
    value = from.string(name);
  }
}

// Every declared field of `c` from `f` (the nested ones from their object, checked for unknown
// fields here); the caller checks `f` itself with done().
// The fields newer than the files that lack them (learning-rate schedules, early stopping): absent,
// they keep their default, which is what those files' runs did.
bool added_later(std::string_view name) {
  return name.starts_with("lr_") || name.starts_with("early_stop");
}

template <class Config>
void read_fields(Fields& f, Config& c) {
  std::optional<Fields> nested;
  visit_fields(c, [&](const FieldInfo& info, auto& value) {
    if (info.nested && !nested) nested.emplace(f.at(info.nested), f.name(info.nested));
    if constexpr (std::is_same_v<Config, TrainConfig>)
      if (!info.nested && added_later(info.name) && !f.has(info.name)) return;
    read_value(info.nested ? *nested : f, info.name, value);
  });
  if (nested) nested->done();
}

// The inverse of config_json: every declared field, of its type; a missing, mistyped or unknown
// field is an InputError naming it.
template <class Config>
Config config_from(const json& j, const std::string& where) {
  Fields f(j, where);
  Config c;
  read_fields(f, c);
  f.done();
  return c;
}

// Format 1: the MLP family's parameters, every one given.
ModelSpec format1_spec_from(const json& j, const std::string& where) {
  Fields f(j, where);
  const int64_t inputs = f.integer("inputs");
  const int64_t classes = f.integer("classes");
  ModelOptions o;
  // Its fields are ModelOptions', under the same names — those there were: format 1 predates ghost
  // batches and the dropout refinement, so bn_ghost_batches and dropout stay unset (G = 1, none).
  visit_fields(o, [&](const FieldInfo& info, auto& value) {
    const std::string_view name(info.name);
    if (name != "bn_ghost_batches" && name != "dropout") read_value(f, info.name, value);
  });
  f.done();
  // Every option is set, so the preset only names the family.
  return preset_spec("plain", inputs, classes, o);
}

OptimizerConfig optimizer_from(const json& j, const std::string& where) { return config_from<OptimizerConfig>(j, where); }
TrainConfig train_config_from(const json& j, const std::string& where) { return config_from<TrainConfig>(j, where); }

EvalMetrics eval_from(const json& j, const std::string& where) {
  Fields f(j, where);
  EvalMetrics m;
  m.loss = f.number("loss", true);
  m.acc = f.number("acc", true);
  m.samples = f.integer("samples");
  f.done();
  return m;
}

EpochMetrics epoch_from(const json& j, const std::string& where) {
  Fields f(j, where);
  EpochMetrics m;
  m.epoch = f.int32("epoch");
  m.train_loss = f.number("train_loss", true);
  // Absent in files written before it was recorded: unknown (NaN, written back as null).
  m.train_loss_std = f.has("train_loss_std") ? f.number("train_loss_std", true) : std::numeric_limits<double>::quiet_NaN();
  m.train_acc = f.number("train_acc", true);
  m.val_loss = f.number("val_loss", true);
  m.val_acc = f.number("val_acc", true);
  m.seconds = f.number("seconds", true);
  m.samples_per_second = f.number("samples_per_second", true);
  m.steps = f.integer("steps");
  m.skipped_steps = f.integer("skipped_steps");
  // Absent in files written before learning-rate schedules: unknown (NaN, written back as null).
  m.lr = f.has("lr") ? f.number("lr", true) : std::numeric_limits<double>::quiet_NaN();
  const json& layers = f.array("layers");
  for (size_t i = 0; i < layers.size(); ++i) {
    Fields l(layers[i], f.name("layers") + "[" + std::to_string(i) + "]");
    m.layers.push_back({l.string("layer"), l.number("mean", true), l.number("std", true)});
    l.done();
  }
  const json& grads = f.array("grad_norms");
  for (size_t i = 0; i < grads.size(); ++i) {
    Fields g(grads[i], f.name("grad_norms") + "[" + std::to_string(i) + "]");
    m.grad_norms.push_back({g.string("parameter"), g.number("mean_norm", true)});
    g.done();
  }
  f.done();
  return m;
}

data::LoadOptions load_options_from(const json& j, const std::string& where) {
  return config_from<data::LoadOptions>(j, where);
}

ojson preparation_json(const data::Preparation& p) {
  ojson j;
  j["divisor"] = p.divisor;
  j["sample_shape"] = p.sample_shape;
  if (p.standardization)
    j["standardization"] = {{"mean", p.standardization->mean}, {"scale", p.standardization->scale}};
  else
    j["standardization"] = nullptr;
  return j;
}

// Floats stored as JSON numbers (written from float, so they read back exactly): finite, and with
// `positive` above zero.
std::vector<float> float_list(const json& a, const std::string& field, bool positive) {
  std::vector<float> out;
  for (size_t i = 0; i < a.size(); ++i) {
    const json& v = a[i];
    const std::string name = field + "[" + std::to_string(i) + "]";
    if (!v.is_number()) throw InputError(Fields::wrong_value(name, "a number", v));
    const double x = v.get<double>();
    if (!std::isfinite(x) || std::fabs(x) > std::numeric_limits<float>::max() || (positive && !(x > 0)))
      throw InputError("field '" + name + "': " + v.dump() + (positive ? " is not a positive finite float" : " is not a finite float"));
    out.push_back(static_cast<float>(x));
  }
  return out;
}

data::Preparation preparation_from(const json& j) {
  Fields f(j, "");
  data::Preparation p;
  p.divisor = f.number("divisor");
  if (!(p.divisor > 0) || !std::isfinite(p.divisor))
    throw InputError("field 'divisor': " + field_text(p.divisor) + " is not a positive number");
  const json& shape = f.array("sample_shape");
  for (size_t i = 0; i < shape.size(); ++i)
    p.sample_shape.push_back(Fields::integer_value(shape[i], "sample_shape[" + std::to_string(i) + "]", 1, int64_t{1} << 24));
  if (p.sample_shape.empty() || p.sample_shape.size() > 3) throw InputError("field 'sample_shape': expected 1 to 3 sizes");
  const json& z = f.at("standardization");
  if (!z.is_null()) {
    Fields g(z, "standardization");
    data::Standardization st;
    const json& mean = g.array("mean");
    const json& scale = g.array("scale");
    st.mean = float_list(mean, "standardization.mean", false);
    st.scale = float_list(scale, "standardization.scale", true);
    g.done();
    if (st.mean.size() != st.scale.size())
      throw InputError("field 'standardization': " + std::to_string(st.mean.size()) + " means but " + std::to_string(st.scale.size()) +
                       " scales");
    p.standardization = std::move(st);
  }
  f.done();
  return p;
}

}  // namespace

std::string to_json(const data::Preparation& preparation) { return preparation_json(preparation).dump(); }
data::Preparation preparation_from_json(std::string_view text) { return preparation_from(parse(text)); }

std::string to_json(const ModelSpec& spec) { return spec_json(spec).dump(); }
std::string to_json(const OptimizerConfig& config) { return optimizer_json(config).dump(); }
std::string to_json(const TrainConfig& config) { return train_config_json(config).dump(); }
std::string to_json(const EvalMetrics& metrics) { return eval_json(metrics).dump(); }
std::string to_json(const EpochMetrics& metrics) { return epoch_json(metrics).dump(); }
std::string to_json(const std::vector<EpochMetrics>& history) {
  ojson a = ojson::array();
  for (const EpochMetrics& m : history) a.push_back(epoch_json(m));
  return a.dump();
}
std::string to_json(const data::LoadOptions& options) { return load_options_json(options).dump(); }

ModelSpec model_spec_from_json(std::string_view text) { return spec_from(parse(text), ""); }
ModelSpec model_file_spec_from_json(std::string_view text) {
  ModelSpec s = spec_from(parse(text), "", true);
  s.validate();
  return s;
}
ModelSpec model_spec_from_format1_json(std::string_view text) { return format1_spec_from(parse(text), ""); }
OptimizerConfig optimizer_config_from_json(std::string_view text) { return optimizer_from(parse(text), ""); }
TrainConfig train_config_from_json(std::string_view text) { return train_config_from(parse(text), ""); }
EvalMetrics eval_metrics_from_json(std::string_view text) { return eval_from(parse(text), ""); }
EpochMetrics epoch_metrics_from_json(std::string_view text) { return epoch_from(parse(text), ""); }
std::vector<EpochMetrics> history_from_json(std::string_view text) {
  const json a = parse(text);
  if (!a.is_array()) throw InputError(std::string("expected an array of epochs, got ") + a.type_name());
  std::vector<EpochMetrics> h;
  for (size_t i = 0; i < a.size(); ++i) h.push_back(epoch_from(a[i], "[" + std::to_string(i) + "]"));
  return h;
}
data::LoadOptions load_options_from_json(std::string_view text) { return load_options_from(parse(text), ""); }

}  // namespace bnlab

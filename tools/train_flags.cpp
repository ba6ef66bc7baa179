#include "tools/train_flags.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include "graph/initializer.hpp"
#include <type_traits>

namespace bnlab::tool {

namespace {

std::string join(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

[[noreturn]] void bad(const std::string& flag, const std::string& value, const std::string& why) {
  throw UsageError(fmt::format("{} {}: {}", flag, value, why));
}

bool given(const CLI::Option* opt) { return opt != nullptr && opt->count() > 0; }

std::string datasets_footer() {
  std::string s = "Datasets (--dataset):\n";
  for (const auto& d : data::dataset_infos()) s += fmt::format("  {:<14} {}\n", d.name, d.description);
  return s;
}

// One flag per declared field that has one (graph/fields.hpp), in declaration order, bound to the
// field itself: its default is the struct's.
template <class Config>
void bind_fields(CLI::App& cmd, Config& config, const std::string& group) {
  visit_fields(config, [&](const FieldInfo& field, auto& value) {
    if (!field.flag) return;
    using T = std::decay_t<decltype(value)>;
    CLI::Option* opt = nullptr;
    if constexpr (std::is_same_v<T, bool>) {
      opt = cmd.add_flag(field.flag, value, field.doc);
    } else if constexpr (std::is_enum_v<T>) {
      const std::string flag = field.flag;
      opt = cmd.add_option_function<std::string>(
                 flag, [&value, flag](const std::string& s) { with_flag(flag, [&] { parse_field(s, value); }); }, field.doc)
                ->default_str(to_string(value));
    } else {
      opt = cmd.add_option(field.flag, value, field.doc)->capture_default_str();
    }
    if (field.type_name) opt->type_name(field.type_name);
    opt->group(group);
  });
}

}  // namespace

void add_train_flags(CLI::App& cmd, TrainFlags& f, TrainFlagSet set) {
  const std::string data = "Data";
  cmd.add_option("--dataset", f.dataset, "dataset: " + join(data::dataset_names()) + " (described below)")
      ->type_name("NAME")
      ->capture_default_str()
      ->group(data);
  bind_fields(cmd, f.data, data);

  const std::string model = "Model";
  if (set.model)
    cmd.add_option("--model", f.model, "preset: " + join(preset_names()) + "; the flags below refine it")
        ->capture_default_str()
        ->group(model);
  f.hidden_opt = cmd.add_option("--hidden", f.hidden, "hidden layer sizes, comma-separated (preset: 128,64)")
                     ->delimiter(',')
                     ->type_name("N,N")
                     ->group(model);
  f.activation_opt = cmd.add_option("--activation", f.activation, "relu or tanh (preset: relu)")->group(model);
  if (set.norm)
    f.norm_opt = cmd.add_option("--norm", f.norm, "normalization: none, batch or layer (preset: from --model)")->group(model);
  f.placement_opt =
      cmd.add_option("--norm-placement", f.placement, "normalize after or before the activation (preset: after)")->group(model);
  f.init_opt = cmd.add_option("--init", f.init, "weights: glorot_uniform, he_normal, he_uniform, torch_default (preset: glorot_uniform)")
                   ->group(model);
  f.weight_scale_opt = cmd.add_option("--weight-scale", f.weight_scale, "multiply the initial weights by this")
                           ->capture_default_str()
                           ->group(model);
  f.bn_preset_opt = cmd.add_option("--bn-preset", f.bn_preset,
                                   "normalization defaults: pytorch (momentum 0.1, eps 1e-5) or keras (momentum 0.01, eps 1e-3)")
                        ->capture_default_str()
                        ->group(model);
  f.bn_momentum_opt = cmd.add_option("--bn-momentum", f.bn_momentum, "batch-norm running-statistics momentum, in [0, 1]")
                          ->capture_default_str()
                          ->group(model);
  f.bn_eps_opt = cmd.add_option("--bn-eps", f.bn_eps, "normalization epsilon")->capture_default_str()->group(model);

  bind_fields(cmd, f.config, "Training");

  const std::string output = "Output";
  cmd.add_option("--json", f.outputs.json, "write the metrics document (METRICS.md) to PATH")->type_name("PATH")->group(output);
  cmd.add_option("--csv", f.outputs.csv, "write one CSV row per run and epoch to PATH")->type_name("PATH")->group(output);
  cmd.add_flag("--quiet", f.quiet, "no progress bar or per-epoch lines")->group(output);

  cmd.footer(datasets_footer());
}

void check_preset(const std::string& flag, const std::string& name) {
  if (!is_preset(name)) bad(flag, name, "unknown model (known: " + join(preset_names()) + ")");
}

void check_before_loading(const TrainFlags& f, const std::vector<std::string>& presets) {
  const auto names = data::dataset_names();
  if (std::find(names.begin(), names.end(), f.dataset) == names.end())
    bad("--dataset", f.dataset, "unknown dataset (known: " + join(names) + ")");
  if (f.dataset == "synthetic" && !f.data.data_dir.empty())
    bad("--data-dir", f.data.data_dir, "dataset synthetic is generated and reads no files");
  with_flags([&] { validate_fields(f.data); });
  // The model's sizes come from the data; Fashion-MNIST's stand in until it is loaded.
  for (const auto& p : presets) {
    model_spec(f, p, 784, 10);
    train_config(f, p);
  }
  check_outputs(f.outputs);
}

data::LoadOptions load_options(const TrainFlags& f) {
  data::LoadOptions o = f.data;
  o.seed = f.config.seed;
  return o;
}

data::Splits load_data(const TrainFlags& f) { return data::load(f.dataset, load_options(f)); }

ModelSpec model_spec(const TrainFlags& f, const std::string& preset, int64_t inputs, int64_t classes) {
  ModelOptions s;
  if (given(f.hidden_opt)) {
    for (int64_t h : f.hidden)
      if (h < 1) bad("--hidden", std::to_string(h), "hidden layer sizes must be positive");
    s.hidden = f.hidden;
  }
  if (given(f.activation_opt)) s.activation = with_flag("--activation", [&] { return activation_from_string(f.activation); });
  if (given(f.norm_opt)) s.norm = with_flag("--norm", [&] { return norm_from_string(f.norm); });
  if (given(f.placement_opt)) s.placement = with_flag("--norm-placement", [&] { return placement_from_string(f.placement); });
  if (given(f.init_opt)) s.init = with_flag("--init", [&] { return init_kind_from_string(f.init); });
  if (given(f.weight_scale_opt)) {
    if (!(std::isfinite(f.weight_scale) && f.weight_scale > 0))
      bad("--weight-scale", fmt::format("{}", f.weight_scale), "must be a positive finite number");
    s.weight_scale = f.weight_scale;
  }
  if (given(f.bn_preset_opt)) {
    if (f.bn_preset == "pytorch" || f.bn_preset == "keras") {
      const BatchNormOptions bn = f.bn_preset == "keras" ? BatchNormOptions::keras() : BatchNormOptions{};
      s.bn_momentum = bn.momentum;
      s.norm_eps = bn.eps;
    } else {
      bad("--bn-preset", f.bn_preset, "unknown preset (known: pytorch, keras)");
    }
  }
  if (given(f.bn_momentum_opt)) {
    if (!kBatchNormMomentum.contains(f.bn_momentum))
      bad("--bn-momentum", fmt::format("{}", f.bn_momentum), "must be " + kBatchNormMomentum.text());
    s.bn_momentum = f.bn_momentum;
  }
  if (given(f.bn_eps_opt)) {
    if (!(std::isfinite(f.bn_eps) && f.bn_eps > 0)) bad("--bn-eps", fmt::format("{}", f.bn_eps), "must be a positive finite number");
    s.norm_eps = f.bn_eps;
  }
  return preset_spec(preset, inputs, classes, s);
}

ModelSpec model_spec(const TrainFlags& f, const std::string& preset, const data::Splits& data) {
  return model_spec(f, preset, data.train.feature_count, data.train.num_classes);
}

TrainConfig train_config(const TrainFlags& f, const std::string& preset) {
  TrainConfig c = f.config;
  c.dataset = f.dataset;
  c.model = preset;
  with_flags([&] { c.validate(); });
  return c;
}

UsageError flag_error(const ConfigError& e) {
  std::string flag;
  std::vector<std::pair<std::string, std::string>> flags;  // field name → flag
  const auto collect = [&](const FieldInfo& field, const auto&) {
    if (!field.flag) return;
    flags.emplace_back(field.name, field.flag);
    if (e.field == field.name) flag = field.flag;
  };
  const TrainConfig training;
  const data::LoadOptions data;
  visit_fields(training, collect);
  visit_fields(data, collect);
  if (!e.sentence.empty()) {
    // The sentence names fields by their names: say their flags instead (whole words only).
    std::string s = e.sentence;
    const auto word_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; };
    for (const auto& [name, f] : flags) {
      size_t at = s.find(name);
      while (at != std::string::npos) {
        const size_t end = at + name.size();
        if ((at == 0 || !word_char(s[at - 1])) && (end == s.size() || !word_char(s[end]))) {
          s.replace(at, name.size(), f);
          at = s.find(name, at + f.size());
        } else {
          at = s.find(name, end);
        }
      }
    }
    return UsageError(s);
  }
  if (flag.empty()) return UsageError(e.what());
  return UsageError(fmt::format("{} {}: must be {}", flag, e.value, e.rule));
}

TrainConfig train_config(const TrainFlags& f, const std::string& preset, const data::Splits& data) {
  TrainConfig c = train_config(f, preset);
  if (c.batch_size > data.train.size())
    bad("--batch-size", std::to_string(c.batch_size),
        fmt::format("larger than the training split {} ({} rows)", data.train.name, data.train.size()));
  return c;
}

nlohmann::ordered_json data_config(const TrainFlags& f) { return data_config(load_options(f)); }

}  // namespace bnlab::tool

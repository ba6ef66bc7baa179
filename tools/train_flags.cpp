#include "tools/train_flags.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include "graph/initializer.hpp"
#include "graph/suggest.hpp"
#include "models/cnn.hpp"
#include "models/mlp.hpp"
#include "train/model_file.hpp"
#include <filesystem>
#include <map>
#include <optional>
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
// field itself: its default is the struct's. An optional field (a refinement) stays empty unless
// its flag is given; `shown` gives the default its help shows, by field name. `keep` filters the
// fields; `before` runs before each field's flag is added (to place a flag of the command's own).
template <class Config>
void bind_fields(CLI::App& cmd, Config& config, const std::string& group,
                 const std::function<bool(const FieldInfo&)>& keep = {},
                 const std::map<std::string, std::string>& shown = {},
                 const std::function<void(const FieldInfo&)>& before = {}) {
  visit_fields(config, [&](const FieldInfo& field, auto& value) {
    if (!field.flag || (keep && !keep(field))) return;
    if (before) before(field);
    using T = std::decay_t<decltype(value)>;
    const std::string flag = field.flag;
    CLI::Option* opt = nullptr;
    if constexpr (std::is_same_v<T, bool>) {
      opt = cmd.add_flag(flag, value, field.doc);
    } else if constexpr (std::is_enum_v<T>) {
      opt = cmd.add_option_function<std::string>(
                 flag, [&value, flag](const std::string& s) { with_flag(flag, [&] { parse_field(s, value); }); }, field.doc)
                ->default_str(to_string(value));
    } else if constexpr (is_optional<T>::value) {
      using U = typename T::value_type;
      if constexpr (std::is_enum_v<U>) {
        opt = cmd.add_option_function<std::string>(flag,
                                                   [&value, flag](const std::string& s) {
                                                     U v{};
                                                     with_flag(flag, [&] { parse_field(s, v); });
                                                     value = v;
                                                   },
                                                   field.doc);
      } else if constexpr (std::is_same_v<U, std::vector<int64_t>>) {
        opt = add_list_option(cmd, flag, value, field.doc);
      } else {
        opt = add_number_option(cmd, flag, value, field.doc, field.range);
      }
    } else if constexpr (std::is_arithmetic_v<T>) {
      opt = add_number_option(cmd, flag, value, field.doc, field.range)->capture_default_str();
    } else {
      opt = cmd.add_option(flag, value, field.doc)->capture_default_str();
    }
    if (const auto it = shown.find(field.name); it != shown.end()) opt->default_str(it->second);
    if (field.type_name) opt->type_name(field.type_name);
    opt->group(group);
  });
}

}  // namespace

void add_model_flags(CLI::App& cmd, TrainFlags& f, const std::function<bool(const FieldInfo&)>& keep, const std::string& group) {
  // The help shows the family's defaults of the numbers (the rest say "(preset: …)" in their doc).
  std::map<std::string, std::string> shown;
  const ModelOptions defaults = MlpSpec{}.options();
  visit_fields(defaults, [&](const FieldInfo& field, const auto& value) {
    if constexpr (std::is_same_v<std::decay_t<decltype(value)>, std::optional<double>>) shown[field.name] = field_text(*value);
  });
  bind_fields(cmd, f.model_options, group, keep, shown, [&](const FieldInfo& field) {
    if (std::string(field.name) != "bn_momentum") return;
    f.bn_preset_opt = cmd.add_option("--bn-preset", f.bn_preset,
                                     "normalization defaults: pytorch (momentum 0.1, eps 1e-5) or keras (momentum 0.01, eps 1e-3)")
                          ->capture_default_str()
                          ->group(group);
  });
}

void add_train_flags(CLI::App& cmd, TrainFlags& f, TrainFlagSet set) {
  const std::string data = "Data";
  cmd.add_option("--dataset", f.dataset, "dataset: " + join(data::dataset_names()) + " (described below)")
      ->type_name("NAME")
      ->capture_default_str()
      ->group(data);
  bind_fields(cmd, f.data, data);

  const std::string model = "Model";
  if (set.model) {
    CLI::Option* preset = cmd.add_option("--model", f.model, "preset: " + join(preset_names()) + "; the flags below refine it")
                              ->capture_default_str()
                              ->group(model);
    // Both given, one would be ignored.
    cmd.add_option("--model-file", f.model_file,
                   "train the model a JSON file describes (layers, shapes: docs/model-files.md) instead of a preset")
        ->type_name("PATH")
        ->group(model)
        ->excludes(preset);
  }
  add_model_flags(cmd, f, [&](const FieldInfo& field) { return set.norm || std::string(field.name) != "norm"; }, model);

  bind_fields(cmd, f.config, "Training");
  visit_fields(f.config, [&](const FieldInfo& field, const auto&) {
    const std::string name = field.name;
    if (field.flag && (name.starts_with("lr_") || name.starts_with("early_stop")))
      f.config_opts[name] = cmd.get_option_no_throw(field.flag);
  });

  const std::string output = "Output";
  cmd.add_option("--json", f.outputs.json, "write the metrics document (docs/metrics.md) to PATH")->type_name("PATH")->group(output);
  cmd.add_option("--csv", f.outputs.csv, "write one CSV row per run and epoch to PATH")->type_name("PATH")->group(output);
  cmd.add_flag("--quiet", f.quiet, "no progress bar or per-epoch lines")->group(output);

  cmd.footer(datasets_footer());
}

bool is_model_file(const std::string& model) { return model.ends_with(".json"); }

std::string model_label(const std::string& model) {
  if (!is_model_file(model)) return model;
  std::string stem = std::filesystem::path(model).filename().string();
  if (stem.size() > 5) stem.resize(stem.size() - 5);
  return stem;
}

void check_preset(const std::string& flag, const std::string& name) {
  // --model-file names a file whatever its name ends in (a wrong kind of file is named: model_file.cpp).
  if (is_model_file(name) || flag == "--model-file") {
    (void)read_model_file(name);
    return;
  }
  if (!is_preset(name)) bad(flag, name, "unknown model" + known_names_hint(name, preset_names(), ", or a model file NAME.json"));
}

std::string model_name(const TrainFlags& f) { return f.model_file.empty() ? f.model : f.model_file; }

namespace {

Norm preset_norm(const std::string& preset) {
  return CnnSpec::is_preset(preset) ? CnnSpec::preset(preset).norm : MlpSpec::preset(preset).norm;
}

// A preset's name says its normalization ("plain", "batchnorm"), and every output carries that
// name: --norm that says otherwise would train one model under another's name.
void check_norm_fits_preset(const TrainFlags& f, const std::string& preset) {
  if (!f.model_options.norm || !is_preset(preset) || *f.model_options.norm == preset_norm(preset)) return;
  const Norm wanted = *f.model_options.norm;
  std::string instead;
  for (const std::string& other : preset_names())
    if (CnnSpec::is_preset(other) == CnnSpec::is_preset(preset) && preset_norm(other) == wanted) instead = other;
  const Norm own = preset_norm(preset);
  throw UsageError(fmt::format("--norm {} contradicts --model {} (a model {}, named so in every output); {}", to_string(wanted), preset,
                               own == Norm::none ? std::string("without normalization") : fmt::format("with {} normalization", to_string(own)),
                               instead.empty() ? "write the model as a --model-file (docs/model-files.md)"
                                               : "--model " + instead + " is that model"));
}

}  // namespace

namespace {

// A flag of a learning-rate schedule or of early stopping means nothing without it: refused rather
// than ignored.
void check_schedule_flags(const TrainFlags& f) {
  const auto opt = [&](const char* field) -> const CLI::Option* {
    const auto it = f.config_opts.find(field);
    return it == f.config_opts.end() ? nullptr : it->second;
  };
  const TrainConfig& c = f.config;
  const std::string schedule = to_string(c.lr_schedule);
  const auto needs = [&](const char* field, bool ok, const std::string& what) {
    if (given(opt(field)) && !ok)
      throw UsageError(fmt::format("{} is for {}, but --lr-schedule is {}", opt(field)->get_name(), what, schedule));
  };
  needs("lr_step_epochs", c.lr_schedule == LrSchedule::step, "--lr-schedule step");
  needs("lr_gamma", c.lr_schedule == LrSchedule::step, "--lr-schedule step");
  needs("lr_min", depends_on_epochs(c.lr_schedule), "--lr-schedule cosine or warmup-cosine");
  needs("lr_warmup_epochs", c.lr_schedule == LrSchedule::warmup_cosine, "--lr-schedule warmup-cosine");
  needs("lr_warmup_start", c.lr_schedule == LrSchedule::warmup_cosine, "--lr-schedule warmup-cosine");
  if (given(opt("early_stop")) && c.early_stop == 0)
    bad("--early-stop", "0", "must be at least 1 (the epochs to wait for an improvement; leave the flag out to train every epoch)");
  for (const char* field : {"early_stop_metric", "early_stop_min_delta"})
    if (given(opt(field)) && c.early_stop == 0)
      throw UsageError(fmt::format("{} is for --early-stop PATIENCE, which was not given", opt(field)->get_name()));
  if (c.early_stop > 0 && f.data.val_fraction == 0)
    bad("--early-stop", std::to_string(c.early_stop), "watches the validation split, but --val-fraction is 0 (give it a value above 0)");
}

}  // namespace

void check_before_loading(const TrainFlags& f, const std::vector<std::string>& presets) {
  const auto names = data::dataset_names();
  if (std::find(names.begin(), names.end(), f.dataset) == names.end())
    bad("--dataset", f.dataset, "unknown dataset" + known_names_hint(f.dataset, names));
  if (f.dataset == "synthetic" && !f.data.data_dir.empty())
    bad("--data-dir", f.data.data_dir, "dataset synthetic is generated and reads no files");
  if (f.data.csv_pixels && f.dataset != "csv")
    throw UsageError("--csv-pixels is for --dataset csv; --dataset " + f.dataset +
                     (f.dataset == "synthetic" ? " is generated" : " has its own scaling (images: pixels / 255)"));
  with_flags([&] { validate_fields(f.data); });
  check_schedule_flags(f);
  for (const auto& p : presets) {
    if (is_model_file(p) || (!f.model_file.empty() && p == f.model_file)) {
      // A model file is the whole model: a refinement flag would be silently ignored.
      visit_fields(f.model_options, [&](const FieldInfo& field, const auto& value) {
        if (value.has_value()) throw UsageError(fmt::format("{}: refines a preset, not a model file (edit {} instead)", field.flag, p));
      });
      if (given(f.bn_preset_opt)) throw UsageError("--bn-preset: refines a preset, not a model file (edit " + p + " instead)");
      (void)read_model_file(p);
    } else {
      check_norm_fits_preset(f, p);
      // The model's sizes come from the data; Fashion-MNIST's stand in until it is loaded.
      model_spec(f, p, {28, 28, 1}, 10);
    }
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

ModelSpec model_spec(const TrainFlags& f, const std::string& preset, const std::vector<int64_t>& sample_shape,
                     int64_t classes) {
  if (!f.model_file.empty()) return read_model_file(f.model_file);
  if (is_model_file(preset)) return read_model_file(preset);
  ModelOptions s = f.model_options;
  if (given(f.bn_preset_opt)) {
    if (f.bn_preset != "pytorch" && f.bn_preset != "keras") bad("--bn-preset", f.bn_preset, "unknown preset" + known_names_hint(f.bn_preset, {"pytorch", "keras"}));
    // The preset's values unless --bn-momentum / --bn-eps say otherwise.
    const BatchNormOptions bn = f.bn_preset == "keras" ? BatchNormOptions::keras() : BatchNormOptions{};
    if (!s.bn_momentum) s.bn_momentum = bn.momentum;
    if (!s.norm_eps) s.norm_eps = bn.eps;
  }
  with_flags([&] { validate_fields(s); });
  return preset_spec(preset, sample_shape, classes, s);
}

ModelSpec model_spec(const TrainFlags& f, const std::string& preset, const data::Splits& data) {
  return model_spec(f, preset, data.train.sample_shape(), data.train.num_classes);
}

TrainConfig train_config(const TrainFlags& f, const std::string& preset) {
  TrainConfig c = f.config;
  c.dataset = f.dataset;
  c.model = model_label(preset);
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
  const ModelOptions model;
  visit_fields(training, collect);
  visit_fields(data, collect);
  visit_fields(model, collect);
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

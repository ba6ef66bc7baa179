// The flags every training command shares (train, compare, later sweep): data, model refinements,
// optimizer, training loop, outputs. Each command registers them on its subcommand, then turns them
// into the library's option structs. Everything that can be checked without the data is checked
// before the data is loaded, so a typo fails in milliseconds rather than after loading 60k images.
//
//   TrainFlags f;
//   add_train_flags(*cmd, f, {});
//   ... parse ...
//   check_before_loading(f, {f.model});
//   data::Splits s = load_data(f);
//   ModelSpec spec = model_spec(f, f.model, s);
//   TrainConfig cfg = train_config(f, f.model, s);
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <optional>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "data/registry.hpp"
#include "graph/errors.hpp"
#include "models/presets.hpp"
#include "lab/outputs.hpp"
#include "lab/run_control.hpp"
#include "train/config_fields.hpp"
#include "train/trainer.hpp"
#include "tools/flag_values.hpp"

namespace bnlab::tool {

// The commands are written in terms of the lab library they drive.
using namespace bnlab::lab;

// Which of the model-choosing flags a command offers: compare fixes the model and norm per variant.
struct TrainFlagSet {
  bool model = true;  // --model PRESET
  bool norm = true;   // --norm none|batch|layer
};

struct TrainFlags {
  // data: the dataset's name, and the flags of data::LoadOptions' declarations bound to `data`
  // (its seed is the training seed)
  std::string dataset = TrainConfig{}.dataset;
  data::LoadOptions data;
  // model: a preset, refined by the flags that were given, or a model file (which no flag refines)
  std::string model = "batchnorm";
  std::string model_file;
  // the refinements of ModelOptions' declarations (models/presets.hpp), each set only when its flag
  // was given (a preset's own value wins over a default the user never typed), and the --bn-preset
  // shorthand for bn_momentum and norm_eps
  ModelOptions model_options;
  std::string bn_preset = "pytorch";
  // training loop and optimizer: the flags of train/config_fields.hpp, bound to these fields (so
  // the defaults are TrainConfig's own)
  TrainConfig config;
  // outputs
  OutputPaths outputs;
  bool quiet = false;

  CLI::Option* bn_preset_opt = nullptr;
  // The training flags by field name (the options a learning-rate schedule or early stopping
  // takes are refused without it).
  std::map<std::string, CLI::Option*> config_opts;
};

void add_train_flags(CLI::App& cmd, TrainFlags& flags, TrainFlagSet set);
// The model refinement flags alone, those whose field `keep` accepts (gradcheck offers some).
void add_model_flags(CLI::App& cmd, TrainFlags& flags, const std::function<bool(const FieldInfo&)>& keep,
                     const std::string& group = "Options");

// Everything checkable without data, for each preset the command will train: dataset name, data
// options, model refinements, the training configuration, and the output paths. UsageError naming
// the flag and value.
void check_before_loading(const TrainFlags& flags, const std::vector<std::string>& presets);

// A model is named by a preset ("batchnorm") or by the path of a model file ("m.json",
// docs/model-files.md): every command that takes a model or a list of variants takes either.
bool is_model_file(const std::string& model);
// The model's name in outputs and run names: the preset, or the file's name without its folder and
// ".json" ("runs/m.json" → "m").
std::string model_label(const std::string& model);
// UsageError naming `flag` unless `name` is a model preset; a model file is read and validated
// (InputError naming the file).
void check_preset(const std::string& flag, const std::string& name);

// The model `train` trains: --model-file if given, else --model.
std::string model_name(const TrainFlags& flags);

data::LoadOptions load_options(const TrainFlags& flags);
data::Splits load_data(const TrainFlags& flags);

// The preset refined by the flags, sized to the data (its sample shape and class count); with
// --model-file, the file's model (the trainer checks that it fits the data).
ModelSpec model_spec(const TrainFlags& flags, const std::string& preset, const data::Splits& data);
// With the sample shape and classes given explicitly (gradcheck, and the checks before loading).
ModelSpec model_spec(const TrainFlags& flags, const std::string& preset, const std::vector<int64_t>& sample_shape,
                     int64_t classes);

// The validated training configuration; with data, also checks the batch size against the split.
TrainConfig train_config(const TrainFlags& flags, const std::string& preset);
TrainConfig train_config(const TrainFlags& flags, const std::string& preset, const data::Splits& data);

// The data options that RunRecord does not carry, merged into each run's "config" in the metrics.
nlohmann::ordered_json data_config(const TrainFlags& flags);
using lab::data_config;  // the same from data::LoadOptions (lab/run_control.hpp)

// Prefixes a library UsageError with the flag it came from: "--activation: unknown activation …".
template <class F>
auto with_flag(const std::string& flag, F&& parse) -> decltype(parse()) {
  try {
    return parse();
  } catch (const UsageError& e) {
    throw UsageError(flag + ": " + e.what());
  }
}

// A ConfigError of the training configuration as the command line says it, naming the flag of the
// field: "--lr -0.1: must be positive and finite". A field without a flag keeps the library's words.
UsageError flag_error(const ConfigError& e);

// Calls `f`; a ConfigError it throws becomes flag_error(e).
template <class F>
auto with_flags(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const ConfigError& e) {
    throw flag_error(e);
  }
}

}  // namespace bnlab::tool

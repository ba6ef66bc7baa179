// JSON text of the structs that describe a run: the model spec, the training and optimizer
// configuration, the data options, and the metrics of each epoch. Checkpoints store these in their
// `__metadata__`; a metrics writer can embed them (parse the text with any JSON library).
//
//   std::string text = bnlab::to_json(spec);                  // {"input_shape":[784],"classes":10,"layers":[…],"recipe":{…}}
//   bnlab::ModelSpec back = bnlab::model_spec_from_json(text);  // back == spec
//
// Field names are the struct members' names (enums as their command-line names: "relu", "batch",
// "after_activation", "glorot_uniform", "adam"). Doubles are written with enough digits to read
// back bit for bit; a NaN or infinite metric is written as null and reads back as NaN.
//
// requires (from_json): exactly the fields to_json writes — a missing field, a field of the wrong
// type and an unknown field are each an InputError naming the field ("hidden[1]: expected an
// integer, got string"), so a file from a newer bnlab is refused rather than half understood.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "data/registry.hpp"
#include "models/model_spec.hpp"
#include "train/optimizer.hpp"
#include "train/trainer.hpp"

namespace bnlab {

std::string to_json(const ModelSpec& spec);   // a layer carries the attributes of its kind only
std::string to_json(const OptimizerConfig& config);
std::string to_json(const TrainConfig& config);   // the optimizer nested as "optimizer": {…}
std::string to_json(const EvalMetrics& metrics);
std::string to_json(const EpochMetrics& metrics);
std::string to_json(const std::vector<EpochMetrics>& history);  // a JSON array
std::string to_json(const data::LoadOptions& options);          // synthetic options nested as "synthetic"

ModelSpec model_spec_from_json(std::string_view text);
// A model file (`--model-file`, docs/model-files.md): the same format, but a layer may leave out
// any attribute (LayerSpec's default), its name ("<kind><i>", i from 1) and the recipe, and a
// convolution's padding may be "same" or "valid". Validated (UsageError naming the layer).
ModelSpec model_file_spec_from_json(std::string_view text);
// Checkpoint format 1's spec: the MLP family's parameters ({"inputs":784,"hidden":[128,64],…}).
ModelSpec model_spec_from_format1_json(std::string_view text);
OptimizerConfig optimizer_config_from_json(std::string_view text);
TrainConfig train_config_from_json(std::string_view text);
EvalMetrics eval_metrics_from_json(std::string_view text);
EpochMetrics epoch_metrics_from_json(std::string_view text);
std::vector<EpochMetrics> history_from_json(std::string_view text);
data::LoadOptions load_options_from_json(std::string_view text);
// How the inputs were prepared: {"divisor":255,"sample_shape":[28,28,1],"standardization":null or
// {"mean":[…],"scale":[…]}} (the checkpoint's "preprocessing"). Shapes are checked against a model by
// read_checkpoint, not here.
std::string to_json(const data::Preparation& preparation);
data::Preparation preparation_from_json(std::string_view text);

}  // namespace bnlab

// The MLP family: the parameters of the reference models (DESIGN.md) and the layer list they make.
// The presets of models/presets.hpp are values of it; train/ and lab/ see only the ModelSpec.
//
//   bnlab::MlpSpec spec = bnlab::MlpSpec::preset("batchnorm");  // 784-128-64-10, ReLU, BN after each hidden ReLU
//   spec.hidden = {256, 256, 256};                               // refine it
//   bnlab::Model m = bnlab::build_model(spec.model_spec());
//
// Layer i (1-based) of `hidden` is: dense "fc<i>" → [norm "bn<i>"/"ln<i>" if before] → activation
// "act<i>" → [norm if after]; then dense "out" to the classes. The pre-activation values (what
// enters "act<i>") are probed as "fc<i>".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/initializer.hpp"
#include "models/layer_style.hpp"
#include "models/model_spec.hpp"
#include "models/presets.hpp"
#include "ops/batch_norm.hpp"

namespace bnlab {
// The sizes here; the activation, the norm and where it sits, the initializer, … in LayerStyle.
struct MlpSpec : LayerStyle {
  int64_t inputs = 784;
  std::vector<int64_t> hidden = {128, 64};
  int64_t classes = 10;

  // "plain" or "batchnorm": the reference variants of DESIGN.md; "layernorm" for comparison.
  static MlpSpec preset(const std::string& name);
  // The largest model validate() accepts: far beyond any MLP bnlab trains (the study's deepest has
  // 16 hidden layers), small enough that building it is quick, its sizes fit the graph (class ids
  // are int32) and its parameters fit in memory. A spec read from a file is checked against these
  // before anything is built from it.
  static constexpr size_t max_hidden_layers = 256;
  static constexpr int64_t max_layer_size = int64_t{1} << 24;      // inputs, each hidden size, classes
  static constexpr int64_t max_parameters = int64_t{1} << 32;      // weights and biases (16 GiB of float)

  // "784-128-64-10"
  std::string sizes() const;
  // Weights and biases of the dense layers (norm parameters not counted); UsageError if the count
  // exceeds max_parameters (checked arithmetic: no overflow whatever the sizes).
  int64_t dense_parameters() const;
  // Throws UsageError naming the field that is out of range and its value.
  void validate() const;
  // The layer list (validated first), with the family's parameters as its recipe.
  ModelSpec model_spec() const;
  // The options as refinements: every field set.
  ModelOptions options() const;
  // This spec refined by `options` (the fields they set).
  MlpSpec refined(const ModelOptions& options) const;
  friend bool operator==(const MlpSpec&, const MlpSpec&) = default;
};

}  // namespace bnlab

// The MLP family, declared as data, and the builder that turns a spec into a graph.
//
//   bnlab::MlpSpec spec = bnlab::MlpSpec::preset("batchnorm");  // 784-128-64-10, ReLU, BN after each hidden ReLU
//   spec.hidden = {256, 256, 256};                               // refine it
//   bnlab::Mlp mlp = bnlab::build_mlp(spec);
//   auto program = bnlab::compile(mlp.graph, mlp.loss);
//
// Layer i (1-based) of `hidden` is: dense "fc<i>" → [norm "bn<i>"/"ln<i>" if before] → activation
// → [norm if after]; then dense "out" to the classes and softmax cross-entropy "loss".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.hpp"
#include "ops/batch_norm.hpp"

namespace bnlab {

enum class Activation { relu, tanh };
enum class Norm { none, batch, layer };
enum class NormPlacement { after_activation, before_activation };

struct MlpSpec {
  int64_t inputs = 784;
  std::vector<int64_t> hidden = {128, 64};
  int64_t classes = 10;
  Activation activation = Activation::relu;
  Norm norm = Norm::none;
  NormPlacement placement = NormPlacement::after_activation;
  Init::Kind init = Init::Kind::glorot_uniform;
  double weight_scale = 1.0;
  double bn_momentum = 0.1;
  double norm_eps = 1e-5;

  // "plain" or "batchnorm": the reference variants of DESIGN.md; "layernorm" for comparison.
  static MlpSpec preset(const std::string& name);
  static std::vector<std::string> preset_names();
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
  friend bool operator==(const MlpSpec&, const MlpSpec&) = default;
};

const char* to_string(Activation a);
const char* to_string(Norm n);
const char* to_string(NormPlacement p);
Activation activation_from_string(const std::string& s);
Norm norm_from_string(const std::string& s);
NormPlacement placement_from_string(const std::string& s);

struct Mlp {
  Graph graph;
  NodeId x = -1, y = -1, logits = -1, loss = -1;
  // Per hidden layer: the node whose value enters the activation (the pre-activation values).
  std::vector<NodeId> pre_activations;
  MlpSpec spec;
};

Mlp build_mlp(const MlpSpec& spec);

}  // namespace bnlab

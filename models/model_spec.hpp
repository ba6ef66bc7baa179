// A model as data: the input's per-sample shape, the number of classes, and a list of layers, each
// a kind with its attributes. build_model() (models/model.hpp) turns it into a graph; the trainer,
// checkpoints, the predictor and the lab know models only through this and Model.
//
//   bnlab::ModelSpec spec = bnlab::preset_spec("batchnorm", 784, 10);   // models/presets.hpp
//   spec.layers.size();        // 9: fc1 act1 bn1 fc2 act2 bn2 out — see presets.hpp for the list
//   spec.describe();           // "784-128-64-10"
//
// The layers run in order; the output of the last one is the logits (a dense layer with `classes`
// units), and the loss is softmax cross-entropy against the labels. A layer with a `probe` label
// reports its output's statistics under that label (the pre-activation values the trainer
// records per epoch: `probe = "fc1"` on the dense layer, or on the norm layer when the norm comes
// before the activation).
//
// Why a flat list of kinds with attributes: it is what a JSON file, a checkpoint and a report can
// hold without code, and a new kind (conv2d, pooling, reshape) is one more enum value, its
// attributes and one case in build_model — train/, lab/ and tools/ do not change.
//
// `recipe` says how the spec was made, for outputs only: the preset's parameters (hidden sizes,
// activation, norm, …) in the order the metrics document's config block lists them. Two specs
// with the same layers but another recipe are different specs (a resume checks both).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "graph/initializer.hpp"
#include "ops/batch_norm.hpp"

namespace bnlab {

enum class LayerKind {
  dense, batch_norm, layer_norm, activation,
  conv2d, max_pool2d, avg_pool2d, global_avg_pool, flatten, group_norm, dropout
};
enum class Activation { relu, tanh, sigmoid };

const char* to_string(LayerKind k);
const char* to_string(Activation a);
LayerKind layer_kind_from_string(const std::string& s);
// Every layer kind, in declaration order (for messages and documentation).
std::vector<LayerKind> layer_kinds();
Activation activation_from_string(const std::string& s);

// Height and width of a kernel, window, stride or padding.
using Size2 = std::array<int64_t, 2>;

// One layer. Shapes below are one sample's (the batch dimension is not written); images are
// [H,W,C], channels last.
struct LayerSpec {
  LayerKind kind = LayerKind::dense;
  std::string name;  // unique in the model: parameters are "<name>.weight", "<name>.gamma", …
  // dense: [F] → [units], x·weight [F,units] (+ bias [units])
  int64_t units = 0;
  // conv2d: [H,W,C] → [H',W',filters], weight [kh,kw,C,filters] (+ bias [filters]),
  //   H' = ⌊(H + 2·padding_h − kh)/stride_h⌋ + 1; zero padding on both sides
  int64_t filters = 0;
  Size2 kernel = {3, 3};
  Size2 padding = {0, 0};
  // conv2d, max_pool2d, avg_pool2d: the step between windows; pools: [H,W,C] → [H',W',C],
  //   H' = ⌊(H − window_h)/stride_h⌋ + 1, no padding
  Size2 stride = {1, 1};
  Size2 window = {2, 2};
  // dense and conv2d
  Init::Kind init = Init::Kind::glorot_uniform;
  double weight_scale = 1.0;  // multiplies the drawn weights
  bool bias = true;
  // batch_norm (momentum, eps) over [F] or per channel of [H,W,C]; layer_norm (eps) over [F];
  // group_norm (groups, eps) per sample over H, W and C/groups channels
  double momentum = BatchNormOptions{}.momentum;
  double eps = BatchNormOptions{}.eps;
  // batch_norm: G ≥ 1 ghost batches — each of G shares of the batch normalized on its own in
  // training (ops/batch_norm.hpp); 1 is the whole batch
  int64_t ghost_batches = BatchNormOptions{}.ghost_batches;
  int64_t groups = 1;
  // dropout: the share of values zeroed in training (inverted scaling; identity in evaluation)
  double rate = 0.5;
  // activation
  Activation activation = Activation::relu;
  // global_avg_pool: [H,W,C] → [C]; flatten: any shape → [H·W·C]
  // non-empty: the trainer reports this layer's output statistics under this label
  std::string probe;

  friend bool operator==(const LayerSpec&, const LayerSpec&) = default;
};

// One parameter of how a spec was made ("hidden": [128, 64], "norm": "batch", …).
struct RecipeField {
  using Value = std::variant<int64_t, double, std::string, std::vector<int64_t>>;
  std::string name;
  Value value;
  friend bool operator==(const RecipeField&, const RecipeField&) = default;
};

struct ModelSpec {
  std::vector<int64_t> input_shape = {784};  // one sample's shape; the batch dimension is not part of it
  int64_t classes = 10;
  std::vector<LayerSpec> layers;
  std::vector<RecipeField> recipe;

  // Limits validate() enforces: far beyond any model bnlab trains, small enough that building one
  // is quick, its sizes fit the graph (class ids are int32) and its parameters fit in memory. A
  // spec read from a file is checked against them before anything is built from it.
  static constexpr size_t max_layers = 1024;
  static constexpr int64_t max_size = int64_t{1} << 24;         // one dimension: inputs, units, classes
  static constexpr int64_t max_parameters = int64_t{1} << 32;   // weights and biases (16 GiB of float)

  // The features of one sample (the product of input_shape).
  int64_t input_features() const;
  // "784-128-64-10": the input features, then the units of each dense layer. A model with
  // convolutions: "28x28x1-c32-p2-c64-p2-128-10" (c: a conv's filters, p: a pool's window).
  std::string describe() const;
  // One sample's shape after each layer (layer_shapes()[i] is layer i's output), checking that
  // each layer fits its input: UsageError "layer 3 (dense 'fc1'): takes [F], got [28,28,1]; add a
  // flatten layer before it". validate() checks this and more.
  std::vector<std::vector<int64_t>> layer_shapes() const;
  // Weights, biases and norm parameters (what the optimizer updates).
  int64_t parameter_count() const;
  bool has(LayerKind kind) const;
  // The recipe field `name`, or nullptr.
  const RecipeField::Value* recipe_value(const std::string& name) const;
  // The recipe field `name` as text ("relu", "0.1", "128,64"), or "" when there is none.
  std::string recipe_text(const std::string& name) const;
  // Throws UsageError naming the layer (index from 1, kind and name) or field that is wrong and its
  // value: sizes out of range, an empty or duplicate name, a layer that does not fit its input's
  // shape (layer_shapes), a last layer that is not a dense layer with `classes` units, more than
  // max_parameters weights and biases.
  void validate() const;
  friend bool operator==(const ModelSpec&, const ModelSpec&) = default;
};

}  // namespace bnlab

// The named models bnlab knows, as ModelSpecs for given input and class counts, refined by the
// options a user (a flag, a study item) gives. A model is chosen by name everywhere — train,
// compare, sweep, study, checkpoints — and made here, once.
//
//   bnlab::ModelSpec spec = bnlab::preset_spec("batchnorm", 784, 10, {.hidden = {{256, 256}}});
//
// The presets are the reference variants of DESIGN.md, one family (models/mlp.hpp): hidden dense
// layers, each followed by its activation, with the norm after the activation (or before it):
//   plain      784-128-64-10, ReLU, Glorot-uniform weights, zero biases
//   batchnorm  plain with batch norm after each hidden ReLU (momentum 0.1, eps 1e-5: PyTorch's)
//   layernorm  plain with layer norm after each hidden ReLU
// and the reference CNN, the second family (models/cnn.hpp), for images [H,W,C]:
//   cnn-plain      conv 3×3×32 → ReLU → max-pool 2 → conv 3×3×64 → ReLU → max-pool 2 → flatten →
//                  dense 128 → ReLU → dense 10, biases everywhere, Glorot-uniform weights
//   cnn-batchnorm  cnn-plain with batch norm between each conv / hidden dense layer and its ReLU
//                  (per channel on images: BatchNorm2d; momentum 0.1, eps 1e-5)
// The refinements apply to both families (--hidden sets a CNN's dense layers after the flatten).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "graph/initializer.hpp"
#include "graph/fields.hpp"
#include "models/model_spec.hpp"
#include "ops/batch_norm.hpp"

namespace bnlab {

enum class Norm { none, batch, layer };
enum class NormPlacement { after_activation, before_activation };

const char* to_string(Norm n);
const char* to_string(NormPlacement p);
Norm norm_from_string(const std::string& s);
NormPlacement placement_from_string(const std::string& s);

// What refines a preset; every field left empty keeps the preset's value.
struct ModelOptions {
  std::optional<std::vector<int64_t>> hidden;  // sizes of the hidden dense layers
  std::optional<Activation> activation;
  std::optional<Norm> norm;
  std::optional<NormPlacement> placement;
  std::optional<Init::Kind> init;
  std::optional<double> weight_scale;  // multiplies every dense layer's initial weights
  std::optional<double> bn_momentum;   // batch norm's running-statistics momentum
  std::optional<double> norm_eps;      // batch and layer norm's epsilon
  std::optional<int64_t> bn_ghost_batches;  // batch norm's ghost batches G (ops/batch_norm.hpp)
  std::optional<double> dropout;            // after each hidden block: the share of values zeroed in training
};

// Enum fields by name (UsageError listing the known names otherwise).
inline void parse_field(const std::string& s, Activation& out) { out = activation_from_string(s); }
inline void parse_field(const std::string& s, Norm& out) { out = norm_from_string(s); }
inline void parse_field(const std::string& s, NormPlacement& out) { out = placement_from_string(s); }
inline void parse_field(const std::string& s, Init::Kind& out) { out = init_kind_from_string(s); }

// The refinements' fields, declared once (graph/fields.hpp): they make the model flags (--hidden,
// --activation, …) and their ranges are what MlpSpec::validate and the flags check.
template <class C, class V>
  requires std::is_same_v<std::remove_const_t<C>, ModelOptions>
void visit_fields(C& o, V&& v) {
  v(FieldInfo{.name = "hidden", .flag = "--hidden", .doc = "hidden layer sizes, comma-separated (preset: 128,64)",
              .range = kAtLeastOne, .type_name = "N,N"},
    o.hidden);
  v(FieldInfo{.name = "activation", .flag = "--activation", .doc = "relu, tanh or sigmoid (preset: relu)"}, o.activation);
  v(FieldInfo{.name = "norm", .flag = "--norm", .doc = "normalization: none, batch or layer (preset: from --model)"}, o.norm);
  v(FieldInfo{.name = "norm_placement", .flag = "--norm-placement", .doc = "normalize after or before the activation (preset: after)"},
    o.placement);
  v(FieldInfo{.name = "init", .flag = "--init", .doc = "weights: glorot_uniform, he_normal, he_uniform, torch_default (preset: glorot_uniform)"},
    o.init);
  v(FieldInfo{.name = "weight_scale", .flag = "--weight-scale", .doc = "multiply the initial weights by this", .range = kPositive},
    o.weight_scale);
  v(FieldInfo{.name = "bn_momentum", .flag = "--bn-momentum", .doc = "batch-norm running-statistics momentum, in [0, 1]",
              .range = kBatchNormMomentum},
    o.bn_momentum);
  v(FieldInfo{.name = "norm_eps", .flag = "--bn-eps", .doc = "normalization epsilon", .range = kPositive}, o.norm_eps);
  v(FieldInfo{.name = "bn_ghost_batches", .flag = "--bn-ghost-batches",
              .doc = "batch norm: normalize each of G shares of a batch on its own (ghost batches: what G data-parallel "
                     "ranks with --bn-stats local do)",
              .range = kAtLeastOne, .type_name = "G"},
    o.bn_ghost_batches);
  v(FieldInfo{.name = "dropout", .flag = "--dropout",
              .doc = "dropout after each hidden block (after its norm): the share of values zeroed in training, in [0, 1) "
                     "(preset: 0, none)",
              .range = kUnitOpen},
    o.dropout);
}

std::vector<std::string> preset_names();
bool is_preset(const std::string& name);

// The preset `name` for samples of `sample_shape` ([784], or an image [28,28,1]) and `classes`
// classes, refined by `options`, validated. An MLP takes the sample flat (its input is the product
// of the shape, the values as they lie in memory); a CNN needs an image. UsageError for an unknown
// name ("unknown model 'x' (known: plain, batchnorm, …)"), a refinement out of range (naming the
// field and value), or a shape the model cannot take.
ModelSpec preset_spec(const std::string& name, const std::vector<int64_t>& sample_shape, int64_t classes,
                      const ModelOptions& options = {});
ModelSpec preset_spec(const std::string& name, int64_t inputs, int64_t classes, const ModelOptions& options = {});

}  // namespace bnlab

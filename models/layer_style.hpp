// What the model families (models/mlp.hpp, models/cnn.hpp) share beyond their sizes: the
// activation, which norm and where, the weights' initializer and scale, and the norm's momentum and
// epsilon — the refinements of ModelOptions other than `hidden`, written once.
#pragma once

#include <cstdint>
#include <vector>

#include "graph/initializer.hpp"
#include "models/model_spec.hpp"
#include "models/presets.hpp"
#include "ops/batch_norm.hpp"

namespace bnlab {

struct LayerStyle {
  Activation activation = Activation::relu;
  Norm norm = Norm::none;
  NormPlacement placement = NormPlacement::after_activation;
  Init::Kind init = Init::Kind::glorot_uniform;
  double weight_scale = 1.0;
  double bn_momentum = BatchNormOptions{}.momentum;
  double norm_eps = BatchNormOptions{}.eps;
  int64_t bn_ghost_batches = BatchNormOptions{}.ghost_batches;  // batch norm's ghost batches G
  double dropout = 0;  // rate of the dropout "drop<n>" closing each block; 0: no dropout layer

  // Takes every field `options` sets (not `hidden`: the sizes are the family's).
  void refine(const ModelOptions& options);
  // A dense or conv layer `linear` of this style (its init and weight scale set here), then
  // [norm "bn<n>"/"ln<n>" if before] → activation "act<n>" → [norm if after] → [dropout "drop<n>"
  // if dropout > 0]. What enters the
  // activation is probed under the linear layer's name. On an image (`image`), layer norm is group
  // norm with one group (over H, W and C).
  void append_block(std::vector<LayerSpec>& layers, LayerSpec linear, const std::string& n, bool image) const;
  // A dense layer of this style.
  LayerSpec dense(const std::string& name, int64_t units) const;
  // The recipe fields, in the metrics document's order: norm, norm_placement, activation, init,
  // weight_scale, bn_momentum, norm_eps, bn_ghost_batches only when it is not 1 and dropout only when
  // it is not 0 (so the recipes,
  // checkpoints and metrics documents of every model without ghost batches stay as they were).
  void append_recipe(std::vector<RecipeField>& recipe) const;
  friend bool operator==(const LayerStyle&, const LayerStyle&) = default;
};

}  // namespace bnlab

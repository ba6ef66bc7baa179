#include "models/layer_style.hpp"

namespace bnlab {

void LayerStyle::refine(const ModelOptions& o) {
  if (o.activation) activation = *o.activation;
  if (o.norm) norm = *o.norm;
  if (o.placement) placement = *o.placement;
  if (o.init) init = *o.init;
  if (o.weight_scale) weight_scale = *o.weight_scale;
  if (o.bn_momentum) bn_momentum = *o.bn_momentum;
  if (o.norm_eps) norm_eps = *o.norm_eps;
  if (o.bn_ghost_batches) bn_ghost_batches = *o.bn_ghost_batches;
  if (o.dropout) dropout = *o.dropout;
}

LayerSpec LayerStyle::dense(const std::string& name, int64_t units) const {
  LayerSpec l;
  l.kind = LayerKind::dense;
  l.name = name;
  l.units = units;
  l.init = init;
  l.weight_scale = weight_scale;
  return l;
}

void LayerStyle::append_block(std::vector<LayerSpec>& layers, LayerSpec linear, const std::string& n, bool image) const {
  auto norm_layer = [&](const std::string& probe) {
    LayerSpec l;
    if (norm == Norm::batch) {
      l.kind = LayerKind::batch_norm;
      l.name = "bn" + n;
      l.momentum = bn_momentum;
      l.ghost_batches = bn_ghost_batches;
    } else {
      l.kind = image ? LayerKind::group_norm : LayerKind::layer_norm;
      l.name = "ln" + n;
      l.groups = 1;
    }
    l.eps = norm_eps;
    l.probe = probe;
    return l;
  };
  const bool before = norm != Norm::none && placement == NormPlacement::before_activation;
  const bool after = norm != Norm::none && placement == NormPlacement::after_activation;
  linear.init = init;
  linear.weight_scale = weight_scale;
  // The pre-activation values: the linear layer's output, or the norm's before the activation.
  const std::string probe = linear.name;
  if (!before) linear.probe = probe;
  layers.push_back(linear);
  if (before) layers.push_back(norm_layer(probe));
  LayerSpec act;
  act.kind = LayerKind::activation;
  act.name = "act" + n;
  act.activation = activation;
  layers.push_back(act);
  if (after) layers.push_back(norm_layer(""));
  if (dropout > 0) {
    LayerSpec drop;
    drop.kind = LayerKind::dropout;
    drop.name = "drop" + n;
    drop.rate = dropout;
    layers.push_back(drop);
  }
}

void LayerStyle::append_recipe(std::vector<RecipeField>& recipe) const {
  recipe.push_back({"norm", std::string(to_string(norm))});
  recipe.push_back({"norm_placement", std::string(to_string(placement))});
  recipe.push_back({"activation", std::string(to_string(activation))});
  recipe.push_back({"init", std::string(to_string(init))});
  recipe.push_back({"weight_scale", weight_scale});
  recipe.push_back({"bn_momentum", bn_momentum});
  recipe.push_back({"norm_eps", norm_eps});
  if (bn_ghost_batches != 1) recipe.push_back({"bn_ghost_batches", bn_ghost_batches});
  if (dropout != 0) recipe.push_back({"dropout", dropout});
}

}  // namespace bnlab

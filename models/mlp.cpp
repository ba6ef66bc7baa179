#include "models/mlp.hpp"

#include "graph/errors.hpp"

namespace bnlab {

MlpSpec MlpSpec::preset(const std::string& name) {
  MlpSpec s;
  if (name == "plain") return s;
  if (name == "batchnorm") { s.norm = Norm::batch; return s; }
  if (name == "layernorm") { s.norm = Norm::layer; return s; }
  throw UsageError("unknown model '" + name + "' (known: plain, batchnorm, layernorm)");
}

std::string MlpSpec::sizes() const {
  std::string s = std::to_string(inputs);
  for (int64_t h : hidden) s += "-" + std::to_string(h);
  return s + "-" + std::to_string(classes);
}

int64_t MlpSpec::dense_parameters() const {
  auto too_many = [&] {
    return UsageError("model " + (hidden.size() <= 8 ? sizes() + " " : std::string()) + "has more than " +
                      std::to_string(max_parameters) + " dense parameters (bnlab's limit)");
  };
  int64_t total = 0, in = inputs;
  auto layer = [&](int64_t out) {
    int64_t weights = 0;
    if (__builtin_mul_overflow(in, out, &weights) || __builtin_add_overflow(total, weights, &total) ||
        __builtin_add_overflow(total, out, &total) || total > max_parameters)
      throw too_many();
    in = out;
  };
  for (int64_t h : hidden) layer(h);
  layer(classes);
  return total;
}

void MlpSpec::validate() const {
  const std::string max_size = std::to_string(max_layer_size);
  if (inputs < 1 || inputs > max_layer_size)
    throw UsageError("model input size must be in [1, " + max_size + "], got " + std::to_string(inputs));
  if (classes < 2 || classes > max_layer_size)
    throw UsageError("model classes must be in [2, " + max_size + "], got " + std::to_string(classes));
  if (hidden.size() > max_hidden_layers)
    throw UsageError("model has " + std::to_string(hidden.size()) + " hidden layers; bnlab supports at most " +
                     std::to_string(max_hidden_layers));
  for (size_t i = 0; i < hidden.size(); ++i)
    if (hidden[i] < 1 || hidden[i] > max_layer_size)
      throw UsageError("hidden layer " + std::to_string(i + 1) + " size must be in [1, " + max_size + "], got " +
                       std::to_string(hidden[i]));
  (void)dense_parameters();
  validate_fields(options());  // weight scale, momentum, eps: the ranges of ModelOptions' declarations
}

ModelSpec MlpSpec::model_spec() const {
  validate();
  ModelSpec m;
  m.input_shape = {inputs};
  m.classes = classes;
  auto norm_layer = [&](const std::string& n, const std::string& probe) {
    LayerSpec l;
    l.kind = norm == Norm::batch ? LayerKind::batch_norm : LayerKind::layer_norm;
    l.name = (norm == Norm::batch ? "bn" : "ln") + n;
    if (norm == Norm::batch) l.momentum = bn_momentum;
    l.eps = norm_eps;
    l.probe = probe;
    return l;
  };
  for (size_t i = 0; i < hidden.size(); ++i) {
    const std::string n = std::to_string(i + 1);
    const bool before = norm != Norm::none && placement == NormPlacement::before_activation;
    const bool after = norm != Norm::none && placement == NormPlacement::after_activation;
    LayerSpec fc;
    fc.kind = LayerKind::dense;
    fc.name = "fc" + n;
    fc.units = hidden[i];
    fc.init = init;
    fc.weight_scale = weight_scale;
    if (!before) fc.probe = "fc" + n;  // the pre-activation values: the dense output, or the norm's before the activation
    m.layers.push_back(fc);
    if (before) m.layers.push_back(norm_layer(n, "fc" + n));
    LayerSpec act;
    act.kind = LayerKind::activation;
    act.name = "act" + n;
    act.activation = activation;
    m.layers.push_back(act);
    if (after) m.layers.push_back(norm_layer(n, ""));
  }
  LayerSpec out;
  out.kind = LayerKind::dense;
  out.name = "out";
  out.units = classes;
  out.init = init;
  out.weight_scale = weight_scale;
  m.layers.push_back(out);
  // In the order of the metrics document's config block (METRICS.md).
  m.recipe = {{"inputs", inputs},
              {"hidden", hidden},
              {"classes", classes},
              {"norm", std::string(to_string(norm))},
              {"norm_placement", std::string(to_string(placement))},
              {"activation", std::string(to_string(activation))},
              {"init", std::string(to_string(init))},
              {"weight_scale", weight_scale},
              {"bn_momentum", bn_momentum},
              {"norm_eps", norm_eps}};
  return m;
}

ModelOptions MlpSpec::options() const {
  return {hidden, activation, norm, placement, init, weight_scale, bn_momentum, norm_eps};
}

MlpSpec MlpSpec::refined(const ModelOptions& o) const {
  MlpSpec s = *this;
  if (o.hidden) s.hidden = *o.hidden;
  if (o.activation) s.activation = *o.activation;
  if (o.norm) s.norm = *o.norm;
  if (o.placement) s.placement = *o.placement;
  if (o.init) s.init = *o.init;
  if (o.weight_scale) s.weight_scale = *o.weight_scale;
  if (o.bn_momentum) s.bn_momentum = *o.bn_momentum;
  if (o.norm_eps) s.norm_eps = *o.norm_eps;
  return s;
}

}  // namespace bnlab

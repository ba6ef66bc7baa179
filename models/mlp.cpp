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
  for (size_t i = 0; i < hidden.size(); ++i) {
    const std::string n = std::to_string(i + 1);
    append_block(m.layers, dense("fc" + n, hidden[i]), n, false);
  }
  m.layers.push_back(dense("out", classes));
  // In the order of the metrics document's config block (docs/metrics.md).
  m.recipe = {{"inputs", inputs}, {"hidden", hidden}, {"classes", classes}};
  append_recipe(m.recipe);
  return m;
}

ModelOptions MlpSpec::options() const {
  return {hidden, activation, norm, placement, init, weight_scale, bn_momentum, norm_eps, bn_ghost_batches, dropout};
}

MlpSpec MlpSpec::refined(const ModelOptions& o) const {
  MlpSpec s = *this;
  if (o.hidden) s.hidden = *o.hidden;
  s.refine(o);
  return s;
}

}  // namespace bnlab

#include "models/mlp.hpp"

#include "graph/errors.hpp"
#include "models/layers.hpp"
#include "ops/relu.hpp"
#include "ops/softmax_cross_entropy.hpp"
#include "ops/tanh.hpp"

namespace bnlab {

MlpSpec MlpSpec::preset(const std::string& name) {
  MlpSpec s;
  if (name == "plain") return s;
  if (name == "batchnorm") { s.norm = Norm::batch; return s; }
  if (name == "layernorm") { s.norm = Norm::layer; return s; }
  throw UsageError("unknown model '" + name + "' (known: plain, batchnorm, layernorm)");
}

std::vector<std::string> MlpSpec::preset_names() { return {"plain", "batchnorm", "layernorm"}; }

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
  if (!(weight_scale > 0)) throw UsageError("weight scale must be positive, got " + std::to_string(weight_scale));
  if (!(bn_momentum >= 0 && bn_momentum <= 1)) throw UsageError("batch-norm momentum must be in [0, 1], got " + std::to_string(bn_momentum));
  if (!(norm_eps > 0)) throw UsageError("norm eps must be positive, got " + std::to_string(norm_eps));
}

const char* to_string(Activation a) { return a == Activation::relu ? "relu" : "tanh"; }
const char* to_string(Norm n) {
  switch (n) {
    case Norm::none: return "none";
    case Norm::batch: return "batch";
    case Norm::layer: return "layer";
  }
  return "?";
}
const char* to_string(NormPlacement p) {
  return p == NormPlacement::after_activation ? "after_activation" : "before_activation";
}

Activation activation_from_string(const std::string& s) {
  if (s == "relu") return Activation::relu;
  if (s == "tanh") return Activation::tanh;
  throw UsageError("unknown activation '" + s + "' (known: relu, tanh)");
}
Norm norm_from_string(const std::string& s) {
  if (s == "none") return Norm::none;
  if (s == "batch") return Norm::batch;
  if (s == "layer") return Norm::layer;
  throw UsageError("unknown norm '" + s + "' (known: none, batch, layer)");
}
NormPlacement placement_from_string(const std::string& s) {
  if (s == "after_activation" || s == "after") return NormPlacement::after_activation;
  if (s == "before_activation" || s == "before") return NormPlacement::before_activation;
  throw UsageError("unknown norm placement '" + s + "' (known: after_activation, before_activation)");
}

Mlp build_mlp(const MlpSpec& spec) {
  spec.validate();  // also bounds the sizes: classes fits the int32 of labels()
  Mlp m;
  m.spec = spec;
  Graph& g = m.graph;
  Var h = g.input("x", {batch, spec.inputs});
  const Var y = g.labels("y", static_cast<int32_t>(spec.classes));
  const DenseOptions dense_options{spec.init, spec.weight_scale, true};
  auto normalize = [&](Var v, size_t layer) {
    const std::string n = std::to_string(layer);
    switch (spec.norm) {
      case Norm::none: return v;
      case Norm::batch: return batch_norm_layer(v, "bn" + n, {spec.bn_momentum, spec.norm_eps});
      case Norm::layer: return layer_norm_layer(v, "ln" + n, spec.norm_eps);
    }
    return v;
  };
  for (size_t i = 0; i < spec.hidden.size(); ++i) {
    const size_t layer = i + 1;
    h = dense(h, spec.hidden[i], "fc" + std::to_string(layer), dense_options);
    if (spec.placement == NormPlacement::before_activation) h = normalize(h, layer);
    m.pre_activations.push_back(h.id);
    const std::string act = "act" + std::to_string(layer);
    h = spec.activation == Activation::relu ? relu(h, act) : tanh(h, act);
    if (spec.placement == NormPlacement::after_activation) h = normalize(h, layer);
  }
  const Var logits = dense(h, spec.classes, "out", dense_options);
  const Var loss = softmax_cross_entropy(logits, y, "loss");
  m.x = g.find("x");
  m.y = y.id;
  m.logits = logits.id;
  m.loss = loss.id;
  return m;
}

}  // namespace bnlab

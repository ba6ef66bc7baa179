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

void MlpSpec::validate() const {
  if (inputs < 1) throw UsageError("model input size must be positive, got " + std::to_string(inputs));
  if (classes < 2) throw UsageError("model needs at least 2 classes, got " + std::to_string(classes));
  for (int64_t h : hidden)
    if (h < 1) throw UsageError("hidden layer sizes must be positive, got " + std::to_string(h));
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
  spec.validate();
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

#include "models/model_spec.hpp"

#include <set>
#include <sstream>

#include "graph/errors.hpp"

namespace bnlab {

const char* to_string(LayerKind k) {
  switch (k) {
    case LayerKind::dense: return "dense";
    case LayerKind::batch_norm: return "batch_norm";
    case LayerKind::layer_norm: return "layer_norm";
    case LayerKind::activation: return "activation";
  }
  return "?";
}

const char* to_string(Activation a) {
  switch (a) {
    case Activation::relu: return "relu";
    case Activation::tanh: return "tanh";
    case Activation::sigmoid: return "sigmoid";
  }
  return "?";
}

LayerKind layer_kind_from_string(const std::string& s) {
  for (LayerKind k : {LayerKind::dense, LayerKind::batch_norm, LayerKind::layer_norm, LayerKind::activation})
    if (s == to_string(k)) return k;
  throw UsageError("unknown layer kind '" + s + "' (known: dense, batch_norm, layer_norm, activation)");
}

Activation activation_from_string(const std::string& s) {
  if (s == "relu") return Activation::relu;
  if (s == "tanh") return Activation::tanh;
  if (s == "sigmoid") return Activation::sigmoid;
  throw UsageError("unknown activation '" + s + "' (known: relu, tanh, sigmoid)");
}

int64_t ModelSpec::input_features() const {
  int64_t n = 1;
  for (int64_t d : input_shape) n *= d;
  return n;
}

std::string ModelSpec::describe() const {
  std::string s = std::to_string(input_features());
  for (const LayerSpec& l : layers)
    if (l.kind == LayerKind::dense) s += "-" + std::to_string(l.units);
  return s;
}

bool ModelSpec::has(LayerKind kind) const {
  for (const LayerSpec& l : layers)
    if (l.kind == kind) return true;
  return false;
}

const RecipeField::Value* ModelSpec::recipe_value(const std::string& name) const {
  for (const RecipeField& f : recipe)
    if (f.name == name) return &f.value;
  return nullptr;
}

std::string ModelSpec::recipe_text(const std::string& name) const {
  const RecipeField::Value* v = recipe_value(name);
  if (!v) return "";
  struct Text {
    std::string operator()(int64_t x) const { return std::to_string(x); }
    std::string operator()(double x) const {
      std::ostringstream s;
      s << x;
      return s.str();
    }
    std::string operator()(const std::string& x) const { return x; }
    std::string operator()(const std::vector<int64_t>& x) const {
      std::string s;
      for (size_t i = 0; i < x.size(); ++i) s += (i ? "," : "") + std::to_string(x[i]);
      return s;
    }
  };
  return std::visit(Text{}, *v);
}

void ModelSpec::validate() const {
  const std::string range = "[1, " + std::to_string(max_size) + "]";
  if (input_shape.empty() || input_shape.size() > 3)
    throw UsageError("model input shape must have 1 to 3 dimensions, got " + std::to_string(input_shape.size()));
  int64_t features = 1;
  for (int64_t d : input_shape) {
    if (d < 1 || d > max_size) throw UsageError("model input dimension must be in " + range + ", got " + std::to_string(d));
    if (__builtin_mul_overflow(features, d, &features) || features > max_size)
      throw UsageError("model input has more than " + std::to_string(max_size) + " features");
  }
  if (classes < 2 || classes > max_size)
    throw UsageError("model classes must be in [2, " + std::to_string(max_size) + "], got " + std::to_string(classes));
  if (layers.size() > max_layers)
    throw UsageError("model has " + std::to_string(layers.size()) + " layers; bnlab supports at most " + std::to_string(max_layers));
  if (layers.empty() || layers.back().kind != LayerKind::dense || layers.back().units != classes)
    throw UsageError("the model's last layer must be a dense layer with " + std::to_string(classes) + " units (the logits)");

  std::set<std::string> names;
  int64_t width = features, parameters = 0;
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerSpec& l = layers[i];
    const std::string where = "layer " + std::to_string(i + 1) + " (" + to_string(l.kind) + " '" + l.name + "')";
    if (l.name.empty()) throw UsageError("layer " + std::to_string(i + 1) + " (" + to_string(l.kind) + ") has no name");
    if (!names.insert(l.name).second) throw UsageError(where + ": the name is used by an earlier layer");
    switch (l.kind) {
      case LayerKind::dense: {
        if (l.units < 1 || l.units > max_size) throw UsageError(where + ": units must be in " + range + ", got " + std::to_string(l.units));
        if (!(l.weight_scale > 0)) throw UsageError(where + ": weight scale must be positive, got " + std::to_string(l.weight_scale));
        if (l.init == Init::Kind::constant || l.init == Init::Kind::normal)
          throw UsageError(where + ": initializer must be glorot_uniform, he_normal, he_uniform or torch_default");
        int64_t weights = 0;
        // Checked arithmetic: no overflow whatever the sizes.
        if (__builtin_mul_overflow(width, l.units, &weights) || __builtin_add_overflow(parameters, weights, &parameters) ||
            __builtin_add_overflow(parameters, l.bias ? l.units : 0, &parameters) || parameters > max_parameters)
          throw UsageError("model " + (layers.size() <= 8 ? describe() + " " : std::string()) + "has more than " +
                           std::to_string(max_parameters) + " dense parameters (bnlab's limit)");
        width = l.units;
        break;
      }
      case LayerKind::batch_norm:
        if (!kBatchNormMomentum.contains(l.momentum))
          throw UsageError(where + ": momentum must be " + kBatchNormMomentum.text() + ", got " + field_text(l.momentum));
        [[fallthrough]];
      case LayerKind::layer_norm:
        if (!(l.eps > 0)) throw UsageError(where + ": eps must be positive, got " + std::to_string(l.eps));
        break;
      case LayerKind::activation: break;
    }
  }
}

}  // namespace bnlab

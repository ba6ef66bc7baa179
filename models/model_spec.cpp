#include "models/model_spec.hpp"

#include <set>
#include <sstream>

#include "graph/errors.hpp"
#include "graph/suggest.hpp"

namespace bnlab {

const char* to_string(LayerKind k) {
  switch (k) {
    case LayerKind::dense: return "dense";
    case LayerKind::batch_norm: return "batch_norm";
    case LayerKind::layer_norm: return "layer_norm";
    case LayerKind::activation: return "activation";
    case LayerKind::conv2d: return "conv2d";
    case LayerKind::max_pool2d: return "max_pool2d";
    case LayerKind::avg_pool2d: return "avg_pool2d";
    case LayerKind::global_avg_pool: return "global_avg_pool";
    case LayerKind::flatten: return "flatten";
    case LayerKind::group_norm: return "group_norm";
    case LayerKind::dropout: return "dropout";
  }
  return "?";
}

std::vector<LayerKind> layer_kinds() {
  return {LayerKind::dense,      LayerKind::conv2d,          LayerKind::max_pool2d, LayerKind::avg_pool2d,
          LayerKind::global_avg_pool, LayerKind::flatten,    LayerKind::batch_norm, LayerKind::layer_norm,
          LayerKind::group_norm, LayerKind::activation,      LayerKind::dropout};
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
  std::vector<std::string> known;
  for (LayerKind k : layer_kinds()) {
    if (s == to_string(k)) return k;
    known.push_back(to_string(k));
  }
  throw UsageError(unknown_name("layer kind", s, known));
}

Activation activation_from_string(const std::string& s) {
  if (s == "relu") return Activation::relu;
  if (s == "tanh") return Activation::tanh;
  if (s == "sigmoid") return Activation::sigmoid;
  throw UsageError(unknown_name("activation", s, {"relu", "tanh", "sigmoid"}));
}

int64_t ModelSpec::input_features() const {
  int64_t n = 1;
  for (int64_t d : input_shape) n *= d;
  return n;
}

std::string ModelSpec::describe() const {
  std::string s;
  for (size_t i = 0; i < input_shape.size(); ++i) s += (i ? "x" : "") + std::to_string(input_shape[i]);
  if (input_shape.size() > 1 && !has(LayerKind::conv2d) && !has(LayerKind::max_pool2d) && !has(LayerKind::avg_pool2d))
    s = std::to_string(input_features());  // an MLP on images: its input is the flattened image
  for (const LayerSpec& l : layers) {
    if (l.kind == LayerKind::dense) s += "-" + std::to_string(l.units);
    if (l.kind == LayerKind::conv2d) s += "-c" + std::to_string(l.filters);
    if (l.kind == LayerKind::max_pool2d || l.kind == LayerKind::avg_pool2d) s += "-p" + std::to_string(l.window[0]);
  }
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

namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string size2_text(const Size2& v) { return std::to_string(v[0]) + "x" + std::to_string(v[1]); }

// "layer 3 (dense 'fc1')"
std::string where(size_t i, const LayerSpec& l) {
  return "layer " + std::to_string(i + 1) + " (" + to_string(l.kind) + " '" + l.name + "')";
}

// What one layer makes of its input: the output shape and the layer's parameter count. Throws
// UsageError naming the layer when it does not fit the input or an attribute is out of range.
struct LayerResult {
  std::vector<int64_t> shape;
  int64_t parameters = 0;
};

LayerResult apply_layer(size_t i, const LayerSpec& l, const std::vector<int64_t>& in) {
  const std::string at = where(i, l);
  const int64_t max_size = ModelSpec::max_size;
  const std::string range = "[1, " + std::to_string(max_size) + "]";
  auto fail = [&](const std::string& what) { return UsageError(at + ": " + what); };
  auto need_image = [&](const char* what) {
    if (in.size() != 3)
      throw fail(std::string(what) + " takes an image [H,W,C], got " + shape_text(in) +
                 (in.size() == 1 ? "; a flat input has no height and width" : ""));
  };
  auto check_weights = [&] {
    if (!(l.weight_scale > 0)) throw fail("weight scale must be positive, got " + std::to_string(l.weight_scale));
    if (l.init == Init::Kind::constant || l.init == Init::Kind::normal)
      throw fail("initializer must be glorot_uniform, he_normal, he_uniform or torch_default");
  };
  auto check_sizes = [&](const char* what, const Size2& v, int64_t lo) {
    for (int64_t d : v)
      if (d < lo || d > max_size)
        throw fail(std::string(what) + " must be in [" + std::to_string(lo) + ", " + std::to_string(max_size) + "], got " +
                   size2_text(v));
  };
  // Saturating at max_parameters + 1: no overflow whatever the sizes, and the total is checked by
  // parameter_count().
  auto product = [](std::initializer_list<int64_t> factors) {
    constexpr int64_t cap = ModelSpec::max_parameters + 1;
    int64_t p = 1;
    for (int64_t f : factors)
      if (__builtin_mul_overflow(p, f, &p) || p > cap) return cap;
    return p;
  };
  auto out_size = [](int64_t in, int64_t k, int64_t pad, int64_t stride) { return (in + 2 * pad - k) / stride + 1; };
  LayerResult r{in, 0};
  switch (l.kind) {
    case LayerKind::dense:
      if (in.size() != 1)
        throw fail("takes [F], got " + shape_text(in) + "; add a flatten (or global_avg_pool) layer before it");
      if (l.units < 1 || l.units > max_size) throw fail("units must be in " + range + ", got " + std::to_string(l.units));
      check_weights();
      r.shape = {l.units};
      r.parameters = product({in[0], l.units}) + (l.bias ? l.units : 0);
      break;
    case LayerKind::conv2d: {
      need_image("a convolution");
      if (l.filters < 1 || l.filters > max_size) throw fail("filters must be in " + range + ", got " + std::to_string(l.filters));
      check_sizes("kernel", l.kernel, 1);
      check_sizes("stride", l.stride, 1);
      check_sizes("padding", l.padding, 0);
      check_weights();
      for (int d = 0; d < 2; ++d)
        if (l.kernel[static_cast<size_t>(d)] > in[static_cast<size_t>(d)] + 2 * l.padding[static_cast<size_t>(d)])
          throw fail("kernel " + size2_text(l.kernel) + " is larger than the input " + shape_text(in) + " with padding " +
                     size2_text(l.padding));
      r.shape = {out_size(in[0], l.kernel[0], l.padding[0], l.stride[0]), out_size(in[1], l.kernel[1], l.padding[1], l.stride[1]),
                 l.filters};
      r.parameters = product({l.kernel[0], l.kernel[1], in[2], l.filters}) + (l.bias ? l.filters : 0);
      break;
    }
    case LayerKind::max_pool2d:
    case LayerKind::avg_pool2d:
      need_image("pooling");
      check_sizes("window", l.window, 1);
      check_sizes("stride", l.stride, 1);
      if (l.window[0] > in[0] || l.window[1] > in[1])
        throw fail("window " + size2_text(l.window) + " is larger than the input " + shape_text(in));
      r.shape = {out_size(in[0], l.window[0], 0, l.stride[0]), out_size(in[1], l.window[1], 0, l.stride[1]), in[2]};
      break;
    case LayerKind::global_avg_pool:
      need_image("global average pooling");
      r.shape = {in[2]};
      break;
    case LayerKind::flatten: {
      int64_t n = 1;
      for (int64_t d : in) n = product({n, d});
      r.shape = {n};
      break;
    }
    case LayerKind::batch_norm:
      if (!kBatchNormMomentum.contains(l.momentum))
        throw fail("momentum must be " + kBatchNormMomentum.text() + ", got " + field_text(l.momentum));
      if (in.size() != 1 && in.size() != 3) throw fail("takes [F] or an image [H,W,C], got " + shape_text(in));
      if (!(l.eps > 0)) throw fail("eps must be positive, got " + std::to_string(l.eps));
      if (l.ghost_batches < 1 || l.ghost_batches > max_size)
        throw fail("ghost_batches must be in " + range + ", got " + std::to_string(l.ghost_batches));
      r.parameters = 2 * in.back();
      break;
    case LayerKind::layer_norm:
      if (in.size() != 1)
        throw fail("takes [F], got " + shape_text(in) + "; for an image use group_norm with groups 1 (layer norm over H, W and C)");
      if (!(l.eps > 0)) throw fail("eps must be positive, got " + std::to_string(l.eps));
      r.parameters = 2 * in.back();
      break;
    case LayerKind::group_norm:
      if (in.size() != 1 && in.size() != 3) throw fail("takes [C] or an image [H,W,C], got " + shape_text(in));
      if (!(l.eps > 0)) throw fail("eps must be positive, got " + std::to_string(l.eps));
      if (l.groups < 1 || in.back() % l.groups != 0)
        throw fail("groups must divide the " + std::to_string(in.back()) + " channels of " + shape_text(in) + ", got " +
                   std::to_string(l.groups));
      r.parameters = 2 * in.back();
      break;
    case LayerKind::dropout:
      if (!(l.rate >= 0 && l.rate < 1)) throw fail("rate must be in [0, 1), got " + field_text(l.rate));
      break;
    case LayerKind::activation: break;
  }
  for (int64_t d : r.shape)
    if (d < 1) throw fail("leaves nothing of the input " + shape_text(in) + " (output " + shape_text(r.shape) + ")");
  return r;
}

}  // namespace

std::vector<std::vector<int64_t>> ModelSpec::layer_shapes() const {
  std::vector<std::vector<int64_t>> shapes;
  std::vector<int64_t> shape = input_shape;
  for (size_t i = 0; i < layers.size(); ++i) {
    shape = apply_layer(i, layers[i], shape).shape;
    shapes.push_back(shape);
  }
  return shapes;
}

int64_t ModelSpec::parameter_count() const {
  int64_t total = 0;
  std::vector<int64_t> shape = input_shape;
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerResult r = apply_layer(i, layers[i], shape);
    if (__builtin_add_overflow(total, r.parameters, &total) || total > max_parameters)
      throw UsageError("model " + (layers.size() <= 16 ? describe() + " " : std::string()) + "has more than " +
                       std::to_string(max_parameters) + " parameters (bnlab's limit)");
    shape = r.shape;
  }
  return total;
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
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerSpec& l = layers[i];
    if (l.name.empty()) throw UsageError("layer " + std::to_string(i + 1) + " (" + to_string(l.kind) + ") has no name");
    if (!names.insert(l.name).second) throw UsageError(where(i, l) + ": the name is used by an earlier layer");
  }
  (void)parameter_count();  // every layer fits its input; the sum is bounded
}

}  // namespace bnlab

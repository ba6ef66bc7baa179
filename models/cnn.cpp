#include "models/cnn.hpp"

#include "graph/errors.hpp"

namespace bnlab {

CnnSpec CnnSpec::preset(const std::string& name) {
  CnnSpec s;
  if (name == "cnn-plain") return s;
  if (name == "cnn-batchnorm") { s.norm = Norm::batch; return s; }
  throw UsageError("unknown model '" + name + "' (known CNNs: cnn-plain, cnn-batchnorm)");
}

bool CnnSpec::is_preset(const std::string& name) { return name == "cnn-plain" || name == "cnn-batchnorm"; }

ModelSpec CnnSpec::model_spec() const {
  ModelSpec m;
  m.input_shape = input_shape;
  m.classes = classes;
  if (input_shape.size() != 3)
    throw UsageError("a CNN takes images [H,W,C], but the input is " + std::to_string(input_shape.size()) +
                     "-dimensional (flat data such as CSV rows has no height and width; use an MLP or a model file)");
  if (filters.empty()) throw UsageError("a CNN needs at least one conv block");
  auto norm_layer = [&](const std::string& n, bool image, const std::string& probe) {
    LayerSpec l;
    if (norm == Norm::batch) {
      l.kind = LayerKind::batch_norm;
      l.name = "bn" + n;
      l.momentum = bn_momentum;
    } else {
      // Layer norm of an image: group norm with one group (over H, W and C); of a vector: layer norm.
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
  auto block = [&](LayerSpec linear, const std::string& n, bool image) {
    if (!before) linear.probe = linear.name;  // the pre-activation values: the linear output, or the norm's
    const std::string probe = linear.name;
    m.layers.push_back(linear);
    if (before) m.layers.push_back(norm_layer(n, image, probe));
    LayerSpec act;
    act.kind = LayerKind::activation;
    act.name = "act" + n;
    act.activation = activation;
    m.layers.push_back(act);
    if (after) m.layers.push_back(norm_layer(n, image, ""));
  };
  size_t i = 0;
  for (; i < filters.size(); ++i) {
    const std::string n = std::to_string(i + 1);
    LayerSpec conv;
    conv.kind = LayerKind::conv2d;
    conv.name = "conv" + n;
    conv.filters = filters[i];
    conv.kernel = {3, 3};
    conv.padding = {1, 1};
    conv.init = init;
    conv.weight_scale = weight_scale;
    block(conv, n, true);
    LayerSpec pool;
    pool.kind = LayerKind::max_pool2d;
    pool.name = "pool" + n;
    pool.window = {2, 2};
    pool.stride = {2, 2};
    m.layers.push_back(pool);
  }
  LayerSpec flat;
  flat.kind = LayerKind::flatten;
  flat.name = "flatten";
  m.layers.push_back(flat);
  for (int64_t units : hidden) {
    const std::string n = std::to_string(++i);
    LayerSpec fc;
    fc.kind = LayerKind::dense;
    fc.name = "fc" + n;
    fc.units = units;
    fc.init = init;
    fc.weight_scale = weight_scale;
    block(fc, n, false);
  }
  LayerSpec out;
  out.kind = LayerKind::dense;
  out.name = "out";
  out.units = classes;
  out.init = init;
  out.weight_scale = weight_scale;
  m.layers.push_back(out);
  int64_t inputs = 1;
  for (int64_t d : input_shape) inputs *= d;
  m.recipe = {{"inputs", inputs},
              {"input_shape", input_shape},
              {"filters", filters},
              {"hidden", hidden},
              {"classes", classes},
              {"norm", std::string(to_string(norm))},
              {"norm_placement", std::string(to_string(placement))},
              {"activation", std::string(to_string(activation))},
              {"init", std::string(to_string(init))},
              {"weight_scale", weight_scale},
              {"bn_momentum", bn_momentum},
              {"norm_eps", norm_eps}};
  m.validate();
  return m;
}

CnnSpec CnnSpec::refined(const ModelOptions& o) const {
  CnnSpec s = *this;
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

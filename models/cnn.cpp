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
  size_t i = 0;
  for (; i < filters.size(); ++i) {
    const std::string n = std::to_string(i + 1);
    LayerSpec conv;
    conv.kind = LayerKind::conv2d;
    conv.name = "conv" + n;
    conv.filters = filters[i];
    conv.kernel = {3, 3};
    conv.padding = {1, 1};
    append_block(m.layers, conv, n, true);
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
    append_block(m.layers, dense("fc" + n, units), n, false);
  }
  m.layers.push_back(dense("out", classes));
  int64_t inputs = 1;
  for (int64_t d : input_shape) inputs *= d;
  m.recipe = {{"inputs", inputs}, {"input_shape", input_shape}, {"filters", filters}, {"hidden", hidden}, {"classes", classes}};
  append_recipe(m.recipe);
  m.validate();
  return m;
}

CnnSpec CnnSpec::refined(const ModelOptions& o) const {
  CnnSpec s = *this;
  if (o.hidden) s.hidden = *o.hidden;
  s.refine(o);
  return s;
}

}  // namespace bnlab

#include "models/model.hpp"

#include "graph/errors.hpp"
#include "models/layers.hpp"
#include "ops/relu.hpp"
#include "ops/sigmoid.hpp"
#include "ops/softmax_cross_entropy.hpp"
#include "ops/tanh.hpp"

namespace bnlab {

namespace {

Var add_layer(Var h, const LayerSpec& l) {
  switch (l.kind) {
    case LayerKind::dense: return dense(h, l.units, l.name, {l.init, l.weight_scale, l.bias});
    case LayerKind::batch_norm: return batch_norm_layer(h, l.name, {l.momentum, l.eps});
    case LayerKind::layer_norm: return layer_norm_layer(h, l.name, l.eps);
    case LayerKind::activation:
      switch (l.activation) {
        case Activation::relu: return relu(h, l.name);
        case Activation::tanh: return tanh(h, l.name);
        case Activation::sigmoid: return sigmoid(h, l.name);
      }
      return h;
    case LayerKind::conv2d:
    case LayerKind::max_pool2d:
    case LayerKind::avg_pool2d:
    case LayerKind::global_avg_pool:
    case LayerKind::flatten:
    case LayerKind::group_norm:
    case LayerKind::dropout: throw UsageError(std::string("INTEGRATION: ") + to_string(l.kind));
  }
  return h;
}

}  // namespace

Model build_model(const ModelSpec& spec) {
  spec.validate();  // also bounds the sizes: classes fits the int32 of labels()
  Model m;
  m.spec = spec;
  Graph& g = m.graph;
  std::vector<int64_t> dims = {batch};
  dims.insert(dims.end(), spec.input_shape.begin(), spec.input_shape.end());
  const Var x = g.input("x", Shape(dims));  // [B,F] or an image [B,H,W,C]
  Var h = x;
  const Var y = g.labels("y", static_cast<int32_t>(spec.classes));
  for (const LayerSpec& l : spec.layers) {
    h = add_layer(h, l);
    if (!l.probe.empty()) m.probes.push_back({l.probe, h.id});
  }
  const Var loss = softmax_cross_entropy(h, y, "loss");
  m.input = x.id;
  m.labels = y.id;
  m.logits = h.id;
  m.loss = loss.id;
  return m;
}

}  // namespace bnlab

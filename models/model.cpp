#include "models/model.hpp"

#include "models/layers.hpp"
#include "ops/avg_pool2d.hpp"
#include "ops/dropout.hpp"
#include "ops/global_avg_pool.hpp"
#include "ops/max_pool2d.hpp"
#include "ops/reshape.hpp"
#include "ops/relu.hpp"
#include "ops/sigmoid.hpp"
#include "ops/softmax_cross_entropy.hpp"
#include "ops/tanh.hpp"

namespace bnlab {

namespace {

Var add_layer(Var h, const LayerSpec& l) {
  switch (l.kind) {
    case LayerKind::dense: return dense(h, l.units, l.name, {l.init, l.weight_scale, l.bias});
    case LayerKind::batch_norm: return batch_norm_layer(h, l.name, {l.momentum, l.eps, l.ghost_batches});
    case LayerKind::layer_norm: return layer_norm_layer(h, l.name, l.eps);
    case LayerKind::activation:
      switch (l.activation) {
        case Activation::relu: return relu(h, l.name);
        case Activation::tanh: return tanh(h, l.name);
        case Activation::sigmoid: return sigmoid(h, l.name);
      }
      return h;
    case LayerKind::conv2d:
      return conv2d_layer(h,
                          {.filters = l.filters, .kernel_h = l.kernel[0], .kernel_w = l.kernel[1], .stride_h = l.stride[0],
                           .stride_w = l.stride[1], .pad_h = l.padding[0], .pad_w = l.padding[1]},
                          l.name, {l.init, l.weight_scale, l.bias});
    case LayerKind::max_pool2d:
    case LayerKind::avg_pool2d: {
      const Pool2dOptions o{.window_h = l.window[0], .window_w = l.window[1], .stride_h = l.stride[0], .stride_w = l.stride[1]};
      return l.kind == LayerKind::max_pool2d ? max_pool2d(h, o, l.name) : avg_pool2d(h, o, l.name);
    }
    case LayerKind::global_avg_pool: return global_avg_pool(h, l.name);
    case LayerKind::flatten: return flatten(h, l.name);
    case LayerKind::group_norm: return group_norm_layer(h, l.groups, l.name, l.eps);
    case LayerKind::dropout: return dropout(h, l.rate, l.name);
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

#include "models/layers.hpp"

#include "graph/errors.hpp"
#include "ops/bias_add.hpp"
#include "ops/conv2d.hpp"
#include "ops/group_norm.hpp"
#include "ops/layer_norm.hpp"
#include "ops/matmul.hpp"

namespace bnlab {

namespace {

// A weight's initializer from its fans (dense: in, units; conv: kh·kw·C, kh·kw·filters).
Init weight_init(const DenseOptions& options, int64_t fan_in, int64_t fan_out, const std::string& what) {
  switch (options.init) {
    case Init::Kind::glorot_uniform: return Init::glorot_uniform(fan_in, fan_out).scaled(options.weight_scale);
    case Init::Kind::he_normal: return Init::he_normal(fan_in).scaled(options.weight_scale);
    case Init::Kind::he_uniform: return Init::he_uniform(fan_in).scaled(options.weight_scale);
    case Init::Kind::torch_default: return Init::torch_default(fan_in).scaled(options.weight_scale);
    case Init::Kind::constant:
    case Init::Kind::normal: break;
  }
  throw UsageError(what + ": initializer must be glorot_uniform, he_normal, he_uniform or torch_default");
}

}  // namespace

Var dense(Var x, int64_t units, const std::string& name, DenseOptions options) {
  Graph& g = *x.graph;
  if (x.shape().rank() != 2) throw ShapeError("dense '" + name + "': input must be [B,F], got " + x.shape().to_string());
  const int64_t in = x.shape()[1];
  auto weight = g.parameter(name + ".weight", {in, units}, weight_init(options, in, units, "dense '" + name + "'"));
  auto h = matmul(x, weight, name + ".matmul");  // [B,in]·[in,units] → [B,units]
  if (!options.bias) return h;
  const Init b = options.init == Init::Kind::torch_default ? Init::torch_default(in) : Init::zeros();
  return bias_add(h, g.parameter(name + ".bias", {units}, b), name);
}

Var conv2d_layer(Var x, const Conv2dLayer& c, const std::string& name, DenseOptions options) {
  Graph& g = *x.graph;
  if (x.shape().rank() != 4) throw ShapeError("conv2d '" + name + "': input must be [B,H,W,C], got " + x.shape().to_string());
  const int64_t channels = x.shape()[3], receptive = c.kernel_h * c.kernel_w;
  auto weight = g.parameter(name + ".weight", {c.kernel_h, c.kernel_w, channels, c.filters},
                            weight_init(options, receptive * channels, receptive * c.filters, "conv2d '" + name + "'"));
  const Conv2dOptions o{.stride_h = c.stride_h, .stride_w = c.stride_w, .pad_h = c.pad_h, .pad_w = c.pad_w};
  if (!options.bias) return conv2d(x, weight, name, o);
  // The bias is created after the weight (the initial values follow the creation order) and added
  // by the conv itself, to each output tile while it is in cache.
  const Init b = options.init == Init::Kind::torch_default ? Init::torch_default(receptive * channels) : Init::zeros();
  return conv2d(x, weight, g.parameter(name + ".bias", {c.filters}, b), name, o);
}

Var batch_norm_layer(Var x, const std::string& name, BatchNormOptions options) {
  const int64_t f = x.shape().rank() > 0 ? x.shape()[x.shape().rank() - 1] : 0;  // F of [B,F], C of [B,H,W,C]
  auto gamma = x.graph->parameter(name + ".gamma", {f}, Init::constant(1.0));
  auto beta = x.graph->parameter(name + ".beta", {f}, Init::zeros());
  return batch_norm(x, gamma, beta, name, options);
}

Var layer_norm_layer(Var x, const std::string& name, double eps) {
  const int64_t f = x.shape()[1];
  auto gamma = x.graph->parameter(name + ".gamma", {f}, Init::constant(1.0));
  auto beta = x.graph->parameter(name + ".beta", {f}, Init::zeros());
  return layer_norm(x, gamma, beta, name, eps);
}

Var group_norm_layer(Var x, int64_t groups, const std::string& name, double eps) {
  const int64_t c = x.shape().rank() > 0 ? x.shape()[x.shape().rank() - 1] : 0;  // the channels
  auto gamma = x.graph->parameter(name + ".gamma", {c}, Init::constant(1.0));
  auto beta = x.graph->parameter(name + ".beta", {c}, Init::zeros());
  return group_norm(x, gamma, beta, groups, name, eps);
}

}  // namespace bnlab

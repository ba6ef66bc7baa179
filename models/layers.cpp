#include "models/layers.hpp"

#include "graph/errors.hpp"
#include "ops/bias_add.hpp"
#include "ops/group_norm.hpp"
#include "ops/layer_norm.hpp"
#include "ops/matmul.hpp"

namespace bnlab {

Var dense(Var x, int64_t units, const std::string& name, DenseOptions options) {
  Graph& g = *x.graph;
  if (x.shape().rank() != 2) throw ShapeError("dense '" + name + "': input must be [B,F], got " + x.shape().to_string());
  const int64_t in = x.shape()[1];
  Init w;
  switch (options.init) {
    case Init::Kind::glorot_uniform: w = Init::glorot_uniform(in, units); break;
    case Init::Kind::he_normal: w = Init::he_normal(in); break;
    case Init::Kind::he_uniform: w = Init::he_uniform(in); break;
    case Init::Kind::torch_default: w = Init::torch_default(in); break;
    case Init::Kind::constant:
    case Init::Kind::normal: throw UsageError("dense '" + name + "': initializer must be glorot_uniform, he_normal, he_uniform or torch_default");
  }
  auto weight = g.parameter(name + ".weight", {in, units}, w.scaled(options.weight_scale));
  auto h = matmul(x, weight, name + ".matmul");  // [B,in]·[in,units] → [B,units]
  if (!options.bias) return h;
  const Init b = options.init == Init::Kind::torch_default ? Init::torch_default(in) : Init::zeros();
  return bias_add(h, g.parameter(name + ".bias", {units}, b), name);
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

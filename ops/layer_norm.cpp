#include "ops/layer_norm.hpp"

#include <cmath>

#include "graph/errors.hpp"

namespace bnlab {
namespace {

constexpr AttrDecl kAttrs[] = {{"eps", 1e-5}};
constexpr TensorDecl kSaved[] = {
    {"x_hat", [](const ShapeContext& c) { return c.in[0]; }},                 // [B,F]
    {"inv_std", [](const ShapeContext& c) { return Shape{c.in[0][0], 1}; }},  // [B,1]
};
constexpr int eps = index_of(kAttrs, "eps");
constexpr int x_hat = index_of(kSaved, "x_hat"), inv_std = index_of(kSaved, "inv_std");

Shape infer(const ShapeContext& c) {
  const Shape& x = c.in[0];
  if (x.rank() != 2) throw ShapeError("input must be [B,F], got " + x.to_string());
  for (int i = 1; i <= 2; ++i) {
    const Shape& p = c.in[static_cast<size_t>(i)];
    if (p.rank() != 1 || p.has_batch() || p[0] != x[1])
      throw ShapeError(std::string(i == 1 ? "gamma" : "beta") + " must be [" + std::to_string(x[1]) + "] for input " +
                       x.to_string() + ", got " + p.to_string());
  }
  if (!(c.attrs[eps] > 0)) throw ShapeError("eps must be positive, got " + std::to_string(c.attrs[eps]));
  return x;
}

template <class T>
void forward(const ForwardArgs<T>& a) {
  const auto x = a.in[0].mat();
  const auto gamma = a.in[1].row().array();
  const auto beta = a.in[2].row().array();
  auto xh = a.saved[x_hat].mat();
  T* s = a.saved[inv_std].data;
  auto out = a.out.mat();
  const T epsilon = static_cast<T>(a.attrs[eps]);
  const T inv_f = T(1) / static_cast<T>(x.cols());
  for (int64_t r = 0; r < x.rows(); ++r) {
    const T mean = x.row(r).sum() * inv_f;
    const T var = (x.row(r).array() - mean).square().sum() * inv_f;  // biased, as PyTorch
    s[r] = T(1) / std::sqrt(var + epsilon);
    xh.row(r).array() = (x.row(r).array() - mean) * s[r];
    out.row(r).array() = xh.row(r).array() * gamma + beta;
  }
}

// The batch-norm derivation with the roles of rows and features swapped: per sample i with
// dx̂ = g·γ, dL/dx = s_i·(dx̂ − mean_f(dx̂) − x̂·mean_f(dx̂·x̂)); dγ = Σ_b g·x̂, dβ = Σ_b g.
template <class T>
void backward(const BackwardArgs<T>& a) {
  const auto g = a.grad_out.mat();
  const auto xh = a.saved[x_hat].mat();
  const T* s = a.saved[inv_std].data;
  const auto gamma = a.in[1].row().array();
  const auto& dx = a.grad_in[0];
  const auto& dgamma = a.grad_in[1];
  const auto& dbeta = a.grad_in[2];
  if (!dgamma.grad.empty() && !dgamma.accumulate) dgamma.grad.vec().setZero();
  if (!dbeta.grad.empty() && !dbeta.accumulate) dbeta.grad.vec().setZero();
  const T inv_f = T(1) / static_cast<T>(g.cols());
  for (int64_t r = 0; r < g.rows(); ++r) {
    if (!dgamma.grad.empty()) dgamma.grad.row().array() += g.row(r).array() * xh.row(r).array();
    if (!dbeta.grad.empty()) dbeta.grad.row().array() += g.row(r).array();
    if (dx.grad.empty()) continue;
    const auto dxh = g.row(r).array() * gamma;
    const T mean_d = dxh.sum() * inv_f;
    const T mean_dx = (dxh * xh.row(r).array()).sum() * inv_f;
    store_grad(dx.accumulate, dx.grad.mat().row(r).array(), s[r] * (dxh - mean_d - xh.row(r).array() * mean_dx));
  }
}

Var example(Graph& g) {
  auto x = g.input("x", {batch, 4});
  auto gamma = g.parameter("gamma", {4}, Init::normal(1.0));
  auto beta = g.parameter("beta", {4}, Init::normal(1.0));
  return layer_norm(x, gamma, beta, "ln");
}

}  // namespace

const OpInfo layer_norm_op = {
    .name = "layer_norm",
    .inputs = {{"x"}, {"gamma"}, {"beta"}},
    .attrs = kAttrs,
    .saved = kSaved,
    .infer = infer,
    .f32 = {forward<float>, backward<float>},
    .f64 = {forward<double>, backward<double>},
    .example = example,
};

Var layer_norm(Var x, Var gamma, Var beta, const std::string& name, double eps) {
  return x.graph->op(layer_norm_op, {x, gamma, beta}, name, {{"eps", eps}});
}

}  // namespace bnlab

#include "ops/sigmoid.hpp"

namespace bnlab {
namespace {

Shape infer(const ShapeContext& c) { return c.in[0]; }

// σ(x) = 1 / (1 + e^(−x)). NOTE: Eigen's logistic() is the stable form (no overflow of e^(−x) for
// x ≪ 0: σ(−1000) is 0, σ(1000) is 1, never NaN).
template <class T>
void forward(const ForwardArgs<T>& a) {
  a.out.vec() = a.in[0].vec().logistic();
}

// dσ/dx = σ(x)·(1 − σ(x)), from the saved output y = σ(x):
//   σ'(x) = e^(−x) / (1 + e^(−x))² = σ(x) · e^(−x) / (1 + e^(−x)) = σ(x) · (1 − σ(x)).
template <class T>
void backward(const BackwardArgs<T>& a) {
  const auto& dx = a.grad_in[0];
  if (dx.grad.empty()) return;
  store_grad(dx.accumulate, dx.grad.vec(), a.grad_out.vec() * a.out.vec() * (T(1) - a.out.vec()));
}

Var example(Graph& g) { return sigmoid(g.input("x", {batch, 5}), "sigmoid"); }

}  // namespace

const OpInfo sigmoid_op = {
    .name = "sigmoid",
    .inputs = {{"x"}},
    .infer = infer,
    .f32 = {forward<float>, backward<float>},
    .f64 = {forward<double>, backward<double>},
    .example = example,
};

Var sigmoid(Var x, const std::string& name) {
  return x.graph->op(sigmoid_op, {x}, name.empty() ? x.graph->unique_name("sigmoid") : name);
}

}  // namespace bnlab

#include "ops/tanh.hpp"

namespace bnlab {
namespace {

Shape infer(const ShapeContext& c) { return c.in[0]; }

template <class T>
void forward(const ForwardArgs<T>& a) {
  a.out.vec() = a.in[0].vec().tanh();
}

// d tanh(x)/dx = 1 - tanh(x)², from the saved output.
template <class T>
void backward(const BackwardArgs<T>& a) {
  const auto& dx = a.grad_in[0];
  if (dx.grad.empty()) return;
  store_grad(dx.accumulate, dx.grad.vec(), a.grad_out.vec() * (T(1) - a.out.vec().square()));
}

Var example(Graph& g) { return tanh(g.input("x", {batch, 5}), "tanh"); }

}  // namespace

const OpInfo tanh_op = {
    .name = "tanh",
    .inputs = {{"x"}},
    .infer = infer,
    .f32 = {forward<float>, backward<float>},
    .f64 = {forward<double>, backward<double>},
    .example = example,
};

Var tanh(Var x, const std::string& name) {
  return x.graph->op(tanh_op, {x}, name.empty() ? x.graph->unique_name("tanh") : name);
}

}  // namespace bnlab

#include "ops/relu.hpp"

namespace bnlab {
namespace {

Shape infer(const ShapeContext& c) { return c.in[0]; }

template <class T>
void forward(const ForwardArgs<T>& a) {
  a.out.vec() = a.in[0].vec().max(T(0));
}

// Reads its own output as the mask: out > 0 exactly where x > 0.
template <class T>
void backward(const BackwardArgs<T>& a) {
  const auto& dx = a.grad_in[0];
  if (dx.grad.empty()) return;
  const auto masked = (a.out.vec() > T(0)).select(a.grad_out.vec(), T(0));
  store_grad(dx.accumulate, dx.grad.vec(), masked);
}

Var example(Graph& g) { return relu(g.input("x", {batch, 5}), "relu"); }

}  // namespace

const OpInfo relu_op = {
    .name = "relu",
    .inputs = {{"x"}},
    .infer = infer,
    .f32 = {forward<float>, backward<float>},
    .f64 = {forward<double>, backward<double>},
    .example = example,
};

Var relu(Var x, const std::string& name) {
  return x.graph->op(relu_op, {x}, name.empty() ? x.graph->unique_name("relu") : name);
}

}  // namespace bnlab

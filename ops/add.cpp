#include "ops/add.hpp"

#include "graph/errors.hpp"

namespace bnlab {
namespace {

Shape infer(const ShapeContext& c) {
  if (!(c.in[0] == c.in[1])) throw ShapeError("operands must have the same shape: " + c.in[0].to_string() + " + " + c.in[1].to_string());
  return c.in[0];
}

template <class T>
void forward(const ForwardArgs<T>& a) {
  a.out.vec() = a.in[0].vec() + a.in[1].vec();
}

template <class T>
void backward(const BackwardArgs<T>& a) {
  for (const auto& d : a.grad_in)
    if (!d.grad.empty()) store_grad(d.accumulate, d.grad.vec(), a.grad_out.vec());
}

Var example(Graph& g) {
  return add(g.input("a", {batch, 3}), g.input("b", {batch, 3}), "add");
}

}  // namespace

const OpInfo add_op = {
    .name = "add",
    .inputs = {{"a"}, {"b"}},
    .infer = infer,
    .f32 = {forward<float>, backward<float>},
    .f64 = {forward<double>, backward<double>},
    .example = example,
};

Var add(Var a, Var b, const std::string& name) {
  return a.graph->op(add_op, {a, b}, name.empty() ? a.graph->unique_name("add") : name);
}

}  // namespace bnlab

#include "ops/matmul.hpp"

#include "graph/errors.hpp"

namespace bnlab {
namespace {

Shape infer(const ShapeContext& c) {
  const Shape& a = c.in[0];
  const Shape& b = c.in[1];
  if (a.rank() != 2 || b.rank() != 2)
    throw ShapeError("both operands must be matrices, got " + a.to_string() + "·" + b.to_string());
  if (a[1] != b[0]) throw ShapeError("inner dimensions differ: " + a.to_string() + "·" + b.to_string());
  if (b.has_batch()) throw ShapeError("the right operand cannot have the batch dimension: " + a.to_string() + "·" + b.to_string());
  return Shape{a[0], b[1]};
}

template <class T>
void forward(const ForwardArgs<T>& a) {
  a.out.mat().noalias() = a.in[0].mat() * a.in[1].mat();  // [M,K]·[K,N] → [M,N]
}

template <class T>
void backward(const BackwardArgs<T>& a) {
  const auto& da = a.grad_in[0];
  const auto& db = a.grad_in[1];
  if (!da.grad.empty()) {  // dA = dOut·Bᵀ: [M,N]·[N,K] → [M,K]
    if (da.accumulate) da.grad.mat().noalias() += a.grad_out.mat() * a.in[1].mat().transpose();
    else da.grad.mat().noalias() = a.grad_out.mat() * a.in[1].mat().transpose();
  }
  if (!db.grad.empty()) {  // dB = Aᵀ·dOut: [K,M]·[M,N] → [K,N]
    if (db.accumulate) db.grad.mat().noalias() += a.in[0].mat().transpose() * a.grad_out.mat();
    else db.grad.mat().noalias() = a.in[0].mat().transpose() * a.grad_out.mat();
  }
}

Var example(Graph& g) {
  auto x = g.input("x", {batch, 3});
  auto w = g.parameter("w", {3, 4}, Init::normal(1.0));
  return matmul(x, w, "matmul");
}

}  // namespace

const OpInfo matmul_op = {
    .name = "matmul",
    .inputs = {{"a"}, {"b"}},
    .infer = infer,
    .f32 = {forward<float>, backward<float>},
    .f64 = {forward<double>, backward<double>},
    .example = example,
};

Var matmul(Var a, Var b, const std::string& name) {
  return a.graph->op(matmul_op, {a, b}, name.empty() ? a.graph->unique_name("matmul") : name);
}

}  // namespace bnlab

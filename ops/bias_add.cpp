#include "ops/bias_add.hpp"

#include "graph/errors.hpp"

namespace bnlab {
namespace {

Shape infer(const ShapeContext& c) {
  const Shape& x = c.in[0];
  const Shape& b = c.in[1];
  // [B,F] + [F], or per channel [B,H,W,C] + [C]: the bias runs along the last dimension.
  if (x.rank() < 2 || b.rank() != 1 || b.has_batch() || x[x.rank() - 1] != b[0])
    throw ShapeError("bias must be a vector of the input's last dimension: " + x.to_string() + " + " + b.to_string());
  return x;
}

template <class T>
void forward(const ForwardArgs<T>& a) {
  a.out.mat().noalias() = a.in[0].mat().rowwise() + a.in[1].row();
}

template <class T>
void backward(const BackwardArgs<T>& a) {
  const auto& dx = a.grad_in[0];
  const auto& db = a.grad_in[1];
  if (!dx.grad.empty()) store_grad(dx.accumulate, dx.grad.mat(), a.grad_out.mat());
  if (!db.grad.empty()) {
    // Row by row, so the sum runs along contiguous memory: Eigen's colwise().sum() of a row-major
    // matrix strides down each column (bench_ops: backward 9.0 µs against 4.1 µs this way at [256,128]).
    const auto dy = a.grad_out.mat();
    auto out = db.grad.row();
    if (!db.accumulate) out.setZero();
    for (Eigen::Index r = 0; r < dy.rows(); ++r) out += dy.row(r);
  }
}

Var example(Graph& g) {
  auto x = g.input("x", {batch, 4});
  auto b = g.parameter("b", {4}, Init::normal(1.0));
  return bias_add(x, b, "bias_add");
}

}  // namespace

const OpInfo bias_add_op = {
    .name = "bias_add",
    .inputs = {{"x"}, {"bias"}},
    .infer = infer,
    .f32 = {forward<float>, backward<float>},
    .f64 = {forward<double>, backward<double>},
    .example = example,
};

Var bias_add(Var x, Var bias, const std::string& name) {
  return x.graph->op(bias_add_op, {x, bias}, name.empty() ? x.graph->unique_name("bias_add") : name);
}

}  // namespace bnlab

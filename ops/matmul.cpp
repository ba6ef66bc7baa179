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

// Rows of a product's result per thread, at least: a part below ~1 MFLOP (about 10 µs) saves less
// than handing it to another thread costs. Measured with bnlab_epoch --threads 2 (plain, epochs of
// 48,000): at 256 kFLOP two threads were slower than one at batch 32 and 64; at 1 MFLOP they are
// 1.13x, 1.14x, 1.26x and 1.66x faster at batch 32, 64, 256, 1024; at 4 MFLOP slower at 256. Each thread computes whole rows of the result, so no sums are split between threads.
int64_t grain(int64_t flops_per_row) { return std::max<int64_t>(1, (int64_t{1} << 20) / std::max<int64_t>(1, flops_per_row)); }

template <class Dst, class Lhs, class Rhs>
void product(bool accumulate, Dst&& dst, const Lhs& lhs, const Rhs& rhs) {
  if (accumulate) dst.noalias() += lhs * rhs; else dst.noalias() = lhs * rhs;
}

template <class T>
void forward(const ForwardArgs<T>& a) {
  const auto A = a.in[0].mat();
  const auto B = a.in[1].mat();
  auto out = a.out.mat();
  parallel_for(a.pool, out.rows(), grain(2 * A.cols() * B.cols()), [&](int64_t r0, int64_t r1) {
    out.middleRows(r0, r1 - r0).noalias() = A.middleRows(r0, r1 - r0) * B;  // [m,K]·[K,N] → [m,N]
  });
}

template <class T>
void backward(const BackwardArgs<T>& a) {
  const auto A = a.in[0].mat();
  const auto B = a.in[1].mat();
  const auto G = a.grad_out.mat();
  const auto& da = a.grad_in[0];
  const auto& db = a.grad_in[1];
  if (!da.grad.empty()) {  // dA = G·Bᵀ: [M,N]·[N,K] → [M,K], split over the rows of dA
    auto d = da.grad.mat();
    parallel_for(a.pool, d.rows(), grain(2 * G.cols() * d.cols()), [&](int64_t r0, int64_t r1) {
      product(da.accumulate, d.middleRows(r0, r1 - r0), G.middleRows(r0, r1 - r0), B.transpose());
    });
  }
  if (!db.grad.empty()) {  // dB = Aᵀ·G: [K,M]·[M,N] → [K,N], split over the rows of dB (columns of A)
    auto d = db.grad.mat();
    parallel_for(a.pool, d.rows(), grain(2 * G.rows() * d.cols()), [&](int64_t k0, int64_t k1) {
      product(db.accumulate, d.middleRows(k0, k1 - k0), A.middleCols(k0, k1 - k0).transpose(), G);
    });
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

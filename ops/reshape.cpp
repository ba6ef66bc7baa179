#include "ops/reshape.hpp"

#include <cmath>

#include "graph/errors.hpp"

namespace bnlab {
namespace {

constexpr AttrDecl kAttrs[] = {{"d1", 0}, {"d2", 0}, {"d3", 0}};

std::string dim_string(double v) {
  if (v == std::floor(v) && std::abs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  return std::to_string(v);
}

// "reshape to [B,7,7,65] needs as many elements per sample as [B,7,7,64]: 3185 against 3136".
Shape infer(const ShapeContext& c) {
  const Shape& x = c.in[0];
  if (x.rank() < 1) throw ShapeError("input must have a first (batch) dimension, got a scalar " + x.to_string());
  const std::string attrs =
      "d1 = " + dim_string(c.attrs[0]) + ", d2 = " + dim_string(c.attrs[1]) + ", d3 = " + dim_string(c.attrs[2]);
  // The output's rank: 1 + the number of leading non-zero dimensions; each is a whole number, and
  // none is given after an absent one.
  int rank = 1;
  while (rank < 4 && c.attrs[static_cast<size_t>(rank - 1)] != 0) ++rank;
  for (int i = 0; i < 3; ++i) {
    const double d = c.attrs[static_cast<size_t>(i)];
    if (!(d >= 0 && d <= 1e12 && d == std::floor(d)) || (i >= rank - 1 && d != 0))
      throw ShapeError("dimensions must be positive whole numbers, 0 for absent ones after the last, got " + attrs);
  }
  if (rank == 1) throw ShapeError("reshape needs at least d1, got " + attrs);
  int64_t dims[4] = {x[0], 0, 0, 0};
  for (int i = 1; i < rank; ++i) dims[i] = static_cast<int64_t>(c.attrs[static_cast<size_t>(i - 1)]);
  const Shape out(std::span<const int64_t>(dims, static_cast<size_t>(rank)));
  int64_t per_sample_in = 1, per_sample_out = 1;
  for (int i = 1; i < x.rank(); ++i) per_sample_in *= x[i];
  for (int i = 1; i < rank; ++i) per_sample_out *= dims[i];
  if (per_sample_in != per_sample_out)
    throw ShapeError("reshape to " + out.to_string() + " needs as many elements per sample as " + x.to_string() + ": " +
                     std::to_string(per_sample_out) + " against " + std::to_string(per_sample_in));
  return out;
}

// y = x: the same elements in the same order, only the shape differs. When compile() gave the
// output x's slot (the op is x's only consumer) there is nothing to do.
template <class T>
void forward(const ForwardArgs<T>& a) {
  if (a.out.data != a.in[0].data) a.out.vec() = a.in[0].vec();
}

// The identity's Jacobian: dx = g, element for element. When the output's gradient slot is x's
// gradient slot, the consumers of y already wrote dx in place (and then x has no other consumer,
// so the gradient is never one to accumulate into).
template <class T>
void backward(const BackwardArgs<T>& a) {
  const auto& dx = a.grad_in[0];
  if (dx.grad.empty() || dx.grad.data == a.grad_out.data) return;
  store_grad(dx.accumulate, dx.grad.vec(), a.grad_out.vec());
}

// A chain of views of an input (each the only consumer of the one before: one piece of memory).
// The copying plan needs a second consumer, so another op: tests/test_reshape.cpp checks it.
Var example(Graph& g) {
  auto x = g.input("x", {batch, 3, 5, 3});
  return flatten(reshape(x, {5, 9}, "reshape_5x9"), "flatten");  // [B,45]
}

}  // namespace

const OpInfo reshape_op = {
    .name = "reshape",
    .inputs = {{"x"}},
    .attrs = kAttrs,
    .infer = infer,
    .f32 = {forward<float>, backward<float>},
    .f64 = {forward<double>, backward<double>},
    .example = example,
    .output_is_input_view = true,
};

Var reshape(Var x, std::initializer_list<int64_t> dims, const std::string& name) {
  std::vector<std::pair<std::string, double>> attrs;
  const char* names[] = {"d1", "d2", "d3"};
  size_t i = 0;
  for (int64_t d : dims) {
    if (i == 3)
      throw UsageError("node '" + name + "' (reshape): at most 3 dimensions after the first, got " + std::to_string(dims.size()));
    attrs.emplace_back(names[i++], static_cast<double>(d));
  }
  return x.graph->op(reshape_op, {x}, name.empty() ? x.graph->unique_name("reshape") : name, std::move(attrs));
}

Var flatten(Var x, const std::string& name) {
  int64_t n = 1;
  for (int i = 1; i < x.shape().rank(); ++i) n *= x.shape()[i];
  return reshape(x, {n}, name.empty() ? x.graph->unique_name("flatten") : name);
}

}  // namespace bnlab

#include "ops/dropout.hpp"

#include "graph/errors.hpp"
#include "graph/fields.hpp"
#include "graph/random.hpp"

namespace bnlab {
namespace {

constexpr AttrDecl kAttrs[] = {{"rate", 0.5}};
constexpr TensorDecl kSaved[] = {{"mask", [](const ShapeContext& c) { return c.in[0]; }}};  // as x
// The step counter t = high·2^24 + low, low in [0, 2^24). NOTE: state is stored in the session's
// precision, and a float holds every integer only up to 2^24; two elements that each stay below
// 2^24 keep t exact in float up to 2^48 training steps (and in double far beyond).
constexpr StateDecl kState[] = {{"step", 0.0, [](const ShapeContext&) { return Shape{2}; }}};

constexpr int rate = index_of(kAttrs, "rate");
constexpr int mask = index_of(kSaved, "mask");
constexpr int step = index_of(kState, "step");

constexpr double kLowSpan = 16777216.0;  // 2^24

Shape infer(const ShapeContext& c) {
  if (!kUnitOpen.contains(c.attrs[rate]))
    throw ShapeError("rate must be " + kUnitOpen.text() + ", got " + field_text(c.attrs[rate]));
  return c.in[0];
}

// Elements per thread, at least (a hash and a multiply per element).
constexpr int64_t kGrain = 8192;

// Train: u_k = counter_uniform(seed, t, k) in [0, 1), kept iff u_k ≥ p (probability 1 − p), and
//   m_k = 1/(1 − p) if kept else 0,  y_k = x_k·m_k,  so E[y_k] = (1 − p)·x_k/(1 − p) = x_k.
// k numbers the elements of the GLOBAL batch: element j of this batch's row r (r over the batch
// dimension, j over the rest of a sample) is k = (first_row + r)·J + j = first_row·J + (flat index),
// J the elements of one sample. So N data-parallel workers, each given its share's first_row, draw
// exactly the masks one process draws for the whole batch; first_row = 0 is the single process.
// Each element is a pure function of k, so any split over threads gives the same mask.
template <class T>
void forward(const ForwardArgs<T>& a) {
  const auto x = a.in[0].vec();
  auto m = a.saved[mask].vec();
  auto y = a.out.vec();
  if (a.mode != Mode::train) {
    m.setConstant(T(1));
    y = x;
    return;
  }
  const double p = a.attrs[rate];
  const T keep = static_cast<T>(1.0 / (1.0 - p));
  T* counter = a.state[step].data;  // {low, high}
  const auto t = static_cast<uint64_t>(counter[1]) * static_cast<uint64_t>(kLowSpan) + static_cast<uint64_t>(counter[0]);
  const uint64_t seed = a.seed;
  const int64_t batch_rows = a.in_shapes[0][0];
  const uint64_t offset = batch_rows > 0 ? static_cast<uint64_t>(a.first_row) * static_cast<uint64_t>(x.size() / batch_rows) : 0;
  T* md = m.data();
  const T* xd = x.data();
  T* yd = y.data();
  parallel_for(a.pool, x.size(), kGrain, [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) {
      md[k] = counter_uniform(seed, t, offset + static_cast<uint64_t>(k)) >= p ? keep : T(0);
      yd[k] = xd[k] * md[k];
    }
  });
  // t + 1, carried into the high element when low reaches 2^24 (both stay exact integers).
  counter[0] += T(1);
  if (static_cast<double>(counter[0]) >= kLowSpan) {
    counter[0] = T(0);
    counter[1] += T(1);
  }
}

// y = x·m with m fixed by the forward pass (it does not depend on x), so dL/dx = g·m.
template <class T>
void backward(const BackwardArgs<T>& a) {
  const auto& dx = a.grad_in[0];
  if (dx.grad.empty()) return;
  store_grad(dx.accumulate, dx.grad.vec(), a.grad_out.vec() * a.saved[mask].vec());
}

Var example(Graph& g) { return dropout(g.input("x", {batch, 3, 3, 2}), 0.3, "dropout"); }

}  // namespace

const OpInfo dropout_op = {
    .name = "dropout",
    .inputs = {{"x"}},
    .attrs = kAttrs,
    .saved = kSaved,
    .state = kState,
    .infer = infer,
    .f32 = {forward<float>, backward<float>},
    .f64 = {forward<double>, backward<double>},
    .example = example,
};

Var dropout(Var x, double rate, const std::string& name) {
  return x.graph->op(dropout_op, {x}, name.empty() ? x.graph->unique_name("dropout") : name, {{"rate", rate}});
}

}  // namespace bnlab

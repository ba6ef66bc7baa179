// reshape and flatten: shapes and shape errors, and the memory plan's views — a reshape that is its
// input's only consumer shares its input's value and gradient memory (no copy, a smaller arena),
// one whose input has a second consumer (or is a parameter) gets memory of its own and copies;
// values and gradients are right either way (gradient checks in double).
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "graph/compile.hpp"
#include "graph/errors.hpp"
#include "graph/gradcheck.hpp"
#include "graph/random.hpp"
#include "graph/session.hpp"
#include "ops/add.hpp"
#include "ops/matmul.hpp"
#include "ops/relu.hpp"
#include "ops/reshape.hpp"
#include "ops/sigmoid.hpp"
#include "ops/softmax_cross_entropy.hpp"

using namespace bnlab;

namespace {

// reshape_op with the view declaration taken away: the same kernels, always planned a slot of its
// own, so every test can compare the shared plan against the copying one.
const OpInfo& copying_reshape() {
  static const OpInfo op = [] {
    OpInfo o = reshape_op;
    o.output_is_input_view = false;
    return o;
  }();
  return op;
}

Var flatten_with(const OpInfo& op, Var x, const std::string& name) {
  int64_t n = 1;
  for (int i = 1; i < x.shape().rank(); ++i) n *= x.shape()[i];
  return x.graph->op(op, {x}, name, {{"d1", static_cast<double>(n)}});
}

template <class T>
void fill_normal(TensorView<T> v, uint64_t seed) {
  Rng rng(seed);
  for (int64_t i = 0; i < v.size(); ++i) v.data[i] = static_cast<T>(rng.normal());
}

void check_gradients(const Graph& g, Var target, int64_t batch = 3) {
  const GradCheckResult r = gradcheck(g, target, {.batch = batch, .seed = 5});
  CHECK(!r.tensors.empty());
  for (const auto& t : r.tensors) {
    CAPTURE(t.name);
    CAPTURE(t.analytic);
    CAPTURE(t.numeric);
    CHECK(t.max_rel_error < 1e-6);
  }
}

}  // namespace

TEST_CASE("reshape and flatten shapes") {
  Graph g;
  auto x = g.input("x", {batch, 7, 7, 64});
  CHECK(flatten(x, "flat").shape() == Shape{batch, 3136});
  CHECK(reshape(g.var(g.find("flat")), {7, 7, 64}, "back").shape() == Shape{batch, 7, 7, 64});
  CHECK(reshape(x, {49, 64}, "rows").shape() == Shape{batch, 49, 64});
  auto v = g.input("v", {batch});
  CHECK(reshape(v, {1}, "column").shape() == Shape{batch, 1});
  // Without a batch dimension the first dimension is kept just the same.
  auto w = g.parameter("w", {4, 6}, Init::zeros());
  CHECK(reshape(w, {2, 3}, "w3").shape() == Shape{4, 2, 3});
  CHECK(flatten(x).name() == "flatten");  // the helper's default name
}

TEST_CASE("reshape shape errors name the node, both shapes and the attributes") {
  Graph g;
  auto x = g.input("x", {batch, 7, 7, 64});
  CHECK_THROWS_WITH_AS(reshape(x, {7, 7, 65}, "r"),
                       "node 'r' (reshape): reshape to [B,7,7,65] needs as many elements per sample as [B,7,7,64]: "
                       "3185 against 3136",
                       ShapeError);
  CHECK_THROWS_WITH_AS(reshape(x, {3000}, "r"),
                       "node 'r' (reshape): reshape to [B,3000] needs as many elements per sample as [B,7,7,64]: "
                       "3000 against 3136",
                       ShapeError);
  CHECK_THROWS_WITH_AS(reshape(x, {-1}, "r"),
                       "node 'r' (reshape): dimensions must be positive whole numbers, 0 for absent ones after the "
                       "last, got d1 = -1, d2 = 0, d3 = 0",
                       ShapeError);
  CHECK_THROWS_WITH_AS(g.op(reshape_op, {x}, "r", {{"d2", 3136}}),
                       "node 'r' (reshape): dimensions must be positive whole numbers, 0 for absent ones after the "
                       "last, got d1 = 0, d2 = 3136, d3 = 0",
                       ShapeError);
  CHECK_THROWS_WITH_AS(g.op(reshape_op, {x}, "r", {{"d1", 3136}, {"d3", 1}}),
                       "node 'r' (reshape): dimensions must be positive whole numbers, 0 for absent ones after the "
                       "last, got d1 = 3136, d2 = 0, d3 = 1",
                       ShapeError);
  CHECK_THROWS_WITH_AS(g.op(reshape_op, {x}, "r"), "node 'r' (reshape): reshape needs at least d1, got d1 = 0, d2 = 0, d3 = 0",
                       ShapeError);
  CHECK_THROWS_WITH_AS(reshape(x, {7, 7, 8, 8}, "r"),
                       "node 'r' (reshape): at most 3 dimensions after the first, got 4", UsageError);
}

TEST_CASE("a flatten after a relu shares the relu's memory: same pointers, a smaller arena, the same numbers") {
  auto build = [](Graph& g, const OpInfo& op) {
    auto x = g.input("x", {batch, 4, 4, 3});
    return flatten_with(op, relu(x, "relu"), "flat");  // [B,48]
  };
  Graph g;
  auto flat = build(g, reshape_op);
  const NodeId r = g.find("relu"), x = g.find("x");
  Session s(compile(g, flat, {.input_gradients = true}));
  const Program& p = s.program();
  CHECK(p.at(flat.id).value_slot == p.at(r).value_slot);
  CHECK(p.at(flat.id).grad_slot == p.at(r).grad_slot);
  s.set_batch(5);
  fill_normal(s.input("x"), 1);
  s.forward(Mode::train);
  CHECK(s.value(flat.id).data == s.value(r).data);
  CHECK(s.value(flat.id).rows == 5);  // each node keeps its own shape on the shared memory
  CHECK(s.value(flat.id).cols == 48);
  CHECK(s.value(r).rows == 5 * 16);
  CHECK(s.value(r).cols == 3);
  std::vector<float> seed(5 * 48);
  for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<float>(i % 7) - 3.0f;
  s.backward(seed);
  CHECK(s.grad(flat.id).data == s.grad(r).data);
  // dx = seed where x > 0, else 0 (the relu's backward on the flatten's gradient, read in place).
  const auto xv = s.value(x).vec();
  const auto dx = s.grad(x).vec();
  for (Eigen::Index i = 0; i < dx.size(); ++i) CHECK(dx[i] == (xv[i] > 0 ? seed[static_cast<size_t>(i)] : 0.0f));

  // The same graph with a copying reshape: its own value and gradient slots, a bigger arena.
  Graph gc;
  auto flat_c = build(gc, copying_reshape());
  Session c(compile(gc, flat_c, {.input_gradients = true}));
  CHECK(c.program().at(flat_c.id).value_slot != c.program().at(gc.find("relu")).value_slot);
  c.set_batch(5);
  fill_normal(c.input("x"), 1);
  c.forward(Mode::train);
  c.backward(seed);
  CHECK(c.value(flat_c.id).data != c.value(gc.find("relu")).data);
  CHECK(s.arena_elements() < c.arena_elements());
  MESSAGE("arena at batch 5: " << s.arena_elements() << " elements shared, " << c.arena_elements() << " copying");
  const auto y = s.value(flat.id).vec(), yc = c.value(flat_c.id).vec();
  CHECK((y == yc).all());
  CHECK((s.grad(x).vec() == c.grad(gc.find("x")).vec()).all());

  check_gradients(g, flat);
}

TEST_CASE("a training step through shared memory equals one through a copying reshape, bit for bit") {
  // relu → flatten → matmul → softmax cross-entropy: the loss and the weight gradient.
  auto build = [](Graph& g, const OpInfo& op) {
    auto x = g.input("x", {batch, 4, 4, 3});
    auto f = flatten_with(op, relu(x, "relu"), "flat");
    auto w = g.parameter("w", {48, 5}, Init::normal(0.3));
    return softmax_cross_entropy(matmul(f, w, "fc"), g.labels("y", 5), "loss");
  };
  for (int threads : {1, 2}) {
    Graph a, b;
    Session sa(compile(a, build(a, reshape_op)), {.seed = 3, .threads = threads});
    Session sb(compile(b, build(b, copying_reshape())), {.seed = 3, .threads = threads});
    float loss[2];
    Session* ss[2] = {&sa, &sb};
    for (int k = 0; k < 2; ++k) {
      ss[k]->set_batch(8);
      fill_normal(ss[k]->input("x"), 4);
      auto y = ss[k]->labels("y");
      for (size_t i = 0; i < y.size(); ++i) y[i] = static_cast<int32_t>(i % 5);
      loss[k] = ss[k]->forward(Mode::train);
      ss[k]->backward();
    }
    CHECK(loss[0] == loss[1]);
    const auto& ga = sa.gradients();
    const auto& gb = sb.gradients();
    CHECK((ga.view(ga.find("w")).vec() == gb.view(gb.find("w")).vec()).all());
    CHECK(sa.arena_elements() < sb.arena_elements());
  }
  Graph g;
  check_gradients(g, build(g, reshape_op), 4);
}

TEST_CASE("a flatten of a relu output that has a second consumer copies, and its gradients are right") {
  // relu's output feeds the flatten and a sigmoid: sharing would let the flatten's consumers and
  // the sigmoid's backward both write the relu's gradient memory.
  Graph g;
  auto x = g.input("x", {batch, 3, 3, 2});
  auto r = relu(x, "relu");
  auto f = flatten(r, "flat");                     // r has two consumers: a copy
  auto h = flatten(sigmoid(r, "sig"), "flat_sig");  // the sigmoid's only consumer: shared
  auto t = add(f, h, "sum");
  BasicSession<double> s(compile(g, t, {.input_gradients = true}));
  const Program& p = s.program();
  CHECK(p.at(f.id).value_slot != p.at(r.id).value_slot);
  CHECK(p.at(f.id).grad_slot != p.at(r.id).grad_slot);
  CHECK(p.at(h.id).value_slot == p.at(g.find("sig")).value_slot);
  s.set_batch(3);
  fill_normal(s.input("x"), 2);
  s.forward(Mode::train);
  CHECK(s.value(f.id).data != s.value(r.id).data);
  CHECK(s.value(h.id).data == s.value(g.find("sig")).data);
  const auto xv = s.value(x.id).vec(), fv = s.value(f.id).vec(), tv = s.value(t.id).vec();
  for (Eigen::Index i = 0; i < xv.size(); ++i) {
    const double relu_x = std::max(xv[i], 0.0);
    CHECK(fv[i] == relu_x);
    CHECK(tv[i] == doctest::Approx(relu_x + 1 / (1 + std::exp(-relu_x))).epsilon(1e-14));
  }
  check_gradients(g, t);
}

TEST_CASE("a reshape of an input: shared when it is the input's only consumer, copied when the input feeds another op") {
  {
    Graph g;
    auto x = g.input("x", {batch, 2, 3, 2});
    auto f = flatten(x, "flat");
    BasicSession<double> s(compile(g, f, {.input_gradients = true}));
    CHECK(s.program().at(f.id).value_slot == s.program().at(x.id).value_slot);
    CHECK(s.program().at(f.id).grad_slot == s.program().at(x.id).grad_slot);
    s.set_batch(2);
    fill_normal(s.input("x"), 3);
    s.forward(Mode::train);
    CHECK(s.value(f.id).data == s.input(x.id).data);
    std::vector<double> seed(24);
    for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<double>(i);
    s.backward(seed);
    CHECK(s.grad(x.id).data == s.grad(f.id).data);
    for (size_t i = 0; i < seed.size(); ++i) CHECK(s.grad(x.id).data[i] == seed[i]);
    check_gradients(g, f);
  }
  {
    Graph g;
    auto x = g.input("x", {batch, 2, 3, 2});
    auto f = flatten(x, "flat");                      // x also feeds the relu: a copy
    auto t = add(f, flatten(relu(x, "relu"), "flat_relu"), "sum");
    BasicSession<double> s(compile(g, t, {.input_gradients = true}));
    CHECK(s.program().at(f.id).value_slot != s.program().at(x.id).value_slot);
    CHECK(s.program().at(f.id).grad_slot != s.program().at(x.id).grad_slot);
    s.set_batch(2);
    fill_normal(s.input("x"), 3);
    s.forward(Mode::train);
    CHECK(s.value(f.id).data != s.input(x.id).data);
    const auto xv = s.input(x.id).vec(), tv = s.value(t.id).vec();
    for (Eigen::Index i = 0; i < xv.size(); ++i) CHECK(tv[i] == xv[i] + std::max(xv[i], 0.0));
    // d(Σ seed·t)/dx = seed·(1 + [x > 0]): one part from each consumer of x.
    std::vector<double> seed(24, 0.5);
    s.backward(seed);
    const auto dx = s.grad(x.id).vec();
    for (Eigen::Index i = 0; i < xv.size(); ++i) CHECK(dx[i] == (xv[i] > 0 ? 1.0 : 0.5));
    check_gradients(g, t);
  }
}

TEST_CASE("a reshape of a parameter copies; a reshape of that copy and chains of reshapes share") {
  Graph g;
  auto x = g.input("x", {batch, 4});
  auto w = g.parameter("w", {4, 6}, Init::normal(1.0));
  auto w3 = reshape(w, {2, 3}, "w3");   // [4,2,3]: a parameter lives in the parameter store, a copy
  auto w2 = flatten(w3, "w2");          // [4,6]: the copy's only consumer, shared
  auto y = matmul(x, w2, "y");          // [B,6]
  auto chain = flatten(reshape(reshape(relu(y, "relu"), {2, 3}, "a"), {3, 2}, "b"), "c");  // all the relu's memory
  BasicSession<double> s(compile(g, chain, {.input_gradients = true}));
  const Program& p = s.program();
  CHECK(p.at(w3.id).value_slot >= 0);
  CHECK(p.at(w2.id).value_slot == p.at(w3.id).value_slot);
  CHECK(p.at(w2.id).grad_slot == p.at(w3.id).grad_slot);
  for (const char* name : {"a", "b", "c"}) {
    CAPTURE(name);
    CHECK(p.at(g.find(name)).value_slot == p.at(g.find("relu")).value_slot);
    CHECK(p.at(g.find(name)).grad_slot == p.at(g.find("relu")).grad_slot);
  }
  s.set_batch(3);
  fill_normal(s.input("x"), 6);
  s.forward(Mode::train);
  CHECK(s.value(w3.id).data != s.parameters().view(0).data);
  CHECK((s.value(w2.id).vec() == s.parameters().view(0).vec()).all());
  check_gradients(g, chain);
}

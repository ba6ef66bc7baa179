#include <doctest/doctest.h>

#include <string>

#include "graph/compile.hpp"
#include "graph/errors.hpp"
#include "graph/gradcheck.hpp"
#include "graph/session.hpp"
#include "models/layers.hpp"
#include "ops/add.hpp"
#include "ops/batch_norm.hpp"
#include "ops/bias_add.hpp"
#include "ops/matmul.hpp"
#include "ops/relu.hpp"
#include "ops/softmax_cross_entropy.hpp"

using namespace bnlab;

TEST_CASE("a shape mismatch names the node, the op and both shapes") {
  Graph g;
  auto x = g.input("x", {batch, 784});
  auto w = g.parameter("fc1.weight", {100, 128}, Init::zeros());
  CHECK_THROWS_WITH_AS(matmul(x, w, "fc1.matmul"),
                       "node 'fc1.matmul' (matmul): inner dimensions differ: [B,784]·[100,128]", ShapeError);
  auto b = g.parameter("b", {7}, Init::zeros());
  auto h = matmul(x, g.parameter("w2", {784, 8}, Init::zeros()), "mm");
  CHECK_THROWS_WITH_AS(bias_add(h, b, "add"), "node 'add' (bias_add): bias must be a vector of the input's last dimension: [B,8] + [7]",
                       ShapeError);
}

TEST_CASE("graph building errors: duplicate names, unknown attributes, labels where values belong") {
  Graph g;
  auto x = g.input("x", {batch, 4});
  CHECK_THROWS_WITH_AS(g.input("x", {batch, 4}), "graph already has a node named 'x'", UsageError);
  auto y = g.labels("y", 3);
  CHECK_THROWS_AS(relu(y, "r"), UsageError);
  CHECK_THROWS_WITH_AS(g.op(relu_op, {x}, "r2", {{"alpha", 1.0}}), "node 'r2' (relu): unknown attribute 'alpha'", UsageError);
}

namespace {
// x [B,4] → dense 5 → relu → dense 3 → loss
struct SmallNet {
  Graph g;
  Var x, y, loss;
  SmallNet() {
    x = g.input("x", {batch, 4});
    y = g.labels("y", 3);
    auto h = relu(dense(x, 5, "fc1"));
    loss = softmax_cross_entropy(dense(h, 3, "out"), y, "loss");
  }
};
}  // namespace

TEST_CASE("one compiled program runs with two batch sizes; a smaller batch matches its rows run alone") {
  SmallNet net;
  Session s(compile(net.g, net.loss), {.seed = 3});
  Rng rng(1);
  std::vector<float> xs(8 * 4);
  for (float& v : xs) v = static_cast<float>(rng.uniform(-1, 1));
  std::vector<int32_t> ys = {0, 1, 2, 0, 1, 2, 0, 1};

  auto run = [&](int64_t b, int64_t first) {
    s.set_batch(b);
    std::copy(xs.begin() + first * 4, xs.begin() + (first + b) * 4, s.input("x").data);
    std::copy(ys.begin() + first, ys.begin() + first + b, s.labels("y").begin());
    return s.forward(Mode::eval);
  };
  const float all8 = run(8, 0);
  const float first3 = run(3, 0);
  const float last5 = run(5, 3);
  CHECK(all8 == doctest::Approx((3 * first3 + 5 * last5) / 8).epsilon(1e-5));
  const int64_t arena = s.arena_elements();
  run(8, 0);
  CHECK(s.arena_elements() == arena);  // planned once for the largest batch
  CHECK(run(8, 0) == all8);
}

TEST_CASE("running backward twice gives the same gradients (they are assigned, not summed across runs)") {
  SmallNet net;
  Session s(compile(net.g, net.loss));
  s.set_batch(4);
  s.input("x").vec().setConstant(0.5f);
  s.input("x")(1, 2) = -1.0f;
  for (int32_t& y : s.labels("y")) y = 1;
  s.forward(Mode::train);
  s.backward();
  const AlignedVector<float> first = s.gradients().data;
  s.forward(Mode::train);
  s.backward();
  CHECK(s.gradients().data == first);
}

TEST_CASE("nodes the target does not depend on are not computed") {
  SmallNet net;
  auto extra = relu(net.x, "unused");
  const Program p = compile(net.g, net.loss);
  CHECK_FALSE(p.contains(extra.id));
  CHECK(p.contains(net.x.id));
}

TEST_CASE("gradient check of graphs in which one node feeds two consumers") {
  // u = relu(x·W) feeds two branches that meet again: logits = u·P + u·Q + c, so dL/du is the sum of
  // two contributions (the second one accumulated into the first).
  Graph g;
  auto x = g.input("x", {batch, 4});
  auto y = g.labels("y", 3);
  auto u = relu(matmul(x, g.parameter("W", {4, 5}, Init::normal(1.0)), "xw"), "u");
  auto p = matmul(u, g.parameter("P", {5, 3}, Init::normal(1.0)), "up");
  auto q = matmul(u, g.parameter("Q", {5, 3}, Init::normal(1.0)), "uq");
  auto logits = bias_add(add(p, q, "p_plus_q"), g.parameter("c", {3}, Init::normal(1.0)), "logits");
  auto loss = softmax_cross_entropy(logits, y, "loss");
  const Program prog = compile(g, loss);
  const auto& up = prog.at(p.id);
  const auto& uq = prog.at(q.id);
  // Backward runs uq before up: uq writes dL/du, up adds to it.
  CHECK(uq.accumulate[0] == false);
  CHECK(up.accumulate[0] == true);
  GradCheckResult r = gradcheck(g, loss, {.batch = 3, .seed = 11});
  for (const auto& t : r.tensors) CHECK_MESSAGE(t.max_rel_error < 1e-6, t.name);

  // The same node twice in one op: add(v, v) has gradient 2·upstream.
  Graph h;
  auto v = h.input("v", {batch, 2});
  auto twice = add(v, v, "twice");
  BasicSession<double> s(compile(h, twice, {.backward = true, .input_gradients = true}));
  s.set_batch(2);
  s.input("v").vec() << 1, 2, 3, 4;
  s.forward(Mode::train);
  const std::vector<double> seed = {1, 1, 1, 1};
  s.backward(seed);
  for (int k = 0; k < 4; ++k) CHECK(s.grad(v.id).data[k] == 2.0);
}

TEST_CASE("the memory plan reuses slots whose lifetimes do not overlap") {
  std::vector<TensorSlot> slots = {{Shape{10}, 0, 1}, {Shape{10}, 2, 3}, {Shape{10}, 1, 2}};
  int64_t total = 0;
  auto offsets = plan_offsets(slots, {10, 10, 10}, total);
  CHECK(offsets[0] == offsets[1]);        // 0 dies before 1 is born: same memory
  CHECK(offsets[2] != offsets[0]);        // 2 overlaps both
  CHECK(total == 32);                     // two slots of 10 rounded up to 16
}

TEST_CASE("scratch lives for the one step that uses it; saved tensors live until backward") {
  Graph g;
  auto x = g.input("x", {batch, 3});
  auto gamma = g.parameter("gamma", {3}, Init::constant(1));
  auto beta = g.parameter("beta", {3}, Init::zeros());
  auto bn = batch_norm(x, gamma, beta, "bn");
  const Program p = compile(g, bn);
  const int n = static_cast<int>(p.order.size());
  const int i = p.position[static_cast<size_t>(bn.id)];
  const ProgramNode& pn = p.at(bn.id);
  REQUIRE(pn.saved_slots.size() == batch_norm_op.saved.size());
  REQUIRE(pn.scratch_slots.size() == batch_norm_op.scratch.size());
  REQUIRE(pn.backward_scratch_slots.size() == batch_norm_op.scratch.size());
  for (int s : pn.saved_slots) {
    CHECK(p.slots[static_cast<size_t>(s)].first_step == i);
    CHECK(p.slots[static_cast<size_t>(s)].last_step == 2 * n - 1 - i);
  }
  for (int s : pn.scratch_slots) {
    CHECK(p.slots[static_cast<size_t>(s)].first_step == i);
    CHECK(p.slots[static_cast<size_t>(s)].last_step == i);
  }
  for (size_t k = 0; k < pn.backward_scratch_slots.size(); ++k) {
    const int s = pn.backward_scratch_slots[k];
    // A forward-only scratch tensor (batch norm's "global") has no memory in backward.
    CHECK((s == -1) == (batch_norm_op.scratch[k].pass == ScratchPass::forward));
    if (s == -1) continue;
    CHECK(p.slots[static_cast<size_t>(s)].first_step == 2 * n - 1 - i);
    CHECK(p.slots[static_cast<size_t>(s)].last_step == 2 * n - 1 - i);
  }
  Session s(p);
  s.set_batch(4);
  CHECK_THROWS_AS(s.saved(bn.id, "stats"), UsageError);  // scratch is not a saved tensor
  CHECK(s.saved(bn.id, "x_hat").size() == 12);
}

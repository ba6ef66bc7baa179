// Every registered op is gradient-checked through its `example`, in every mode it differentiates,
// against central finite differences in double precision. A new op is covered by registering it.
#include <doctest/doctest.h>

#include <cstdio>
#include <set>
#include <string>

#include "graph/gradcheck.hpp"
#include "ops/registry.hpp"

using namespace bnlab;

TEST_CASE("every registered op passes the gradient check") {
  for (const OpInfo* op : all_ops()) {
    REQUIRE_MESSAGE(static_cast<bool>(op->example), op->name << " has no example graph");
    for (Mode mode : {Mode::train, Mode::eval, Mode::eval_batch_stats}) {
      for (int64_t b : {2, 5}) {
        Graph g;
        const Var target = op->example(g);
        const GradCheckResult r = gradcheck(g, target, {.batch = b, .seed = 7, .mode = mode});
        CAPTURE(op->name);
        CAPTURE(to_string(mode));
        CAPTURE(b);
        CHECK(!r.tensors.empty());
        for (const auto& t : r.tensors) {
          CAPTURE(t.name);
          CAPTURE(t.analytic);
          CAPTURE(t.numeric);
          CHECK(t.max_rel_error < 1e-6);
        }
        if (mode == Mode::train && b == 5)
          std::printf("gradcheck %-22s max rel error %.2e\n", op->name, r.max_rel_error());
      }
    }
  }
}

namespace square_with_bug {
// d(x²)/dx is 2x; this backward forgets the 2.
template <class T>
void forward(const ForwardArgs<T>& a) { a.out.vec() = a.in[0].vec().square(); }
template <class T>
void backward(const BackwardArgs<T>& a) { a.grad_in[0].grad.vec() = a.grad_out.vec() * a.in[0].vec(); }
}  // namespace square_with_bug

TEST_CASE("the gradient checker catches a wrong backward") {
  using namespace square_with_bug;
  static const OpInfo square = {
      .name = "square_with_bug",
      .inputs = {{"x"}},
      .infer = [](const ShapeContext& c) { return c.in[0]; },
      .f32 = {forward<float>, backward<float>},
      .f64 = {forward<double>, backward<double>},
  };
  Graph g;
  auto x = g.input("x", {batch, 3});
  auto y = g.op(square, {x}, "sq");
  const GradCheckResult r = gradcheck(g, y, {.batch = 3});
  CHECK_FALSE(r.passed());
  CHECK(r.max_rel_error() > 0.1);
}

TEST_CASE("op names are unique, and so are the names each op declares") {
  // Session::saved, the state store ("<node>.<state>") and Graph::op's attributes look names up.
  std::set<std::string> ops;
  for (const OpInfo* op : all_ops()) {
    CAPTURE(op->name);
    CHECK(ops.insert(op->name).second);
    std::set<std::string> names;
    for (const auto& d : op->inputs) CHECK(names.insert(std::string("input ") + d.name).second);
    for (const auto& d : op->attrs) CHECK(names.insert(std::string("attr ") + d.name).second);
    // Saved and scratch tensors share one namespace: a name means one slot.
    for (const auto& d : op->saved) CHECK(names.insert(std::string("tensor ") + d.name).second);
    for (const auto& d : op->scratch) CHECK(names.insert(std::string("tensor ") + d.name).second);
    for (const auto& d : op->state) CHECK(names.insert(std::string("state ") + d.name).second);
  }
}

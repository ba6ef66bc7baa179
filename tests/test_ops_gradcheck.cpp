// Every registered op is gradient-checked through its `example`, in every mode it differentiates,
// against central finite differences in double precision. A new op is covered by registering it.
#include <doctest/doctest.h>

#include <cstdio>

#include "graph/gradcheck.hpp"
#include "ops/registry.hpp"

using namespace bnlab;

TEST_CASE("every registered op passes the gradient check") {
  REQUIRE(all_ops().size() == static_cast<size_t>(OpKind::count));
  for (const OpInfo* op : all_ops()) {
    REQUIRE_MESSAGE(static_cast<bool>(op->example), op->name << " has no example graph");
    REQUIRE_MESSAGE(static_cast<bool>(op->f32.forward), op->name << " has no float forward");
    REQUIRE_MESSAGE(static_cast<bool>(op->f64.backward), op->name << " has no double backward");
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

TEST_CASE("the gradient checker catches a wrong backward") {
  // The same op with a backward that forgets the factor 2 of d(x²)/dx must fail the check.
  static OpInfo square = {
      .name = "square_with_bug",
      .inputs = {{"x"}},
      .infer = [](const ShapeContext& c) { return c.in[0]; },
      .f32 = {},
      .f64 = {[](const ForwardArgs<double>& a) { a.out.vec() = a.in[0].vec().square(); },
              [](const BackwardArgs<double>& a) { a.grad_in[0].grad.vec() = a.grad_out.vec() * a.in[0].vec(); }},
  };
  Graph g;
  auto x = g.input("x", {batch, 3});
  auto y = g.op(square, {x}, "sq");
  const GradCheckResult r = gradcheck(g, y, {.batch = 3});
  CHECK_FALSE(r.passed());
  CHECK(r.max_rel_error() > 0.1);
}

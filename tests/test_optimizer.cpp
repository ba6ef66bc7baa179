// Optimizer updates against values computed by hand.
#include <doctest/doctest.h>

#include <cmath>

#include "graph/errors.hpp"
#include "train/optimizer.hpp"

using namespace bnlab;

namespace {
struct Stores {
  TensorStore<float> p, g;
  Stores(float p0, float g0) {
    p.add("w", Shape{1}, p0);
    g.add("w", Shape{1}, g0);
  }
};
}  // namespace

TEST_CASE("sgd: p -= lr·g") {
  Stores s(1.0f, 0.5f);
  Optimizer opt({.kind = OptimizerKind::sgd, .lr = 0.1}, s.p);
  opt.step(s.p, s.g);
  CHECK(s.p.data[0] == doctest::Approx(0.95));  // 1 − 0.1·0.5
}

TEST_CASE("momentum: v = μv + g, p -= lr·v") {
  Stores s(1.0f, 0.5f);
  Optimizer opt({.kind = OptimizerKind::momentum, .lr = 0.1, .momentum = 0.9}, s.p);
  opt.step(s.p, s.g);  // v = 0.5,            p = 1 − 0.05 = 0.95
  opt.step(s.p, s.g);  // v = 0.45 + 0.5 = 0.95, p = 0.95 − 0.095 = 0.855
  CHECK(s.p.data[0] == doctest::Approx(0.855));
}

TEST_CASE("adam: the first step moves every parameter by about lr, whatever the gradient's scale") {
  // t = 1: m = 0.1·g, v = 0.001·g², step = lr·√0.001/0.1, update = step·m/(√v + ε)
  //        = lr·√0.001/0.1 · 0.1·g / (√0.001·|g| + ε) ≈ lr·sign(g)
  for (float grad : {1e-3f, 1.0f, 1e3f}) {
    Stores s(1.0f, grad);
    Optimizer opt({.kind = OptimizerKind::adam, .lr = 0.01}, s.p);
    opt.step(s.p, s.g);
    CHECK(s.p.data[0] == doctest::Approx(0.99).epsilon(1e-4));
  }
  // Second step with the same gradient g = 1: m = 0.19, v = 0.001999, c1 = 0.19, c2 = 0.001999,
  // update = lr·√c2/c1 · m/(√v + ε) = lr·(√0.001999/0.19)·(0.19/√0.001999) = lr.
  Stores s(1.0f, 1.0f);
  Optimizer opt({.kind = OptimizerKind::adam, .lr = 0.01}, s.p);
  opt.step(s.p, s.g);
  opt.step(s.p, s.g);
  CHECK(s.p.data[0] == doctest::Approx(0.98).epsilon(1e-5));
  CHECK(opt.steps() == 2);
}

TEST_CASE("adamw decays the weights before the adam update") {
  Stores s(2.0f, 0.0f);
  Optimizer opt({.kind = OptimizerKind::adamw, .lr = 0.1, .weight_decay = 0.5}, s.p);
  opt.step(s.p, s.g);  // p = 2·(1 − 0.1·0.5) = 1.9; the gradient is 0, so adam adds nothing
  CHECK(s.p.data[0] == doctest::Approx(1.9));
}

TEST_CASE("invalid optimizer settings name the flag and the value") {
  Stores s(1.0f, 1.0f);
  CHECK_THROWS_WITH_AS(Optimizer({.lr = -1}, s.p), doctest::Contains("--lr"), UsageError);
  CHECK_THROWS_WITH_AS(Optimizer({.lr = std::nan("")}, s.p), doctest::Contains("--lr"), UsageError);
  CHECK_THROWS_WITH_AS(Optimizer({.beta2 = 1.0}, s.p), doctest::Contains("--beta2"), UsageError);
  CHECK_THROWS_WITH_AS(optimizer_from_string("rmsprop"), doctest::Contains("rmsprop"), UsageError);
}

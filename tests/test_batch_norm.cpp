// batch_norm against numbers worked out by hand (the arithmetic is written beside each check).
#include <doctest/doctest.h>

#include <cmath>

#include "graph/compile.hpp"
#include "graph/errors.hpp"
#include "graph/session.hpp"
#include "ops/batch_norm.hpp"

using namespace bnlab;

namespace {

// x [B,2] → batch_norm(gamma = (2, 1), beta = (1, 0), eps = 0.5), differentiated through `out`.
struct BnFixture {
  Graph g;
  Var x, out;
  BnFixture() {
    x = g.input("x", {batch, 2});
    auto gamma = g.parameter("gamma", {2}, Init::zeros());
    auto beta = g.parameter("beta", {2}, Init::zeros());
    out = batch_norm(x, gamma, beta, "bn", {.momentum = 0.1, .eps = 0.5});
  }
};

void fill(BasicSession<double>& s, const std::vector<double>& rows) {
  auto v = s.input("x").vec();
  for (size_t i = 0; i < rows.size(); ++i) v[static_cast<Eigen::Index>(i)] = rows[i];
}

void set_affine(BasicSession<double>& s) {
  auto& p = s.parameters();
  p.view(p.find("gamma")).vec() << 2, 1;
  p.view(p.find("beta")).vec() << 1, 0;
}

}  // namespace

TEST_CASE("batch_norm train output, running statistics after two updates, eval output") {
  BnFixture f;
  BasicSession<double> s(compile(f.g, f.out, {.backward = true, .input_gradients = true}));
  set_affine(s);
  s.set_batch(4);
  // Feature 1: x = 1, 2, 3, 6  → mean 3, deviations −2, −1, 0, 3, squares 4+1+0+9 = 14,
  //            biased var 14/4 = 3.5, var + eps = 4, 1/σ = 0.5, x̂ = −1, −0.5, 0, 1.5, y = 2x̂ + 1 = −1, 0, 1, 4.
  // Feature 2: x = 4, 9, 13, 14 → mean 10, deviations −6, −1, 3, 4, squares 36+1+9+16 = 62,
  //            biased var 15.5, var + eps = 16, 1/σ = 0.25, x̂ = −1.5, −0.25, 0.75, 1, y = x̂.
  fill(s, {1, 4, 2, 9, 3, 13, 6, 14});
  s.forward(Mode::train);
  const auto y = s.value(f.out.id);
  const double expected[4][2] = {{-1, -1.5}, {0, -0.25}, {1, 0.75}, {4, 1.0}};
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 2; ++c) CHECK(y(r, c) == doctest::Approx(expected[r][c]).epsilon(1e-12));

  // Running statistics after update 1 (momentum 0.1, start mean 0, var 1; unbiased var = squares/3):
  //   mean: 0.9·0 + 0.1·3 = 0.3            | 0.9·0 + 0.1·10 = 1.0
  //   var:  0.9·1 + 0.1·14/3 = 1.3666…     | 0.9·1 + 0.1·62/3 = 2.9666…
  auto& st = s.state();
  const auto rm = st.view(st.find("bn.running_mean")).vec();
  const auto rv = st.view(st.find("bn.running_var")).vec();
  CHECK(rm[0] == doctest::Approx(0.3));
  CHECK(rm[1] == doctest::Approx(1.0));
  CHECK(rv[0] == doctest::Approx(0.9 + 0.1 * 14.0 / 3.0));
  CHECK(rv[1] == doctest::Approx(0.9 + 0.1 * 62.0 / 3.0));

  // Update 2 with feature 1 = 0, 0, 0, 4 (mean 1, squares 1+1+1+9 = 12, unbiased 4) and feature 2 = 2, 2, 2, 2
  // (mean 2, variance 0):
  //   mean: 0.9·0.3 + 0.1·1 = 0.37          | 0.9·1.0 + 0.1·2 = 1.1
  //   var:  0.9·1.3666… + 0.1·4 = 1.63      | 0.9·2.9666… + 0 = 2.67
  fill(s, {0, 2, 0, 2, 0, 2, 4, 2});
  s.forward(Mode::train);
  CHECK(rm[0] == doctest::Approx(0.37));
  CHECK(rm[1] == doctest::Approx(1.1));
  CHECK(rv[0] == doctest::Approx(1.63));
  CHECK(rv[1] == doctest::Approx(2.67));

  // Eval on one sample (1, 4) uses the running statistics, and a batch of one is fine in eval:
  //   feature 1: 2·(1 − 0.37)/√(1.63 + 0.5) + 1 = 2·0.63/1.459452 + 1 = 1.863338
  //   feature 2: (4 − 1.1)/√(2.67 + 0.5) = 2.9/1.780449 = 1.628802
  s.set_batch(1);
  fill(s, {1, 4});
  s.forward(Mode::eval);
  CHECK(s.value(f.out.id)(0, 0) == doctest::Approx(1.863338).epsilon(1e-6));
  CHECK(s.value(f.out.id)(0, 1) == doctest::Approx(1.628802).epsilon(1e-6));
  CHECK(rm[0] == doctest::Approx(0.37));  // eval leaves the running statistics alone
}

TEST_CASE("batch_norm backward on a small case computed by hand") {
  BnFixture f;
  BasicSession<double> s(compile(f.g, f.out, {.backward = true, .input_gradients = true}));
  set_affine(s);
  s.set_batch(4);
  fill(s, {1, 4, 2, 9, 3, 13, 6, 14});
  s.forward(Mode::train);
  // Upstream gradient: feature 1 = (1, 0, 0, 0), feature 2 = (1, 1, 1, 1).
  const std::vector<double> seed = {1, 1, 0, 1, 0, 1, 0, 1};
  s.backward(seed);
  // Feature 1: γ = 2, 1/σ = 0.5, x̂ = (−1, −0.5, 0, 1.5), mean(g) = 0.25, mean(g·x̂) = −1/4 = −0.25.
  //   dx_i = γ·(1/σ)·(g_i − mean(g) − x̂_i·mean(g·x̂)) = 1·(g_i − 0.25 + 0.25·x̂_i)
  //        = (1 − 0.25 − 0.25, −0.25 − 0.125, −0.25 + 0, −0.25 + 0.375) = (0.5, −0.375, −0.25, 0.125)
  //   dγ = Σ g·x̂ = −1, dβ = Σ g = 1.
  // Feature 2: g constant → mean(g) = 1, mean(g·x̂) = mean(x̂) = 0, so dx = 0; dγ = Σ x̂ = 0, dβ = 4.
  const auto dx = s.grad(f.x.id);
  const double expected[4] = {0.5, -0.375, -0.25, 0.125};
  for (int r = 0; r < 4; ++r) {
    CHECK(dx(r, 0) == doctest::Approx(expected[r]).epsilon(1e-12));
    CHECK(std::abs(dx(r, 1)) < 1e-12);
  }
  const auto& grads = s.gradients();
  CHECK(grads.view(grads.find("gamma")).vec()[0] == doctest::Approx(-1.0));
  CHECK(std::abs(grads.view(grads.find("gamma")).vec()[1]) < 1e-12);
  CHECK(grads.view(grads.find("beta")).vec()[0] == doctest::Approx(1.0));
  CHECK(grads.view(grads.find("beta")).vec()[1] == doctest::Approx(4.0));
}

TEST_CASE("batch_norm refuses a training batch of one, names the node, and allows it in eval") {
  BnFixture f;
  Session s(compile(f.g, f.out));
  s.set_batch(1);
  s.input("x").vec() << 1, 2;
  try {
    s.forward(Mode::train);
    FAIL("expected an error");
  } catch (const UsageError& e) {
    const std::string msg = e.what();
    CHECK(msg.find("'bn'") != std::string::npos);
    CHECK(msg.find("batch_norm") != std::string::npos);
    CHECK(msg.find("at least 2") != std::string::npos);
  }
  CHECK_NOTHROW(s.forward(Mode::eval));
}

TEST_CASE("batch_norm defaults follow PyTorch, the keras preset follows Keras") {
  BnFixture f;
  const Node& bn = f.g.node(f.out.id);
  CHECK(bn.attrs[0] == 0.1);
  CHECK(bn.attrs[1] == 0.5);
  Graph g;
  auto x = g.input("x", {batch, 3});
  auto gamma = g.parameter("g", {3}, Init::constant(1));
  auto beta = g.parameter("b", {3}, Init::zeros());
  const Node& d = g.node(batch_norm(x, gamma, beta, "d").id);
  CHECK(d.attrs[0] == 0.1);
  CHECK(d.attrs[1] == 1e-5);
  const Node& k = g.node(batch_norm(x, gamma, beta, "k", BatchNormOptions::keras()).id);
  CHECK(k.attrs[0] == 0.01);
  CHECK(k.attrs[1] == 1e-3);
}

TEST_CASE("eval_batch_stats normalizes with the batch and leaves running statistics alone") {
  BnFixture f;
  BasicSession<double> s(compile(f.g, f.out));
  set_affine(s);
  s.set_batch(4);
  fill(s, {1, 4, 2, 9, 3, 13, 6, 14});
  s.forward(Mode::eval_batch_stats);
  CHECK(s.value(f.out.id)(3, 0) == doctest::Approx(4.0));
  const auto& st = s.state();
  CHECK(st.view(st.find("bn.running_mean")).vec()[0] == 0.0);
  CHECK(st.view(st.find("bn.running_var")).vec()[0] == 1.0);
}

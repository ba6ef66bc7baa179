// batch_norm against numbers worked out by hand (the arithmetic is written beside each check), and
// on [B,H,W,C] against a naive BatchNorm2d written with loops in the test.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "op_test_support.hpp"
#include "graph/compile.hpp"
#include "graph/errors.hpp"
#include "graph/random.hpp"
#include "graph/session.hpp"
#include "ops/batch_norm.hpp"

using namespace bnlab;
using namespace bnlab::test;

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
  CHECK_THROWS_WITH_AS(s.forward(Mode::train),
                       "node 'bn' (batch_norm): train mode needs at least 2 values per channel, got n = B = 1", UsageError);
  CHECK_THROWS_WITH_AS(s.forward(Mode::eval_batch_stats),
                       "node 'bn' (batch_norm): eval_batch_stats mode needs at least 2 values per channel, got n = B = 1",
                       UsageError);
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

// ---- [B,H,W,C]: BatchNorm2d is the same op, statistics per channel over b, h and w ----

namespace {

// A graph x [B,H,W,C] → batch_norm(gamma, beta) with momentum 0.1 and the given eps.
struct Bn2dFixture {
  Graph g;
  Var x, out;
  Bn2dFixture(int64_t h, int64_t w, int64_t c, double eps = 1e-5) {
    x = g.input("x", {batch, h, w, c});
    auto gamma = g.parameter("gamma", {c}, Init::zeros());
    auto beta = g.parameter("beta", {c}, Init::zeros());
    out = batch_norm(x, gamma, beta, "bn", {.momentum = 0.1, .eps = eps});
  }
};

// Naive BatchNorm2d in double, written from the definition with loops over b, h, w per channel on
// the NHWC index ((b·H + h)·W + w)·C + c. Keeps its own running statistics.
struct NaiveBn2d {
  int64_t B, H, W, C;
  double eps, momentum = 0.1;
  std::vector<double> gamma, beta, running_mean, running_var;
  NaiveBn2d(int64_t b, int64_t h, int64_t w, int64_t c, double e)
      : B(b), H(h), W(w), C(c), eps(e), gamma(static_cast<size_t>(c)), beta(static_cast<size_t>(c)),
        running_mean(static_cast<size_t>(c), 0.0), running_var(static_cast<size_t>(c), 1.0) {}
  size_t at(int64_t b, int64_t h, int64_t w, int64_t c) const { return static_cast<size_t>(((b * H + h) * W + w) * C + c); }

  // y for `mode`; `dx`, when given the upstream gradient `g`, gets dL/dx by the chain rule written
  // out per element (the training formula when batch statistics are used, γ·s·g in eval).
  std::vector<double> forward(const std::vector<double>& x, Mode mode, const std::vector<double>* g = nullptr,
                              std::vector<double>* dx = nullptr, std::vector<double>* dgamma = nullptr,
                              std::vector<double>* dbeta = nullptr) {
    std::vector<double> y(x.size());
    if (dx) dx->assign(x.size(), 0.0);
    if (dgamma) dgamma->assign(static_cast<size_t>(C), 0.0);
    if (dbeta) dbeta->assign(static_cast<size_t>(C), 0.0);
    const double n = static_cast<double>(B * H * W);
    for (int64_t c = 0; c < C; ++c) {
      double mean = 0, var = 0;
      for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t w = 0; w < W; ++w) mean += x[at(b, h, w, c)];
      mean /= n;
      for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t w = 0; w < W; ++w) var += (x[at(b, h, w, c)] - mean) * (x[at(b, h, w, c)] - mean);
      var /= n;
      const auto cc = static_cast<size_t>(c);
      if (mode == Mode::eval) {
        mean = running_mean[cc];
        var = running_var[cc];
      } else if (mode == Mode::train) {
        running_mean[cc] = 0.9 * running_mean[cc] + 0.1 * mean;
        running_var[cc] = 0.9 * running_var[cc] + 0.1 * var * n / (n - 1);
      }
      const double s = 1.0 / std::sqrt(var + eps);
      double sum_g = 0, sum_gxh = 0;
      for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t w = 0; w < W; ++w) {
            const size_t i = at(b, h, w, c);
            const double xh = (x[i] - mean) * s;
            y[i] = gamma[cc] * xh + beta[cc];
            if (g) {
              sum_g += (*g)[i];
              sum_gxh += (*g)[i] * xh;
            }
          }
      if (!g) continue;
      if (dgamma) (*dgamma)[cc] = sum_gxh;
      if (dbeta) (*dbeta)[cc] = sum_g;
      for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t w = 0; w < W; ++w) {
            const size_t i = at(b, h, w, c);
            const double xh = (x[i] - mean) * s;
            (*dx)[i] = mode == Mode::eval ? gamma[cc] * s * (*g)[i]
                                          : gamma[cc] * s * ((*g)[i] - sum_g / n - xh * sum_gxh / n);
          }
    }
    return y;
  }
};


// Runs the op at [2,3,3,4] in precision T against NaiveBn2d: train (twice, for the running
// statistics), backward, eval_batch_stats, eval.
template <class T>
void check_against_naive_bn2d(double rel) {
  const int64_t B = 2, H = 3, W = 3, C = 4;
  Bn2dFixture f(H, W, C);
  BasicSession<T> s(compile(f.g, f.out, {.backward = true, .input_gradients = true}));
  s.set_batch(B);
  NaiveBn2d ref(B, H, W, C, 1e-5);
  ref.gamma = {1.5, -0.5, 2.0, 0.75};
  ref.beta = {0.1, 0.2, -0.3, 0.0};
  auto& p = s.parameters();
  copy_into(p.view(p.find("gamma")), ref.gamma);
  copy_into(p.view(p.find("beta")), ref.beta);
  const size_t n = static_cast<size_t>(B * H * W * C);
  const auto x1 = uniform_values(11, n, -2.0, 3.0), x2 = uniform_values(12, n, -1.0, 1.0);
  const auto g = uniform_values(13, n, -1.0, 1.0);

  copy_into(s.input("x"), x1);
  s.forward(Mode::train);
  check_close<T>(s.value(f.out.id), ref.forward(x1, Mode::train), rel);

  // Step 2 with its backward.
  copy_into(s.input("x"), x2);
  s.forward(Mode::train);
  std::vector<double> dx, dgamma, dbeta;
  check_close<T>(s.value(f.out.id), ref.forward(x2, Mode::train, &g, &dx, &dgamma, &dbeta), rel);
  std::vector<T> seed(g.begin(), g.end());
  s.backward(seed);
  check_close<T>(s.grad(f.x.id), dx, rel);
  const auto& grads = s.gradients();
  check_close<T>(grads.view(grads.find("gamma")), dgamma, rel);
  check_close<T>(grads.view(grads.find("beta")), dbeta, rel);

  // Running statistics after two steps (unbiased with n = B·H·W = 18).
  const auto& st = s.state();
  check_close<T>(st.view(st.find("bn.running_mean")), ref.running_mean, rel);
  check_close<T>(st.view(st.find("bn.running_var")), ref.running_var, rel);

  copy_into(s.input("x"), x1);
  s.forward(Mode::eval_batch_stats);
  check_close<T>(s.value(f.out.id), ref.forward(x1, Mode::eval_batch_stats), rel);
  check_close<T>(st.view(st.find("bn.running_var")), ref.running_var, rel);  // untouched

  s.forward(Mode::eval);
  check_close<T>(s.value(f.out.id), ref.forward(x1, Mode::eval, &g, &dx), rel);
  s.backward(seed);
  check_close<T>(s.grad(f.x.id), dx, rel);
}

}  // namespace

TEST_CASE("batch_norm on [B,H,W,C] equals a naive BatchNorm2d (train, running stats, backward, eval)") {
  SUBCASE("double") { check_against_naive_bn2d<double>(1e-12); }
  SUBCASE("float") { check_against_naive_bn2d<float>(1e-6); }
}

TEST_CASE("batch_norm on [2,1,2,1] by hand: n = B·H·W = 4 values per channel") {
  Bn2dFixture f(1, 2, 1, /*eps=*/1.5);
  BasicSession<double> s(compile(f.g, f.out, {.backward = true, .input_gradients = true}));
  auto& p = s.parameters();
  p.view(p.find("gamma")).vec() << 2;
  p.view(p.find("beta")).vec() << 1;
  s.set_batch(2);
  // Sample 0: (1, 2), sample 1: (4, 5), one channel → mean 3, deviations −2, −1, 1, 2, squares 10,
  // biased var 10/4 = 2.5, var + eps = 4, s = 0.5, x̂ = −1, −0.5, 0.5, 1, y = 2x̂ + 1 = −1, 0, 2, 3.
  s.input("x").vec() << 1, 2, 4, 5;
  s.forward(Mode::train);
  const auto y = s.value(f.out.id).vec();
  const double want[4] = {-1, 0, 2, 3};
  for (int i = 0; i < 4; ++i) CHECK(y[i] == doctest::Approx(want[i]).epsilon(1e-12));
  // Running mean 0.9·0 + 0.1·3 = 0.3; running var unbiased over n = 4 (not B = 2):
  // 0.9·1 + 0.1·10/3 = 1.2333… (with n = B it would have been 0.9 + 0.1·2.5·2/1 = 1.4).
  const auto& st = s.state();
  CHECK(st.view(st.find("bn.running_mean")).vec()[0] == doctest::Approx(0.3));
  CHECK(st.view(st.find("bn.running_var")).vec()[0] == doctest::Approx(0.9 + 1.0 / 3.0));
  // g = (1, 0, 0, 0): mean(g) = 1/4, mean(g·x̂) = −1/4, γ·s = 1, so
  //   dx = g − 1/4 + x̂/4 = (1 − 0.25 − 0.25, −0.25 − 0.125, −0.25 + 0.125, −0.25 + 0.25) = (0.5, −0.375, −0.125, 0);
  //   dγ = Σ g·x̂ = −1, dβ = Σ g = 1.
  const std::vector<double> seed = {1, 0, 0, 0};
  s.backward(seed);
  const auto dx = s.grad(f.x.id).vec();
  const double want_dx[4] = {0.5, -0.375, -0.125, 0};
  for (int i = 0; i < 4; ++i) CHECK(dx[i] == doctest::Approx(want_dx[i]).epsilon(1e-12).scale(1.0));
  const auto& grads = s.gradients();
  CHECK(grads.view(grads.find("gamma")).vec()[0] == doctest::Approx(-1.0));
  CHECK(grads.view(grads.find("beta")).vec()[0] == doctest::Approx(1.0));
}

TEST_CASE("batch_norm on [B,H,W,C]: one value per channel is refused, one image of several pixels is not") {
  Bn2dFixture one(1, 1, 2);
  Session s(compile(one.g, one.out));
  s.set_batch(1);
  s.input("x").vec() << 1, 2;
  CHECK_THROWS_WITH_AS(s.forward(Mode::train),
                       "node 'bn' (batch_norm): train mode needs at least 2 values per channel, got n = B·H·W = 1·1·1 = 1",
                       UsageError);
  CHECK_NOTHROW(s.forward(Mode::eval));
  // B = 1 with H·W = 2: two values per channel, as PyTorch's BatchNorm2d allows.
  Bn2dFixture two(2, 1, 2);
  Session t(compile(two.g, two.out));
  t.set_batch(1);
  t.input("x").vec() << 1, 2, 3, 4;
  CHECK_NOTHROW(t.forward(Mode::train));
}

TEST_CASE("batch_norm shape errors on [B,H,W,C] name both shapes") {
  Graph g;
  auto x = g.input("x", {batch, 4, 4, 3});
  auto c3 = g.parameter("c3", {3}, Init::zeros());
  auto c4 = g.parameter("c4", {4}, Init::zeros());
  CHECK_THROWS_WITH_AS(batch_norm(x, c4, c3, "bn"), "node 'bn' (batch_norm): gamma must be [3] for input [B,4,4,3], got [4]",
                       ShapeError);
  CHECK_THROWS_WITH_AS(batch_norm(x, c3, c4, "bn"), "node 'bn' (batch_norm): beta must be [3] for input [B,4,4,3], got [4]",
                       ShapeError);
  auto x3 = g.input("x3", {batch, 4, 3});
  CHECK_THROWS_WITH_AS(batch_norm(x3, c3, c3, "bn"), "node 'bn' (batch_norm): input must be [B,F] or [B,H,W,C], got [B,4,3]",
                       ShapeError);
}

TEST_CASE("batch_norm on [B,H,W,C] with 40 channels: two threads give the bits of one") {
  // kFeatureGrain is 16 channels, so C = 40 splits into two parts of 20 (C = 4 would not split).
  const int64_t B = 4, H = 5, W = 5, C = 40;
  const size_t n = static_cast<size_t>(B * H * W * C);
  const auto x = uniform_values(21, n, -1.0, 2.0), gv = uniform_values(22, n, -1.0, 1.0);
  const std::vector<float> seed(gv.begin(), gv.end());
  std::vector<float> y[2], dx[2], dgamma[2], rv[2], y_eval[2];
  for (int threads : {1, 2}) {
    Bn2dFixture f(H, W, C);
    Session s(compile(f.g, f.out, {.backward = true, .input_gradients = true}), {.threads = threads});
    auto& p = s.parameters();
    copy_into(p.view(p.find("gamma")), uniform_values(23, static_cast<size_t>(C), 0.5, 1.5));
    s.set_batch(B);
    copy_into(s.input("x"), x);
    s.forward(Mode::train);
    s.backward(seed);
    const int t = threads - 1;
    const auto out = s.value(f.out.id), d = s.grad(f.x.id);
    y[t].assign(out.data, out.data + out.size());
    dx[t].assign(d.data, d.data + d.size());
    const auto dg = s.gradients().view(s.gradients().find("gamma"));
    dgamma[t].assign(dg.data, dg.data + dg.size());
    const auto r = s.state().view(s.state().find("bn.running_var"));
    rv[t].assign(r.data, r.data + r.size());
    s.forward(Mode::eval);
    const auto e = s.value(f.out.id);
    y_eval[t].assign(e.data, e.data + e.size());
  }
  CHECK(y[0] == y[1]);
  CHECK(dx[0] == dx[1]);
  CHECK(dgamma[0] == dgamma[1]);
  CHECK(rv[0] == rv[1]);
  CHECK(y_eval[0] == y_eval[1]);
}

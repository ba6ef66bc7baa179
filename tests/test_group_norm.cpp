// group_norm against a naive group norm written with loops in the test, against instance norm
// (G = C) and layer norm (G = 1, the layer_norm op on the flattened input) computed independently,
// and on a tiny case worked out by hand. (Its finite-difference check runs with every registered op
// in test_ops_gradcheck.)
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "op_test_support.hpp"
#include "graph/compile.hpp"
#include "graph/errors.hpp"
#include "graph/random.hpp"
#include "graph/session.hpp"
#include "models/layers.hpp"
#include "ops/group_norm.hpp"
#include "ops/layer_norm.hpp"

using namespace bnlab;
using namespace bnlab::test;

namespace {


// Group norm from the definition, in double: for each sample b and group g, loops over h, w and the
// group's channels on the NHWC index ((b·H + h)·W + w)·C + c. With `g`, also the gradients by the
// chain rule per element: dx = s·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)), dx̂ = g·γ_c.
struct NaiveGroupNorm {
  int64_t B, H, W, C, G;
  double eps;
  std::vector<double> gamma, beta;
  size_t at(int64_t b, int64_t h, int64_t w, int64_t c) const { return static_cast<size_t>(((b * H + h) * W + w) * C + c); }

  std::vector<double> forward(const std::vector<double>& x, const std::vector<double>* g = nullptr,
                              std::vector<double>* dx = nullptr, std::vector<double>* dgamma = nullptr,
                              std::vector<double>* dbeta = nullptr) const {
    std::vector<double> y(x.size()), xh(x.size());
    const int64_t cg = C / G;
    const double n = static_cast<double>(H * W * cg);
    if (dx) dx->assign(x.size(), 0.0);
    if (dgamma) dgamma->assign(static_cast<size_t>(C), 0.0);
    if (dbeta) dbeta->assign(static_cast<size_t>(C), 0.0);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t grp = 0; grp < G; ++grp) {
        double mean = 0, var = 0;
        for (int64_t h = 0; h < H; ++h)
          for (int64_t w = 0; w < W; ++w)
            for (int64_t c = grp * cg; c < (grp + 1) * cg; ++c) mean += x[at(b, h, w, c)];
        mean /= n;
        for (int64_t h = 0; h < H; ++h)
          for (int64_t w = 0; w < W; ++w)
            for (int64_t c = grp * cg; c < (grp + 1) * cg; ++c) var += std::pow(x[at(b, h, w, c)] - mean, 2);
        var /= n;
        const double s = 1.0 / std::sqrt(var + eps);
        double mean_d = 0, mean_dxh = 0;
        for (int64_t h = 0; h < H; ++h)
          for (int64_t w = 0; w < W; ++w)
            for (int64_t c = grp * cg; c < (grp + 1) * cg; ++c) {
              const size_t i = at(b, h, w, c);
              xh[i] = (x[i] - mean) * s;
              y[i] = gamma[static_cast<size_t>(c)] * xh[i] + beta[static_cast<size_t>(c)];
              if (!g) continue;
              const double d = (*g)[i] * gamma[static_cast<size_t>(c)];
              mean_d += d / n;
              mean_dxh += d * xh[i] / n;
              if (dgamma) (*dgamma)[static_cast<size_t>(c)] += (*g)[i] * xh[i];
              if (dbeta) (*dbeta)[static_cast<size_t>(c)] += (*g)[i];
            }
        if (!g) continue;
        for (int64_t h = 0; h < H; ++h)
          for (int64_t w = 0; w < W; ++w)
            for (int64_t c = grp * cg; c < (grp + 1) * cg; ++c) {
              const size_t i = at(b, h, w, c);
              (*dx)[i] = s * ((*g)[i] * gamma[static_cast<size_t>(c)] - mean_d - xh[i] * mean_dxh);
            }
      }
    return y;
  }
};

struct GnFixture {
  Graph g;
  Var x, out;
  // x [B,H,W,C], or [B,C] when h = w = 0.
  GnFixture(int64_t h, int64_t w, int64_t c, int64_t groups, double eps = 1e-5) {
    x = h == 0 ? g.input("x", {batch, c}) : g.input("x", {batch, h, w, c});
    auto gamma = g.parameter("gamma", {c}, Init::zeros());
    auto beta = g.parameter("beta", {c}, Init::zeros());
    out = group_norm(x, gamma, beta, groups, "gn", eps);
  }
};

// The op at [B,H,W,C] (or [B,C] when H = W = 0) in precision T against NaiveGroupNorm: forward in
// every mode (all the same), backward.
template <class T>
void check_against_naive(int64_t B, int64_t H, int64_t W, int64_t C, int64_t G, double rel) {
  GnFixture f(H, W, C, G);
  BasicSession<T> s(compile(f.g, f.out, {.backward = true, .input_gradients = true}));
  s.set_batch(B);
  NaiveGroupNorm ref{B, std::max<int64_t>(H, 1), std::max<int64_t>(W, 1), C, G, 1e-5,
                     uniform_values(31, static_cast<size_t>(C), -1.5, 1.5),
                     uniform_values(32, static_cast<size_t>(C), -0.5, 0.5)};
  auto& p = s.parameters();
  copy_into(p.view(p.find("gamma")), ref.gamma);
  copy_into(p.view(p.find("beta")), ref.beta);
  const size_t n = static_cast<size_t>(B * ref.H * ref.W * C);
  const auto x = uniform_values(33, n, -2.0, 3.0), g = uniform_values(34, n, -1.0, 1.0);
  copy_into(s.input("x"), x);
  std::vector<double> dx, dgamma, dbeta;
  const auto y = ref.forward(x, &g, &dx, &dgamma, &dbeta);
  const std::vector<T> seed(g.begin(), g.end());
  for (Mode mode : {Mode::train, Mode::eval, Mode::eval_batch_stats}) {
    CAPTURE(to_string(mode));
    s.forward(mode);
    check_close<T>(s.value(f.out.id), y, rel);
    s.backward(seed);
    check_close<T>(s.grad(f.x.id), dx, rel);
    const auto& grads = s.gradients();
    check_close<T>(grads.view(grads.find("gamma")), dgamma, rel);
    check_close<T>(grads.view(grads.find("beta")), dbeta, rel);
  }
}

}  // namespace

TEST_CASE("group_norm equals a naive group norm, forward and backward, in every mode") {
  SUBCASE("double [2,3,3,4] G = 2") { check_against_naive<double>(2, 3, 3, 4, 2, 1e-12); }
  SUBCASE("float [2,3,3,4] G = 2") { check_against_naive<float>(2, 3, 3, 4, 2, 1e-6); }
  SUBCASE("double [3,2,4,6] G = 3") { check_against_naive<double>(3, 2, 4, 6, 3, 1e-12); }
  SUBCASE("double [4,6] G = 2 (H = W = 1)") { check_against_naive<double>(4, 0, 0, 6, 2, 1e-12); }
  SUBCASE("float [1,4,4,8] G = 4, a batch of one") { check_against_naive<float>(1, 4, 4, 8, 4, 1e-6); }
}

TEST_CASE("group_norm with G = C is instance norm") {
  const int64_t B = 2, H = 3, W = 2, C = 3;
  GnFixture f(H, W, C, C);
  BasicSession<double> s(compile(f.g, f.out));
  s.set_batch(B);
  const std::vector<double> gamma = {2.0, -1.0, 0.5}, beta = {0.5, 0.0, -1.0};
  auto& p = s.parameters();
  copy_into(p.view(p.find("gamma")), gamma);
  copy_into(p.view(p.find("beta")), beta);
  const auto x = uniform_values(41, static_cast<size_t>(B * H * W * C), -1.0, 4.0);
  copy_into(s.input("x"), x);
  s.forward(Mode::train);
  // Instance norm: per sample and channel, mean and biased variance over the H·W pixels.
  std::vector<double> want(x.size());
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c) {
      auto at = [&](int64_t pixel) { return static_cast<size_t>((b * H * W + pixel) * C + c); };
      double mean = 0, var = 0;
      for (int64_t q = 0; q < H * W; ++q) mean += x[at(q)] / static_cast<double>(H * W);
      for (int64_t q = 0; q < H * W; ++q) var += (x[at(q)] - mean) * (x[at(q)] - mean) / static_cast<double>(H * W);
      for (int64_t q = 0; q < H * W; ++q)
        want[at(q)] = gamma[static_cast<size_t>(c)] * (x[at(q)] - mean) / std::sqrt(var + 1e-5) + beta[static_cast<size_t>(c)];
    }
  check_close<double>(s.value(f.out.id), want, 1e-12);
}

TEST_CASE("group_norm with G = 1 is layer_norm over (H, W, C) of the flattened input (gamma 1, beta 0)") {
  const int64_t B = 3, H = 2, W = 3, C = 4, F = H * W * C;
  GnFixture f(H, W, C, 1);
  BasicSession<double> s(compile(f.g, f.out, {.backward = true, .input_gradients = true}));
  copy_into(s.parameters().view(s.parameters().find("gamma")), std::vector<double>(static_cast<size_t>(C), 1.0));
  Graph lg;
  auto lx = lg.input("x", {batch, F});
  auto ln = layer_norm(lx, lg.parameter("gamma", {F}, Init::constant(1)), lg.parameter("beta", {F}, Init::zeros()), "ln");
  BasicSession<double> l(compile(lg, ln, {.backward = true, .input_gradients = true}));
  s.set_batch(B);
  l.set_batch(B);
  const auto x = uniform_values(51, static_cast<size_t>(B * F), -3.0, 1.0), g = uniform_values(52, static_cast<size_t>(B * F), -1, 1);
  copy_into(s.input("x"), x);
  copy_into(l.input("x"), x);
  s.forward(Mode::train);
  l.forward(Mode::train);
  const auto want_y = l.value(ln.id);
  check_close<double>(s.value(f.out.id), std::vector<double>(want_y.data, want_y.data + want_y.size()), 1e-12);
  s.backward(g);
  l.backward(g);
  const auto want_dx = l.grad(lx.id);
  check_close<double>(s.grad(f.x.id), std::vector<double>(want_dx.data, want_dx.data + want_dx.size()), 1e-12);
}

TEST_CASE("group_norm on [1,1,2,4] with G = 2 by hand") {
  GnFixture f(1, 2, 4, 2, /*eps=*/1.5);
  BasicSession<double> s(compile(f.g, f.out, {.backward = true, .input_gradients = true}));
  auto& p = s.parameters();
  p.view(p.find("gamma")).vec() << 1, 2, 3, -1;
  p.view(p.find("beta")).vec() << 0, 1, 0, 2;
  s.set_batch(1);
  // Pixel w0 = (1, 2, 8, 12), pixel w1 = (4, 5, 9, 11); group 0 = channels 0, 1, group 1 = channels 2, 3.
  // Group 0: 1, 2, 4, 5 → mean 3, deviations −2, −1, 1, 2, biased var 10/4 = 2.5, + eps = 4, s = 0.5,
  //          x̂ (w0c0, w0c1, w1c0, w1c1) = (−1, −0.5, 0.5, 1).
  // Group 1: 8, 12, 9, 11 → mean 10, deviations −2, 2, −1, 1, var 2.5, s = 0.5,
  //          x̂ (w0c2, w0c3, w1c2, w1c3) = (−1, 1, −0.5, 0.5).
  // y = γ_c·x̂ + β_c with γ = (1, 2, 3, −1), β = (0, 1, 0, 2):
  //   w0: (−1, 2·(−0.5) + 1, 3·(−1), −1·1 + 2) = (−1, 0, −3, 1)
  //   w1: (0.5, 2·1 + 1, 3·(−0.5), −0.5 + 2)   = (0.5, 3, −1.5, 1.5)
  s.input("x").vec() << 1, 2, 8, 12, 4, 5, 9, 11;
  s.forward(Mode::train);
  const double want_y[8] = {-1, 0, -3, 1, 0.5, 3, -1.5, 1.5};
  const auto y = s.value(f.out.id).vec();
  for (int i = 0; i < 8; ++i) CHECK(y[i] == doctest::Approx(want_y[i]).epsilon(1e-12).scale(1.0));
  const auto inv_std = s.saved(f.out.id, "inv_std").vec();
  CHECK(inv_std[0] == doctest::Approx(0.5));
  CHECK(inv_std[1] == doctest::Approx(0.5));

  // g: w0 = (1, 0, 0, 0), w1 = (0, 0, 1, 1).
  //   dβ_c = Σ g = (1, 0, 1, 1);  dγ_c = Σ g·x̂ = (1·(−1), 0, 1·(−0.5), 1·0.5) = (−1, 0, −0.5, 0.5).
  //   dx̂ = g·γ: w0 = (1, 0, 0, 0), w1 = (0, 0, 3, −1).
  //   Group 0: dx̂ = (1, 0, 0, 0) over (w0c0, w0c1, w1c0, w1c1), mean(dx̂) = 0.25, mean(dx̂·x̂) = −1/4;
  //            dx = 0.5·(dx̂ − 0.25 + 0.25·x̂) = (0.25, −0.1875, −0.0625, 0).
  //   Group 1: dx̂ = (0, 0, 3, −1) over (w0c2, w0c3, w1c2, w1c3), mean(dx̂) = 0.5,
  //            mean(dx̂·x̂) = (3·(−0.5) + (−1)·0.5)/4 = −0.5; dx = 0.5·(dx̂ − 0.5 + 0.5·x̂)
  //            = (0.5·(−1), 0.5·0, 0.5·(3 − 0.5 − 0.25), 0.5·(−1 − 0.5 + 0.25)) = (−0.5, 0, 1.125, −0.625).
  //   (Each group's dx sums to 0, as it must: shifting a group does not change its output.)
  const std::vector<double> seed = {1, 0, 0, 0, 0, 0, 1, 1};
  s.backward(seed);
  const double want_dx[8] = {0.25, -0.1875, -0.5, 0, -0.0625, 0, 1.125, -0.625};
  const auto dx = s.grad(f.x.id).vec();
  for (int i = 0; i < 8; ++i) CHECK(dx[i] == doctest::Approx(want_dx[i]).epsilon(1e-12).scale(1.0));
  const auto& grads = s.gradients();
  const auto dgamma = grads.view(grads.find("gamma")).vec();
  const auto dbeta = grads.view(grads.find("beta")).vec();
  const double want_dgamma[4] = {-1, 0, -0.5, 0.5}, want_dbeta[4] = {1, 0, 1, 1};
  for (int c = 0; c < 4; ++c) {
    CHECK(dgamma[c] == doctest::Approx(want_dgamma[c]).scale(1.0));
    CHECK(dbeta[c] == doctest::Approx(want_dbeta[c]).scale(1.0));
  }
}

TEST_CASE("group_norm shape errors name what was wrong and the shapes") {
  Graph g;
  auto x = g.input("x", {batch, 4, 4, 8});
  auto c8 = g.parameter("c8", {8}, Init::zeros());
  auto c4 = g.parameter("c4", {4}, Init::zeros());
  CHECK_THROWS_WITH_AS(group_norm(x, c8, c8, 3, "gn"),
                       "node 'gn' (group_norm): groups G = 3 must divide the channels C = 8 of input [B,4,4,8]", ShapeError);
  CHECK_THROWS_WITH_AS(group_norm(x, c8, c8, 0, "gn"), "node 'gn' (group_norm): groups must be a positive integer, got 0",
                       ShapeError);
  CHECK_THROWS_WITH_AS(group_norm(x, c4, c8, 2, "gn"), "node 'gn' (group_norm): gamma must be [8] for input [B,4,4,8], got [4]",
                       ShapeError);
  CHECK_THROWS_WITH_AS(group_norm(x, c8, c4, 2, "gn"), "node 'gn' (group_norm): beta must be [8] for input [B,4,4,8], got [4]",
                       ShapeError);
  auto x3 = g.input("x3", {batch, 4, 8});
  CHECK_THROWS_WITH_AS(group_norm(x3, c8, c8, 2, "gn"), "node 'gn' (group_norm): input must be [B,H,W,C] or [B,C], got [B,4,8]",
                       ShapeError);
  CHECK_THROWS_WITH_AS(group_norm(x, c8, c8, 2, "gn", 0.0), "node 'gn' (group_norm): eps must be positive, got 0.000000",
                       ShapeError);
}

TEST_CASE("group_norm_layer: gamma 1, beta 0, one per channel") {
  Graph g;
  auto x = g.input("x", {batch, 4, 4, 8});
  auto y = group_norm_layer(x, 4, "gn1");
  CHECK(y.shape() == Shape{batch, 4, 4, 8});
  Session s(compile(g, y));
  auto& p = s.parameters();
  CHECK(p.view(p.find("gn1.gamma")).vec().size() == 8);
  CHECK((p.view(p.find("gn1.gamma")).vec() == 1.0f).all());
  CHECK((p.view(p.find("gn1.beta")).vec() == 0.0f).all());
}

TEST_CASE("group_norm: two threads give the bits of one") {
  // 16 samples of 16·16·16 values: the sample grain (16384 values a part) makes two parts of 8.
  const int64_t B = 16, H = 16, W = 16, C = 16, G = 4;
  const size_t n = static_cast<size_t>(B * H * W * C);
  const auto x = uniform_values(61, n, -1.0, 2.0), gv = uniform_values(62, n, -1.0, 1.0);
  const std::vector<float> seed(gv.begin(), gv.end());
  std::vector<float> y[2], dx[2], dgamma[2], dbeta[2];
  for (int threads : {1, 2}) {
    GnFixture f(H, W, C, G);
    Session s(compile(f.g, f.out, {.backward = true, .input_gradients = true}), {.threads = threads});
    auto& p = s.parameters();
    copy_into(p.view(p.find("gamma")), uniform_values(63, static_cast<size_t>(C), 0.5, 1.5));
    s.set_batch(B);
    copy_into(s.input("x"), x);
    s.forward(Mode::train);
    s.backward(seed);
    const int t = threads - 1;
    const auto out = s.value(f.out.id), d = s.grad(f.x.id);
    y[t].assign(out.data, out.data + out.size());
    dx[t].assign(d.data, d.data + d.size());
    const auto dg = s.gradients().view(s.gradients().find("gamma"));
    const auto db = s.gradients().view(s.gradients().find("beta"));
    dgamma[t].assign(dg.data, dg.data + dg.size());
    dbeta[t].assign(db.data, db.data + db.size());
  }
  CHECK(y[0] == y[1]);
  CHECK(dx[0] == dx[1]);
  CHECK(dgamma[0] == dgamma[1]);
  CHECK(dbeta[0] == dbeta[1]);
}

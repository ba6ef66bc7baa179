// conv2d against a case worked out by hand and against a naive 7-loop convolution (and its naive
// backward) written here, in float and double, with and without the bias; 'same' padding; a
// pointwise conv; gradients that accumulate from two consumers; threads; the shape errors. (The finite-difference gradient check
// runs on its example with every registered op in test_ops_gradcheck.)
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "graph/compile.hpp"
#include "graph/errors.hpp"
#include "graph/random.hpp"
#include "graph/session.hpp"
#include "ops/add.hpp"
#include "ops/conv2d.hpp"

using namespace bnlab;

namespace {

struct Dims {
  int64_t B, H, W, C, kh, kw, F;
  Conv2dOptions o;
  bool bias = false;
  int64_t Ho() const { return (H + 2 * o.pad_h - kh) / o.stride_h + 1; }
  int64_t Wo() const { return (W + 2 * o.pad_w - kw) / o.stride_w + 1; }
};

// x [B,H,W,C], w [kh,kw,C,F], out [B,Ho,Wo,F], all row-major, in double.
double at_x(const Dims& d, const std::vector<double>& x, int64_t b, int64_t y, int64_t xx, int64_t c) {
  if (y < 0 || y >= d.H || xx < 0 || xx >= d.W) return 0;  // zero padding
  return x[static_cast<size_t>(((b * d.H + y) * d.W + xx) * d.C + c)];
}

// b: the bias [F], or empty.
std::vector<double> naive_forward(const Dims& d, const std::vector<double>& x, const std::vector<double>& w,
                                  const std::vector<double>& bias = {}) {
  std::vector<double> out(static_cast<size_t>(d.B * d.Ho() * d.Wo() * d.F), 0.0);
  for (int64_t b = 0; b < d.B; ++b)
    for (int64_t i = 0; i < d.Ho(); ++i)
      for (int64_t j = 0; j < d.Wo(); ++j)
        for (int64_t f = 0; f < d.F; ++f) {
          double s = bias.empty() ? 0.0 : bias[static_cast<size_t>(f)];
          for (int64_t dy = 0; dy < d.kh; ++dy)
            for (int64_t dx = 0; dx < d.kw; ++dx)
              for (int64_t c = 0; c < d.C; ++c)
                s += at_x(d, x, b, i * d.o.stride_h - d.o.pad_h + dy, j * d.o.stride_w - d.o.pad_w + dx, c) *
                     w[static_cast<size_t>(((dy * d.kw + dx) * d.C + c) * d.F + f)];
          out[static_cast<size_t>(((b * d.Ho() + i) * d.Wo() + j) * d.F + f)] = s;
        }
  return out;
}

// The same loops, each product's contribution sent back along both its factors:
//   out += xpad·w  ⇒  dx[input element] += g·w,  dw[dy,dx,c,f] += g·xpad  (padding gets nothing);
//   out += b[f]    ⇒  db[f] += g.
void naive_backward(const Dims& d, const std::vector<double>& x, const std::vector<double>& w, const std::vector<double>& g,
                    std::vector<double>& dx, std::vector<double>& dw, std::vector<double>* db = nullptr) {
  dx.assign(x.size(), 0.0);
  dw.assign(w.size(), 0.0);
  if (db) db->assign(static_cast<size_t>(d.F), 0.0);
  for (int64_t b = 0; b < d.B; ++b)
    for (int64_t i = 0; i < d.Ho(); ++i)
      for (int64_t j = 0; j < d.Wo(); ++j)
        for (int64_t f = 0; f < d.F; ++f) {
          const double gv = g[static_cast<size_t>(((b * d.Ho() + i) * d.Wo() + j) * d.F + f)];
          if (db) (*db)[static_cast<size_t>(f)] += gv;
          for (int64_t dy = 0; dy < d.kh; ++dy)
            for (int64_t ddx = 0; ddx < d.kw; ++ddx)
              for (int64_t c = 0; c < d.C; ++c) {
                const int64_t y = i * d.o.stride_h - d.o.pad_h + dy, xx = j * d.o.stride_w - d.o.pad_w + ddx;
                const size_t wi = static_cast<size_t>(((dy * d.kw + ddx) * d.C + c) * d.F + f);
                if (y < 0 || y >= d.H || xx < 0 || xx >= d.W) continue;
                const size_t xi = static_cast<size_t>(((b * d.H + y) * d.W + xx) * d.C + c);
                dx[xi] += gv * w[wi];
                dw[wi] += gv * x[xi];
              }
        }
}

std::vector<double> random_values(size_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<double> v(n);
  for (double& e : v) e = rng.normal();
  return v;
}

// Every element of `got` within tol·max(1, |expected|) of `expected`; returns the largest such ratio.
template <class View>
double max_error(const View& got, const std::vector<double>& expected) {
  REQUIRE(static_cast<size_t>(got.size()) == expected.size());
  double worst = 0;
  for (size_t k = 0; k < expected.size(); ++k)
    worst = std::max(worst, std::abs(static_cast<double>(got.data[k]) - expected[k]) / std::max(1.0, std::abs(expected[k])));
  return worst;
}

struct Result {
  std::vector<double> out, dx, dw, db;  // db: empty without a bias
};

// conv2d of d on random x, w, bias and seed (fixed by `seed`), forward and backward, in precision T.
template <class T>
Result run_conv(const Dims& d, uint64_t seed, int threads = 1, std::vector<double>* x_out = nullptr,
                std::vector<double>* w_out = nullptr, std::vector<double>* g_out = nullptr,
                std::vector<double>* b_out = nullptr) {
  Graph g;
  auto x = g.input("x", {batch, d.H, d.W, d.C});
  auto w = g.parameter("w", {d.kh, d.kw, d.C, d.F}, Init::zeros());
  auto y = d.bias ? conv2d(x, w, g.parameter("b", {d.F}, Init::zeros()), "conv", d.o) : conv2d(x, w, "conv", d.o);
  REQUIRE(y.shape() == Shape{batch, d.Ho(), d.Wo(), d.F});
  BasicSession<T> s(compile(g, y.id, {.input_gradients = true}), {.threads = threads});
  s.set_batch(d.B);
  const auto xv = random_values(static_cast<size_t>(d.B * d.H * d.W * d.C), seed);
  const auto wv = random_values(static_cast<size_t>(d.kh * d.kw * d.C * d.F), seed + 1);
  const auto gv = random_values(static_cast<size_t>(d.B * d.Ho() * d.Wo() * d.F), seed + 2);
  std::transform(xv.begin(), xv.end(), s.input("x").data, [](double v) { return static_cast<T>(v); });
  auto& p = s.parameters();
  std::transform(wv.begin(), wv.end(), p.view(p.find("w")).data, [](double v) { return static_cast<T>(v); });
  const auto bv = d.bias ? random_values(static_cast<size_t>(d.F), seed + 3) : std::vector<double>{};
  if (d.bias) std::transform(bv.begin(), bv.end(), p.view(p.find("b")).data, [](double v) { return static_cast<T>(v); });
  std::vector<T> seed_t(gv.size());
  std::transform(gv.begin(), gv.end(), seed_t.begin(), [](double v) { return static_cast<T>(v); });
  s.forward(Mode::train);
  Result r;
  const auto out = s.value(y.id);
  r.out.assign(out.data, out.data + out.size());
  s.backward(seed_t);
  const auto dx = s.grad(x.id);
  r.dx.assign(dx.data, dx.data + dx.size());
  const auto dw = s.gradients().view(s.gradients().find("w"));
  r.dw.assign(dw.data, dw.data + dw.size());
  if (d.bias) {
    const auto db = s.gradients().view(s.gradients().find("b"));
    r.db.assign(db.data, db.data + db.size());
  }
  if (x_out) *x_out = xv;
  if (b_out) *b_out = bv;
  if (w_out) *w_out = wv;
  if (g_out) *g_out = gv;
  return r;
}

// The largest |got − expected| / bound over the elements (a bound of 0 asks for equality).
template <class View>
double bounded_error(const View& got, const std::vector<double>& expected, const std::vector<double>& bound) {
  REQUIRE(static_cast<size_t>(got.size()) == expected.size());
  double worst = 0;
  for (size_t k = 0; k < expected.size(); ++k) {
    const double e = std::abs(static_cast<double>(got.data[k]) - expected[k]);
    worst = std::max(worst, bound[k] > 0 ? e / bound[k] : (e > 0 ? HUGE_VAL : 0.0));
  }
  return worst;
}

// Compares run_conv<T> against the naive loops (in double, on the unrounded values), within
// the worst-case rounding error of the sums T computes (Higham, "Accuracy and Stability of
// Numerical Algorithms", §3.1): a sum of n products of inputs rounded to T is off by at most
//   γ_{n+3} · Σ|terms|,   γ_k = k·u / (1 − k·u),   u = the unit roundoff of T (2⁻²⁴, 2⁻⁵³)
// (+3: the rounding of both factors and of the bias), whatever the order of the additions, FMA or
// not. Σ|terms| per element is the naive loops run on |x|, |w|, |g|; n the longest sum: kh·kw·C
// for out, kh·kw·F for dx, B·Ho·Wo for dw and dbias. An index or padding mistake moves an element
// by a whole term, far more than this bound.
template <class T>
void check_against_naive(const Dims& d) {
  std::vector<double> x, w, g, b;
  const Result r = run_conv<T>(d, 11, 1, &x, &w, &g, &b);
  const auto out = naive_forward(d, x, w, b);
  std::vector<double> dx, dw, db;
  naive_backward(d, x, w, g, dx, dw, &db);
  const auto abs_of = [](std::vector<double> v) {
    for (double& e : v) e = std::abs(e);
    return v;
  };
  const auto out_abs = naive_forward(d, abs_of(x), abs_of(w), abs_of(b));
  std::vector<double> dx_abs, dw_abs, db_abs;
  naive_backward(d, abs_of(x), abs_of(w), abs_of(g), dx_abs, dw_abs, &db_abs);
  const double n = static_cast<double>(std::max({d.kh * d.kw * d.C, d.kh * d.kw * d.F, d.B * d.Ho() * d.Wo()}) + 3);
  const double u = std::numeric_limits<T>::epsilon() / 2, gamma = n * u / (1 - n * u);
  const auto bound = [&](std::vector<double> v) {
    for (double& e : v) e *= gamma;
    return v;
  };
  struct V { const double* data; int64_t n; int64_t size() const { return n; } };
  auto view = [](const std::vector<double>& v) { return V{v.data(), static_cast<int64_t>(v.size())}; };
  CHECK(bounded_error(view(r.out), out, bound(out_abs)) <= 1);
  CHECK(bounded_error(view(r.dx), dx, bound(dx_abs)) <= 1);
  CHECK(bounded_error(view(r.dw), dw, bound(dw_abs)) <= 1);
  if (d.bias) CHECK(bounded_error(view(r.db), db, bound(db_abs)) <= 1);
}

// check_against_naive with and without the bias.
template <class T>
void check_both(Dims d) {
  d.bias = false;
  check_against_naive<T>(d);
  d.bias = true;
  check_against_naive<T>(d);
}

}  // namespace

TEST_CASE("conv2d: a 3x3 image and a 2x2 kernel worked out by hand, forward and backward") {
  // x = 1 2 3    w = 1 2    out[i,j] = Σ x[i+dy, j+dx]·w[dy,dx]:
  //     4 5 6        3 4    out = 1+4+12+20  2+6+15+24  = 37 47
  //     7 8 9                     4+10+21+32 5+12+24+36   67 77
  Graph g;
  auto x = g.input("x", {batch, 3, 3, 1});
  auto w = g.parameter("w", {2, 2, 1, 1}, Init::zeros());
  auto y = conv2d(x, w, "conv");
  REQUIRE(y.shape() == Shape{batch, 2, 2, 1});
  BasicSession<double> s(compile(g, y.id, {.input_gradients = true}));
  s.set_batch(1);
  s.input("x").vec() << 1, 2, 3, 4, 5, 6, 7, 8, 9;
  s.parameters().view(s.parameters().find("w")).vec() << 1, 2, 3, 4;
  s.forward(Mode::train);
  const auto out = s.value(y.id).vec();
  CHECK(out[0] == 37);
  CHECK(out[1] == 47);
  CHECK(out[2] == 67);
  CHECK(out[3] == 77);
  // Upstream gradient g = 1 0 (ones at output pixels (0,0) and (1,1)):
  //                       0 1
  //   dw[dy,dx] = Σ_ij g[i,j]·x[i+dy, j+dx] = x[dy,dx] + x[1+dy,1+dx] = 1+5 2+6 = 6  8
  //                                                                    4+8 5+9   12 14
  //   dx = w placed at (0,0) plus w placed at (1,1) = 1 2 0
  //                                                   3 4+1 2
  //                                                   0 3 4
  const std::vector<double> seed = {1, 0, 0, 1};
  s.backward(seed);
  const auto dw = s.gradients().view(s.gradients().find("w")).vec();
  CHECK(dw[0] == 6);
  CHECK(dw[1] == 8);
  CHECK(dw[2] == 12);
  CHECK(dw[3] == 14);
  const auto dx = s.grad(x.id).vec();
  const double expected[9] = {1, 2, 0, 3, 5, 2, 0, 3, 4};
  for (int k = 0; k < 9; ++k) CHECK(dx[k] == expected[k]);
}

TEST_CASE("conv2d with a bias by hand: the bias is added to every output pixel, dbias sums dL/dout") {
  // The 3x3 image and 2x2 kernel above, two filters: filter 0 is w, filter 1 is −w, bias = (10, 1):
  //   out0 = 37+10 47+10 = 47 57     out1 = −37+1 −47+1 = −36 −46
  //          67+10 77+10   77 87            −67+1 −77+1   −66 −76
  Graph g;
  auto x = g.input("x", {batch, 3, 3, 1});
  auto w = g.parameter("w", {2, 2, 1, 2}, Init::zeros());
  auto b = g.parameter("b", {2}, Init::zeros());
  auto y = conv2d(x, w, b, "conv");
  REQUIRE(y.shape() == Shape{batch, 2, 2, 2});
  BasicSession<double> s(compile(g, y.id, {.input_gradients = true}));
  s.set_batch(1);
  s.input("x").vec() << 1, 2, 3, 4, 5, 6, 7, 8, 9;
  s.parameters().view(s.parameters().find("w")).vec() << 1, -1, 2, -2, 3, -3, 4, -4;  // [dy,dx,c,f]
  s.parameters().view(s.parameters().find("b")).vec() << 10, 1;
  s.forward(Mode::train);
  const double out[8] = {47, -36, 57, -46, 77, -66, 87, -76};  // [i,j,f]
  for (int k = 0; k < 8; ++k) CHECK(s.value(y.id).vec()[k] == out[k]);
  // g = 1 0 on filter 0 (as above) and 1 2 on filter 1: dbias = (1+0+0+1, 1+2+3+4) = (2, 10);
  //     0 1                          3 4
  // dw of filter 0 is the hand case's 6 8 12 14; of filter 1, Σ_ij g1[i,j]·x[i+dy, j+dx]:
  //   dy,dx = 0,0: 1·1+2·2+3·4+4·5 = 37;  0,1: 1·2+2·3+3·5+4·6 = 47;  1,0: 67;  1,1: 77.
  // dx = the hand case's (filter 0) − (g1 spread by w): −(g1 ∗ᵀ w) = −( 1  4  4)
  //                                                                  ( 6 20 16)
  //                                                                  ( 9 24 16)
  s.backward(std::vector<double>{1, 1, 0, 2, 0, 3, 1, 4});
  const auto db = s.gradients().view(s.gradients().find("b")).vec();
  CHECK(db[0] == 2);
  CHECK(db[1] == 10);
  const double dw[8] = {6, 37, 8, 47, 12, 67, 14, 77};
  for (int k = 0; k < 8; ++k) CHECK(s.gradients().view(s.gradients().find("w")).vec()[k] == dw[k]);
  const double dx[9] = {1 - 1, 2 - 4, 0 - 4, 3 - 6, 5 - 20, 2 - 16, 0 - 9, 3 - 24, 4 - 16};
  for (int k = 0; k < 9; ++k) CHECK(s.grad(x.id).vec()[k] == dx[k]);
}

TEST_CASE("conv2d: padding 1 by hand (the border sees zeros)") {
  // x = 1 2  padded by one zero on every side, a 2x2 kernel of ones: the 3x3 output is the sums of
  //     3 4  the 2x2 windows of the padded 4x4 grid, out = 0+0+0+1  0+0+1+2  0+0+2+0  =  1  3 2
  //                                                      0+1+0+3  1+2+3+4  2+0+4+0     4 10 6
  //                                                      0+3+0+0  3+4+0+0  4+0+0+0     3  7 4
  Graph g;
  auto x = g.input("x", {batch, 2, 2, 1});
  auto w = g.parameter("w", {2, 2, 1, 1}, Init::constant(1));
  auto y = conv2d(x, w, "conv", {.pad_h = 1, .pad_w = 1});
  REQUIRE(y.shape() == Shape{batch, 3, 3, 1});
  BasicSession<double> s(compile(g, y.id, {.input_gradients = true}));
  s.set_batch(1);
  s.input("x").vec() << 1, 2, 3, 4;
  s.forward(Mode::train);
  const auto out = s.value(y.id).vec();
  const double expected[9] = {1, 3, 2, 4, 10, 6, 3, 7, 4};
  for (int k = 0; k < 9; ++k) CHECK(out[k] == expected[k]);
  // With g = 1 everywhere each input pixel is under 4 windows (every 2x2 window of the 3x3 padded
  // grid positions), so dx = 4; dw[dy,dx] = Σ of the inputs each kernel tap sees = 1+2+3+4 = 10.
  s.backward(std::vector<double>(9, 1.0));
  for (int k = 0; k < 4; ++k) CHECK(s.grad(x.id).vec()[k] == 4);
  for (int k = 0; k < 4; ++k) CHECK(s.gradients().view(s.gradients().find("w")).vec()[k] == 10);
}

TEST_CASE("conv2d against the naive loops: stride 2, padding 1, 3x2 kernel, non-square image, float and double") {
  // Ho = ⌊(15 + 2 − 3)/2⌋ + 1 = 8, Wo = ⌊(12 + 2 − 2)/2⌋ + 1 = 7; 11 images make several pieces of
  // work and several partial sums of dweight (one piece is 5 images of 56 pixels), the last one short.
  const Dims d{11, 15, 12, 3, 3, 2, 4, {.stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1}};
  SUBCASE("double") { check_both<double>(d); }
  SUBCASE("float") { check_both<float>(d); }
  SUBCASE("one image, fewer pieces than partial sums") {
    const Dims one{1, 15, 12, 3, 3, 2, 4, d.o};
    check_both<double>(one);
  }
}

TEST_CASE("conv2d against the naive loops: unequal strides and paddings, 1x1, larger than one tile") {
  check_both<double>({3, 9, 7, 2, 2, 3, 5, {.stride_h = 1, .stride_w = 3, .pad_h = 0, .pad_w = 2}});
  check_both<double>({2, 6, 5, 3, 4, 4, 2, {.stride_h = 3, .stride_w = 2, .pad_h = 2, .pad_w = 1}});
  check_both<double>({3, 20, 20, 2, 5, 5, 3, {.stride_h = 1, .stride_w = 1, .pad_h = 2, .pad_w = 2}});
  // One channel (its own im2col): strides 2 and 3, a padding of 2 wider than the kernel's 2 columns.
  check_both<double>({3, 9, 8, 1, 3, 2, 5, {.stride_h = 2, .stride_w = 3, .pad_h = 2, .pad_w = 2}});
  check_both<float>({2, 7, 10, 1, 4, 3, 2, {.stride_h = 1, .stride_w = 2, .pad_h = 3, .pad_w = 1}});
  // Pointwise: no im2col, the product reads x itself, and "columns" is empty.
  check_both<double>({4, 5, 3, 6, 1, 1, 7, {}});
  check_both<float>({4, 5, 3, 6, 1, 1, 7, {}});
  // 1x1 with a stride is not pointwise: it goes through im2col.
  check_both<double>({4, 5, 3, 6, 1, 1, 7, {.stride_h = 2, .stride_w = 2}});
  Graph g;
  auto x = g.input("x", {batch, 5, 3, 6});
  auto y = conv2d(x, g.parameter("w", {1, 1, 6, 7}, Init::normal(1)), "pw");
  Session s(compile(g, y.id));
  s.set_batch(4);
  CHECK(s.saved(y.id, "columns").size() == 0);
}

TEST_CASE("conv2d saves its columns only when a patch is no longer than an output row") {
  // 3x3x1 → 32 (K = 9 ≤ 32): saved, [B,Ho,Wo,9]; 3x3x32 → 64 (K = 288): rebuilt in backward, tile
  // by tile. Both against the naive loops above, with several tiles.
  Graph g;
  auto x = g.input("x", {batch, 6, 6, 1});
  auto first = conv2d(x, g.parameter("w1", {3, 3, 1, 32}, Init::normal(1)), "first", Conv2dOptions::same(3));
  auto second = conv2d(first, g.parameter("w2", {3, 3, 32, 64}, Init::normal(1)), "second", Conv2dOptions::same(3));
  Session s(compile(g, second.id));
  s.set_batch(5);
  CHECK(s.saved(first.id, "columns").size() == 5 * 6 * 6 * 9);
  CHECK(s.saved(second.id, "columns").size() == 0);
  check_both<double>({20, 6, 6, 1, 3, 3, 32, Conv2dOptions::same(3)});
  check_both<double>({20, 5, 4, 2, 2, 2, 8, {.stride_h = 2, .stride_w = 1, .pad_h = 1, .pad_w = 0}});
}

TEST_CASE("conv2d: float agrees with double within float rounding") {
  const Dims d{6, 10, 9, 3, 3, 3, 4, {.stride_h = 2, .stride_w = 1, .pad_h = 1, .pad_w = 1}};
  const Result f = run_conv<float>(d, 5), r = run_conv<double>(d, 5);
  double worst = 0;
  for (auto member : {&Result::out, &Result::dx, &Result::dw}) {
    const auto& a = f.*member;
    const auto& b = r.*member;
    REQUIRE(a.size() == b.size());
    double scale = 0;
    for (double v : b) scale = std::max(scale, std::abs(v));
    for (size_t k = 0; k < a.size(); ++k) worst = std::max(worst, std::abs(a[k] - b[k]) / scale);
  }
  CHECK(worst < 1e-6);
}

TEST_CASE("conv2d: 'same' padding keeps HxW for a 3x3 kernel") {
  const Dims d{2, 9, 7, 3, 3, 3, 4, Conv2dOptions::same(3)};
  CHECK(d.o.pad_h == 1);
  CHECK(d.Ho() == 9);
  CHECK(d.Wo() == 7);
  check_against_naive<double>(d);  // run_conv also checks the node's shape is [B,9,7,4]
}

TEST_CASE("conv2d: gradients of an input and a weight used twice accumulate") {
  // y = conv(x, w) + conv(x, w): both gradients are twice one conv's, so a backward that assigned
  // where it should add would give them once. 50 images of 4x3 output pixels make 3 pieces of work
  // (22 images each), so dweight adds 3 partial sums into what the other conv wrote; the pointwise
  // conv accumulates dx straight from its product.
  // The bias (on the second and third) is shared too; the third is one tile, whose sums go straight
  // into the gradients.
  for (const Dims& d : {Dims{50, 7, 6, 2, 3, 3, 3, {.stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1}},
                        Dims{20, 6, 5, 3, 1, 1, 4, {}, true}, Dims{2, 6, 5, 3, 3, 3, 4, Conv2dOptions::same(3), true}}) {
    Graph g;
    auto x = g.input("x", {batch, d.H, d.W, d.C});
    auto w = g.parameter("w", {d.kh, d.kw, d.C, d.F}, Init::zeros());
    auto bias = g.parameter("bias", {d.F}, Init::normal(1));
    auto conv = [&](const char* name) { return d.bias ? conv2d(x, w, bias, name, d.o) : conv2d(x, w, name, d.o); };
    auto y = add(conv("a"), conv("b"), "sum");
    BasicSession<double> s(compile(g, y.id, {.input_gradients = true}));
    s.set_batch(d.B);
    const auto xv = random_values(static_cast<size_t>(d.B * d.H * d.W * d.C), 1);
    const auto wv = random_values(static_cast<size_t>(d.kh * d.kw * d.C * d.F), 2);
    const auto gv = random_values(static_cast<size_t>(d.B * d.Ho() * d.Wo() * d.F), 3);
    std::copy(xv.begin(), xv.end(), s.input("x").data);
    std::copy(wv.begin(), wv.end(), s.parameters().view(s.parameters().find("w")).data);
    s.forward(Mode::train);
    s.backward(gv);
    std::vector<double> dx, dw, db;
    naive_backward(d, xv, wv, gv, dx, dw, &db);
    for (double& v : dx) v *= 2;
    for (double& v : dw) v *= 2;
    for (double& v : db) v *= 2;
    CAPTURE(d.B);
    CHECK(max_error(s.grad(x.id), dx) < 1e-12);
    CHECK(max_error(s.gradients().view(s.gradients().find("w")), dw) < 1e-12);
    if (d.bias) CHECK(max_error(s.gradients().view(s.gradients().find("bias")), db) < 1e-12);
  }
}

TEST_CASE("conv2d on two threads equals one thread bit for bit") {
  // 40 images of 12x12, 8 → 16 channels: 20 pieces of 2 images (~0.66 MFLOP each) and 8 partial
  // sums of dweight (~1.7 MFLOP each), so every part of the op is split between the threads.
  // With a bias: its partial sums likewise.
  const Dims d{40, 12, 12, 8, 3, 3, 16, Conv2dOptions::same(3), true};
  const Result one = run_conv<float>(d, 21, 1), two = run_conv<float>(d, 21, 2), again = run_conv<float>(d, 21, 2);
  CHECK(one.out == two.out);
  CHECK(one.dx == two.dx);
  CHECK(one.dw == two.dw);
  CHECK(one.db == two.db);
  CHECK(two.dw == again.dw);
  const Dims strided{33, 13, 11, 3, 3, 2, 4, {.stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1}};
  const Result a = run_conv<double>(strided, 4, 1), b = run_conv<double>(strided, 4, 2);
  CHECK(a.out == b.out);
  CHECK(a.dx == b.dx);
  CHECK(a.dw == b.dw);
  const Dims pointwise{40, 6, 6, 8, 1, 1, 16, {}, true};  // 8 images a tile, 5 partials
  const Result p1 = run_conv<double>(pointwise, 6, 1), p2 = run_conv<double>(pointwise, 6, 2);
  CHECK(p1.out == p2.out);
  CHECK(p1.dx == p2.dx);
  CHECK(p1.dw == p2.dw);
  CHECK(p1.db == p2.db);
}

TEST_CASE("conv2d shape errors name the rule and both shapes") {
  Graph g;
  auto x = g.input("x", {batch, 5, 5, 3});
  auto w = g.parameter("w", {3, 3, 3, 4}, Init::zeros());
  CHECK_THROWS_WITH_AS(conv2d(g.input("flat", {batch, 5}), w, "c"), "node 'c' (conv2d): input must be [B,H,W,C], got [B,5]",
                       ShapeError);
  CHECK_THROWS_WITH_AS(conv2d(x, g.parameter("w2", {3, 3}, Init::zeros()), "c"),
                       "node 'c' (conv2d): weight must be [kh,kw,C,F], got [3,3]", ShapeError);
  CHECK_THROWS_WITH_AS(conv2d(x, g.input("wb", {batch, 3, 3, 4}), "c"),
                       "node 'c' (conv2d): weight cannot have the batch dimension, got [B,3,3,4]", ShapeError);
  CHECK_THROWS_WITH_AS(conv2d(x, g.parameter("w3", {3, 3, 2, 4}, Init::zeros()), "c"),
                       "node 'c' (conv2d): weight [3,3,2,4] takes 2 input channels, input [B,5,5,3] has 3", ShapeError);
  auto small = g.input("small", {batch, 2, 4, 3});
  CHECK_THROWS_WITH_AS(conv2d(small, w, "c"),
                       "node 'c' (conv2d): kernel 3x3 is larger than the padded input 2x4: input [B,2,4,3], weight [3,3,3,4], pad 0,0",
                       ShapeError);
  CHECK(conv2d(small, w, "padded", {.pad_h = 1}).shape() == Shape{batch, 2, 2, 4});  // 4x6 padded
  CHECK_THROWS_WITH_AS(conv2d(x, g.parameter("w0", {0, 3, 3, 4}, Init::zeros()), "c"),
                       "node 'c' (conv2d): kernel must be at least 1x1, got weight [0,3,3,4]", ShapeError);
  CHECK_THROWS_WITH_AS(conv2d(x, w, "c", {.stride_h = 0}), "node 'c' (conv2d): stride_h must be at least 1, got 0", ShapeError);
  CHECK_THROWS_WITH_AS(conv2d(x, w, "c", {.stride_w = -2}), "node 'c' (conv2d): stride_w must be at least 1, got -2", ShapeError);
  CHECK_THROWS_WITH_AS(conv2d(x, w, "c", {.pad_w = -1}), "node 'c' (conv2d): pad_w must be at least 0, got -1", ShapeError);
  CHECK_THROWS_WITH_AS(g.op(conv2d_op, {x, w}, "c", {{"stride_w", 1.5}}), "node 'c' (conv2d): stride_w must be an integer, got 1.5",
                       ShapeError);
  CHECK_THROWS_WITH_AS(g.op(conv2d_op, {x, w}, "c", {{"pad_h", 1e12}}), "node 'c' (conv2d): pad_h must be at most 2^30, got 1e+12",
                       ShapeError);
  CHECK_THROWS_WITH_AS(g.op(conv2d_op, {x, w}, "c", {{"pad_h", std::nan("")}}),
                       "node 'c' (conv2d): pad_h must be an integer, got nan", ShapeError);
  // The bias is optional, [F].
  CHECK_THROWS_WITH_AS(conv2d(x, w, g.parameter("b3", {3}, Init::zeros()), "c"),
                       "node 'c' (conv2d): bias must be [F] = [4] for weight [3,3,3,4], got [3]", ShapeError);
  CHECK_THROWS_WITH_AS(conv2d(x, w, g.parameter("b14", {1, 4}, Init::zeros()), "c"),
                       "node 'c' (conv2d): bias must be [F] = [4] for weight [3,3,3,4], got [1,4]", ShapeError);
  CHECK_THROWS_WITH_AS(g.op(conv2d_op, {x}, "c"), "node 'c' (conv2d): takes 2 or 3 inputs, got 1", UsageError);
  auto b = g.parameter("b", {4}, Init::zeros());
  CHECK_THROWS_WITH_AS(g.op(conv2d_op, {x, w, b, b}, "c"), "node 'c' (conv2d): takes 2 or 3 inputs, got 4", UsageError);
  CHECK(conv2d(x, w, b, "with_bias").shape() == Shape{batch, 3, 3, 4});
}

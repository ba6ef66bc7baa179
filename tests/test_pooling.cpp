// max_pool2d, avg_pool2d and global_avg_pool on 4×4 images worked out by hand, on ties and NaNs,
// against plain double loops on random [B,H,W,3] data (float and double), threads = 2 against 1
// bit for bit, and their shape errors. (The gradient check against finite differences runs with
// every registered op in test_ops_gradcheck.)
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include "graph/compile.hpp"
#include "graph/errors.hpp"
#include "graph/gradcheck.hpp"
#include "graph/random.hpp"
#include "graph/session.hpp"
#include "ops/add.hpp"
#include "ops/avg_pool2d.hpp"
#include "ops/global_avg_pool.hpp"
#include "ops/max_pool2d.hpp"

using namespace bnlab;

namespace {

using Build = std::function<Var(Graph&, Var)>;

// What one forward and one backward (seeded with `seed`) of y = build(x) produced.
template <class T>
struct Run {
  std::vector<T> out, argmax, dx;
  int64_t out_size() const { return static_cast<int64_t>(out.size()); }
};

template <class T>
std::vector<T> copy_of(TensorView<const T> v) { return std::vector<T>(v.data, v.data + v.size()); }

template <class T>
Run<T> run(const Build& build, Shape shape, int64_t b, const std::vector<double>& x, const std::vector<double>& seed,
           int threads = 1) {
  Graph g;
  auto in = g.input("x", shape);
  auto y = build(g, in);
  BasicSession<T> s(compile(g, y, {.input_gradients = true}), {.threads = threads});
  s.set_batch(b);
  auto xv = s.input("x");
  REQUIRE(static_cast<size_t>(xv.size()) == x.size());
  for (size_t i = 0; i < x.size(); ++i) xv.data[i] = static_cast<T>(x[i]);
  s.forward(Mode::train);
  const BasicSession<T>& cs = s;
  Run<T> r;
  r.out = copy_of(cs.value(y.id));
  if (g.node(y.id).op == &max_pool2d_op) r.argmax = copy_of(cs.saved(y.id, "argmax"));
  REQUIRE(seed.size() == r.out.size());
  std::vector<T> seed_t(seed.begin(), seed.end());
  s.backward(seed_t);
  r.dx = copy_of(cs.grad(in.id));
  return r;
}

Build max_pool(int64_t wh, int64_t ww, int64_t sh, int64_t sw) {
  return [=](Graph&, Var x) { return max_pool2d(x, {wh, ww, sh, sw}, "pool"); };
}
Build avg_pool(int64_t wh, int64_t ww, int64_t sh, int64_t sw) {
  return [=](Graph&, Var x) { return avg_pool2d(x, {wh, ww, sh, sw}, "pool"); };
}

// Row-major 4×4 image used by the hand-worked cases:
//    1 3 2 0
//    4 2 7 5
//    0 6 1 1
//    5 2 3 8
const std::vector<double> kImage = {1, 3, 2, 0, 4, 2, 7, 5, 0, 6, 1, 1, 5, 2, 3, 8};
const std::vector<double> kSeed4 = {1, 2, 3, 4};  // one upstream gradient per output, row-major

template <class T>
void check_exact(const std::vector<T>& got, const std::vector<double>& expected) {
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    CHECK(static_cast<double>(got[i]) == expected[i]);
  }
}

template <class T>
void check_close(const std::vector<T>& got, const std::vector<double>& expected, double rel) {
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    CHECK(static_cast<double>(got[i]) == doctest::Approx(expected[i]).epsilon(rel));
  }
}

// The naive reference: plain loops in double over x [B,H,W,C] (row-major), with the windows'
// outputs in row-major order; the maximum keeps the first of equal values and takes any NaN.
struct Ref {
  std::vector<double> out, argmax, dx;
};

Ref naive_pool(bool max, const std::vector<double>& x, int64_t B, int64_t H, int64_t W, int64_t C, int64_t wh,
               int64_t ww, int64_t sh, int64_t sw, const std::vector<double>& seed) {
  const int64_t Ho = (H - wh) / sh + 1, Wo = (W - ww) / sw + 1;
  Ref r;
  r.out.assign(static_cast<size_t>(B * Ho * Wo * C), 0.0);
  r.argmax.assign(r.out.size(), 0.0);
  r.dx.assign(x.size(), 0.0);
  auto at = [&](int64_t b, int64_t h, int64_t w, int64_t c) { return static_cast<size_t>(((b * H + h) * W + w) * C + c); };
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < Ho; ++i)
      for (int64_t j = 0; j < Wo; ++j)
        for (int64_t c = 0; c < C; ++c) {
          const size_t o = static_cast<size_t>(((b * Ho + i) * Wo + j) * C + c);
          double best = -std::numeric_limits<double>::infinity(), sum = 0;
          int64_t best_k = 0;
          for (int64_t dy = 0; dy < wh; ++dy)
            for (int64_t dx = 0; dx < ww; ++dx) {
              const double v = x[at(b, i * sh + dy, j * sw + dx, c)];
              sum += v;
              if (v > best || std::isnan(v)) {
                best = v;
                best_k = dy * ww + dx;
              }
            }
          r.out[o] = max ? best : sum / static_cast<double>(wh * ww);
          r.argmax[o] = static_cast<double>(best_k);
          for (int64_t dy = 0; dy < wh; ++dy)
            for (int64_t dx = 0; dx < ww; ++dx) {
              if (max && dy * ww + dx != best_k) continue;
              r.dx[at(b, i * sh + dy, j * sw + dx, c)] += max ? seed[o] : seed[o] / static_cast<double>(wh * ww);
            }
        }
  return r;
}

std::vector<double> random_values(size_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<double> v(n);
  for (double& e : v) e = rng.normal();
  return v;
}

// Values exactly representable in float, so float and double see the same input.
std::vector<double> as_float(std::vector<double> v) {
  for (double& e : v) e = static_cast<double>(static_cast<float>(e));
  return v;
}

}  // namespace

TEST_CASE("max_pool2d 2x2 stride 2 on a 4x4 image, by hand") {
  // Windows: {1,3,4,2} → 4 at (dy,dx) = (1,0), index 2;  {2,0,7,5} → 7 at (1,0), index 2;
  //          {0,6,5,2} → 6 at (0,1), index 1;            {1,1,3,8} → 8 at (1,1), index 3.
  // Backward: each output's gradient goes to its maximum: x(1,0) ← 1, x(1,2) ← 2, x(2,1) ← 3, x(3,3) ← 4.
  for (int threads : {1, 2}) {
    const auto f = run<float>(max_pool(2, 2, 2, 2), {batch, 4, 4, 1}, 1, kImage, kSeed4, threads);
    check_exact(f.out, {4, 7, 6, 8});
    check_exact(f.argmax, {2, 2, 1, 3});
    check_exact(f.dx, {0, 0, 0, 0, 1, 0, 2, 0, 0, 3, 0, 0, 0, 0, 0, 4});
    const auto d = run<double>(max_pool(2, 2, 2, 2), {batch, 4, 4, 1}, 1, kImage, kSeed4, threads);
    check_exact(d.out, {4, 7, 6, 8});
    check_exact(d.dx, {0, 0, 0, 0, 1, 0, 2, 0, 0, 3, 0, 0, 0, 0, 0, 4});
  }
}

TEST_CASE("max_pool2d 3x3 stride 1 on a 4x4 image: overlapping windows add their gradients") {
  // Window (0,0), rows 0-2 × cols 0-2: {1,3,2, 4,2,7, 0,6,1} → 7 at (1,2), index 1·3 + 2 = 5.
  // Window (0,1), rows 0-2 × cols 1-3: {3,2,0, 2,7,5, 6,1,1} → the same 7, now at (1,1), index 4.
  // Window (1,0), rows 1-3 × cols 0-2: {4,2,7, 0,6,1, 5,2,3} → the same 7 at (0,2), index 2.
  // Window (1,1), rows 1-3 × cols 1-3: {2,7,5, 6,1,1, 2,3,8} → 8 at (2,2), index 8.
  // Backward: x(1,2) = 7 won three windows, it gets 1 + 2 + 3 = 6; x(3,3) gets 4.
  const auto f = run<float>(max_pool(3, 3, 1, 1), {batch, 4, 4, 1}, 1, kImage, kSeed4);
  check_exact(f.out, {7, 7, 7, 8});
  check_exact(f.argmax, {5, 4, 2, 8});
  check_exact(f.dx, {0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 4});
  const auto d = run<double>(max_pool(3, 3, 1, 1), {batch, 4, 4, 1}, 1, kImage, kSeed4);
  check_exact(d.out, {7, 7, 7, 8});
  check_exact(d.dx, {0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 4});
}

TEST_CASE("avg_pool2d 2x2 stride 2 and 3x3 stride 1 on a 4x4 image, by hand") {
  // 2×2 stride 2: sums 1+3+4+2 = 10, 2+0+7+5 = 14, 0+6+5+2 = 13, 1+1+3+8 = 13, over 4.
  // Backward: every element of window k gets g_k / 4 = 0.25, 0.5, 0.75, 1 (windows tile the image).
  {
    const auto f = run<float>(avg_pool(2, 2, 2, 2), {batch, 4, 4, 1}, 1, kImage, kSeed4);
    check_exact(f.out, {2.5, 3.5, 3.25, 3.25});
    check_exact(f.dx, {0.25, 0.25, 0.5, 0.5, 0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 1, 1, 0.75, 0.75, 1, 1});
  }
  // 3×3 stride 1: sums 26, 27, 30, 35 (the windows of the max case above), over 9.
  // Backward: x(h,w) gets (Σ of g over the windows holding it) / 9. Window (i,j) holds rows
  // i..i+2 and columns j..j+2, so
  //   row 0:   (0,0) only → 1;  cols 1,2: (0,0),(0,1) → 1+2 = 3;  col 3: (0,1) → 2
  //   rows 1,2: col 0: (0,0),(1,0) → 1+3 = 4; cols 1,2: all four → 10; col 3: (0,1),(1,1) → 2+4 = 6
  //   row 3:   col 0: (1,0) → 3;  cols 1,2: (1,0),(1,1) → 7;  col 3: (1,1) → 4.
  const std::vector<double> dx9 = {1, 3, 3, 2, 4, 10, 10, 6, 4, 10, 10, 6, 3, 7, 7, 4};
  std::vector<double> dx;
  for (double v : dx9) dx.push_back(v / 9);
  const auto f = run<float>(avg_pool(3, 3, 1, 1), {batch, 4, 4, 1}, 1, kImage, kSeed4);
  check_close(f.out, {26.0 / 9, 3, 30.0 / 9, 35.0 / 9}, 1e-7);
  check_close(f.dx, dx, 1e-7);
  const auto d = run<double>(avg_pool(3, 3, 1, 1), {batch, 4, 4, 1}, 1, kImage, kSeed4);
  check_close(d.out, {26.0 / 9, 3, 30.0 / 9, 35.0 / 9}, 1e-15);
  check_close(d.dx, dx, 1e-15);
}

TEST_CASE("max_pool2d ties: the first maximum in row-major window order gets the gradient") {
  //   5 5 | 3 5      windows: {5,5 / 5,5} → index 0; {3,5 / 5,1} → the 5 at (0,1), index 1, not
  //   5 5 | 5 1      the one at (1,0); {0,2 / 9,9} → the 9 at (1,0), index 2, not (1,1);
  //   0 2 | −1 −1    {−1,−1 / −1,−1} → index 0.
  //   9 9 | −1 −1
  const std::vector<double> x = {5, 5, 3, 5, 5, 5, 5, 1, 0, 2, -1, -1, 9, 9, -1, -1};
  const auto f = run<float>(max_pool(2, 2, 2, 2), {batch, 4, 4, 1}, 1, x, kSeed4);
  check_exact(f.out, {5, 5, 9, -1});
  check_exact(f.argmax, {0, 1, 2, 0});
  check_exact(f.dx, {1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 4, 0, 3, 0, 0, 0});
  // With overlap (3×3 stride 1 on an all-equal image) every window picks its own top-left corner.
  const std::vector<double> flat(16, 2.0);
  const auto o = run<double>(max_pool(3, 3, 1, 1), {batch, 4, 4, 1}, 1, flat, kSeed4);
  check_exact(o.argmax, {0, 0, 0, 0});
  check_exact(o.dx, {1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
}

TEST_CASE("max_pool2d propagates NaN: a NaN wins its window (the last NaN of several)") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  // Window 0: {NaN, 9 / 1, 2}: NaN first, 9 is not greater than NaN → NaN at index 0.
  // Window 1: {1, NaN / 7, NaN}: the last NaN, index 3 (PyTorch: `val > max || isnan(val)`).
  // Window 2: {−∞, −∞ / −∞, −∞}: −∞ at index 0.   Window 3: {1, 2 / 3, ∞} → ∞ at index 3.
  const std::vector<double> x = {nan, 9, 1, nan, 1, 2, 7, nan, -inf, -inf, 1, 2, -inf, -inf, 3, inf};
  for (int threads : {1, 2}) {
    const auto f = run<float>(max_pool(2, 2, 2, 2), {batch, 4, 4, 1}, 1, x, kSeed4, threads);
    CHECK(std::isnan(f.out[0]));
    CHECK(std::isnan(f.out[1]));
    CHECK(f.out[2] == -std::numeric_limits<float>::infinity());
    CHECK(f.out[3] == std::numeric_limits<float>::infinity());
    check_exact(f.argmax, {0, 3, 0, 3});
    check_exact(f.dx, {1, 0, 0, 0, 0, 0, 0, 2, 3, 0, 0, 0, 0, 0, 0, 4});
    const auto d = run<double>(max_pool(2, 2, 2, 2), {batch, 4, 4, 1}, 1, x, kSeed4, threads);
    CHECK(std::isnan(d.out[0]));
    check_exact(d.argmax, {0, 3, 0, 3});
  }
}

TEST_CASE("max_pool2d and avg_pool2d against plain loops: C = 3, random data, float and double") {
  struct Geometry {
    int64_t h, w, wh, ww, sh, sw;
  };
  // Tiling, overlapping, rectangular with unequal strides, and strides leaving rows and columns out.
  for (const Geometry& gm : {Geometry{6, 6, 2, 2, 2, 2}, Geometry{7, 6, 3, 3, 1, 1}, Geometry{7, 8, 3, 2, 2, 1},
                             Geometry{9, 7, 3, 3, 2, 3}}) {
    CAPTURE(gm.h);
    CAPTURE(gm.wh);
    const int64_t B = 3, C = 3;
    const int64_t ho = (gm.h - gm.wh) / gm.sh + 1, wo = (gm.w - gm.ww) / gm.sw + 1;
    const auto x = as_float(random_values(static_cast<size_t>(B * gm.h * gm.w * C), 11));
    const auto seed = as_float(random_values(static_cast<size_t>(B * ho * wo * C), 12));
    const Shape shape{batch, gm.h, gm.w, C};
    for (bool max : {true, false}) {
      CAPTURE(max);
      const Ref ref = naive_pool(max, x, B, gm.h, gm.w, C, gm.wh, gm.ww, gm.sh, gm.sw, seed);
      const Build build = max ? max_pool(gm.wh, gm.ww, gm.sh, gm.sw) : avg_pool(gm.wh, gm.ww, gm.sh, gm.sw);
      const auto d = run<double>(build, shape, B, x, seed);
      const auto f = run<float>(build, shape, B, x, seed);
      if (max) {
        check_exact(d.out, ref.out);  // a maximum is one of the inputs, exactly
        check_exact(f.out, ref.out);
        check_exact(d.argmax, ref.argmax);
        check_exact(f.argmax, ref.argmax);
      } else {
        check_close(d.out, ref.out, 1e-13);
        check_close(f.out, ref.out, 1e-6);
      }
      check_close(d.dx, ref.dx, 1e-13);
      check_close(f.dx, ref.dx, 1e-6);
    }
  }
}

TEST_CASE("pooling into a gradient another consumer already wrote adds to it (accumulate)") {
  // x [B,5,5,2] feeds two pools of equal output shape joined by an add: x's gradient is the sum of
  // what each pool gives back alone, and the backward running second accumulates.
  using Named = std::function<Var(Var, const std::string&)>;
  const std::vector<std::pair<Named, Named>> pairs = {
      {[](Var v, const std::string& n) { return max_pool2d(v, {2, 2, 2, 2}, n); },    // [B,2,2,2]
       [](Var v, const std::string& n) { return max_pool2d(v, {3, 3, 2, 2}, n); }},   // [B,2,2,2], overlapping
      {[](Var v, const std::string& n) { return avg_pool2d(v, {2, 2, 2, 2}, n); },
       [](Var v, const std::string& n) { return avg_pool2d(v, {3, 3, 2, 2}, n); }},
      {[](Var v, const std::string& n) { return global_avg_pool(v, n); },
       [](Var v, const std::string& n) { return global_avg_pool(v, n); }},
  };
  const int64_t B = 3;
  const Shape shape{batch, 5, 5, 2};
  const auto x = random_values(static_cast<size_t>(B * 5 * 5 * 2), 41);
  for (const auto& [first, second] : pairs) {
    Graph g;
    auto in = g.input("x", shape);
    auto t = add(first(in, "p1"), second(in, "p2"), "sum");
    const auto seed = random_values(static_cast<size_t>(B * t.shape().elements(1)), 42);
    BasicSession<double> s(compile(g, t, {.input_gradients = true}));
    s.set_batch(B);
    std::copy(x.begin(), x.end(), s.input("x").data);
    s.forward(Mode::train);
    s.backward(seed);
    const auto one = run<double>([&](Graph&, Var v) { return first(v, "pool"); }, shape, B, x, seed);
    const auto two = run<double>([&](Graph&, Var v) { return second(v, "pool"); }, shape, B, x, seed);
    const auto dx = s.grad(in.id).vec();
    for (Eigen::Index i = 0; i < dx.size(); ++i) {
      const size_t k = static_cast<size_t>(i);
      CHECK(dx[i] == doctest::Approx(one.dx[k] + two.dx[k]).epsilon(1e-14));
    }
    const GradCheckResult r = gradcheck(g, t, {.batch = B, .seed = 9});
    for (const auto& tc : r.tensors) CHECK(tc.max_rel_error < 1e-6);
  }
}

TEST_CASE("pooling with 2 threads equals 1 thread bit for bit") {
  // [32,28,28,8]: enough work that every kernel splits the batch over both threads.
  const int64_t B = 32;
  const Shape shape{batch, 28, 28, 8};
  const auto x = random_values(static_cast<size_t>(B * 28 * 28 * 8), 21);
  const std::vector<std::pair<Build, int64_t>> cases = {
      {max_pool(2, 2, 2, 2), 14 * 14}, {max_pool(3, 3, 1, 1), 26 * 26}, {avg_pool(3, 3, 2, 2), 13 * 13},
      {[](Graph&, Var v) { return global_avg_pool(v, "pool"); }, 1}};
  for (const auto& [build, positions] : cases) {
    const auto seed = random_values(static_cast<size_t>(B * positions * 8), 22);
    const auto one = run<float>(build, shape, B, x, seed, 1);
    const auto two = run<float>(build, shape, B, x, seed, 2);
    CHECK(one.out == two.out);
    CHECK(one.argmax == two.argmax);
    CHECK(one.dx == two.dx);
  }
}

TEST_CASE("global_avg_pool: the mean over H·W per channel, by hand and against plain loops") {
  // [1,2,2,2]: channel 0 = 1, 2, 3, 6 → mean 3; channel 1 = 4, 0, 8, 0 → mean 3.
  // Backward with g = (4, −8): every position gets g/4 = (1, −2).
  const std::vector<double> x = {1, 4, 2, 0, 3, 8, 6, 0};
  const Build gap = [](Graph&, Var v) { return global_avg_pool(v, "gap"); };
  const auto f = run<float>(gap, {batch, 2, 2, 2}, 1, x, {4, -8});
  check_exact(f.out, {3, 3});
  check_exact(f.dx, {1, -2, 1, -2, 1, -2, 1, -2});

  // [3,5,4,3] random: y[b,c] = Σ_p x[b,p,c] / 20, dx[b,p,c] = g[b,c] / 20.
  const int64_t B = 3, HW = 20, C = 3;
  const auto xr = as_float(random_values(static_cast<size_t>(B * HW * C), 31));
  const auto seed = as_float(random_values(static_cast<size_t>(B * C), 32));
  std::vector<double> out(static_cast<size_t>(B * C), 0.0), dx(xr.size());
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c) {
      for (int64_t p = 0; p < HW; ++p) out[static_cast<size_t>(b * C + c)] += xr[static_cast<size_t>((b * HW + p) * C + c)];
      out[static_cast<size_t>(b * C + c)] /= HW;
      for (int64_t p = 0; p < HW; ++p) dx[static_cast<size_t>((b * HW + p) * C + c)] = seed[static_cast<size_t>(b * C + c)] / HW;
    }
  const auto d = run<double>(gap, {batch, 5, 4, 3}, B, xr, seed);
  const auto fl = run<float>(gap, {batch, 5, 4, 3}, B, xr, seed);
  check_close(d.out, out, 1e-13);
  check_close(fl.out, out, 1e-6);
  check_close(d.dx, dx, 1e-15);
  check_close(fl.dx, dx, 1e-7);
}

TEST_CASE("pooling shape errors name the node, the rule and the shapes") {
  Graph g;
  auto v = g.input("v", {batch, 784});
  auto x = g.input("x", {batch, 2, 3, 1});
  CHECK_THROWS_WITH_AS(max_pool2d(v, {}, "p"), "node 'p' (max_pool2d): input must be an image [B,H,W,C], got [B,784]",
                       ShapeError);
  CHECK_THROWS_WITH_AS(avg_pool2d(v, {}, "p"), "node 'p' (avg_pool2d): input must be an image [B,H,W,C], got [B,784]",
                       ShapeError);
  CHECK_THROWS_WITH_AS(global_avg_pool(v, "p"),
                       "node 'p' (global_avg_pool): input must be an image [B,H,W,C], got [B,784]", ShapeError);
  CHECK_THROWS_WITH_AS(max_pool2d(x, {.window_h = 3, .window_w = 3}, "p"),
                       "node 'p' (max_pool2d): window 3x3 does not fit in the image [B,2,3,1]", ShapeError);
  CHECK_THROWS_WITH_AS(avg_pool2d(x, {.window_h = 1, .window_w = 4, .stride_h = 1, .stride_w = 1}, "p"),
                       "node 'p' (avg_pool2d): window 1x4 does not fit in the image [B,2,3,1]", ShapeError);
  CHECK_THROWS_WITH_AS(max_pool2d(x, {.window_h = 0, .window_w = 2}, "p"),
                       "node 'p' (max_pool2d): window and stride must be positive integers, got window 0x2, stride 0x2",
                       ShapeError);
  CHECK_THROWS_WITH_AS(
      g.op(max_pool2d_op, {x}, "p", {{"window_h", 2.5}}),
      "node 'p' (max_pool2d): window and stride must be positive integers, got window 2.5x2, stride 2x2", ShapeError);
  CHECK_THROWS_WITH_AS(
      g.op(avg_pool2d_op, {x}, "p", {{"stride_w", -1}}),
      "node 'p' (avg_pool2d): window and stride must be positive integers, got window 2x2, stride 2x-1", ShapeError);
  // The defaults: a 2×2 window, stride 2, and ⌊(H − 2)/2⌋ + 1 rows: [B,5,7,3] → [B,2,3,3].
  auto y = g.input("y", {batch, 5, 7, 3});
  CHECK(max_pool2d(y, {}, "ok").shape() == Shape{batch, 2, 3, 3});
  CHECK(g.op(avg_pool2d_op, {y}, "ok2").shape() == Shape{batch, 2, 3, 3});
  CHECK(max_pool2d(y, {.window_h = 3, .window_w = 2, .stride_h = 1}, "ok3").shape() == Shape{batch, 3, 3, 3});
}

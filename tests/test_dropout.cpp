// dropout: the mask's statistics, its reproducibility (seed, step, threads, precision, resuming from
// the step counter), eval and rate 0 as the identity, backward g·mask, and the rate's range.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "graph/compile.hpp"
#include "graph/errors.hpp"
#include "graph/gradcheck.hpp"
#include "graph/random.hpp"
#include "graph/session.hpp"
#include "ops/dropout.hpp"

using namespace bnlab;

namespace {

struct DropFixture {
  Graph g;
  Var x, out;
  DropFixture(int64_t features, double rate) {
    x = g.input("x", {batch, features});
    out = dropout(x, rate, "drop");
  }
};

template <class T>
std::vector<T> values(TensorView<const T> v) { return std::vector<T>(v.data, v.data + v.size()); }

// One training forward of x = 1 (so y is the mask) in a fresh session; returns the mask.
std::vector<float> first_mask(int64_t rows, int64_t cols, double rate, uint64_t seed, int threads = 1) {
  DropFixture f(cols, rate);
  Session s(compile(f.g, f.out), {.seed = seed, .threads = threads});
  s.set_batch(rows);
  s.input("x").vec().setConstant(1.0f);
  s.forward(Mode::train);
  return values<float>(s.saved(f.out.id, "mask"));
}

}  // namespace

TEST_CASE("dropout mask: mean ≈ 1 and share of zeros ≈ rate over 10^5 elements, survivors scaled by 1/(1 − p)") {
  for (double p : {0.1, 0.3, 0.5, 0.8}) {
    CAPTURE(p);
    DropFixture f(100, p);
    Session s(compile(f.g, f.out), {.seed = 3});
    s.set_batch(1000);  // 10^5 elements
    s.input("x").vec().setConstant(1.0f);
    s.forward(Mode::train);
    const auto y = values<float>(s.value(f.out.id));
    const auto m = values<float>(s.saved(f.out.id, "mask"));
    CHECK(y == m);  // x = 1
    const float keep = static_cast<float>(1.0 / (1.0 - p));
    double sum = 0;
    int64_t zeros = 0, other = 0;
    for (float v : m) {
      sum += v;
      zeros += v == 0.0f;
      other += v != 0.0f && v != keep;
    }
    CHECK(other == 0);  // every element is 0 or exactly 1/(1 − p)
    const double n = 1e5;
    // Kept ~ Binomial(n, 1 − p): the share of zeros has standard deviation √(p(1 − p)/n) ≤ 0.0016 and
    // the mean of the mask √(p/((1 − p)n)) ≤ 0.0064 (at p = 0.8); 5 standard deviations:
    CHECK(std::abs(static_cast<double>(zeros) / n - p) < 5 * std::sqrt(p * (1 - p) / n));
    CHECK(std::abs(sum / n - 1.0) < 5 * std::sqrt(p / ((1 - p) * n)));
  }
}

TEST_CASE("dropout mask: same seed and step → same mask; next step, other seed → other masks") {
  const auto a = first_mask(50, 40, 0.5, 7), b = first_mask(50, 40, 0.5, 7), c = first_mask(50, 40, 0.5, 8);
  CHECK(a == b);
  CHECK(a != c);
  DropFixture f(40, 0.5);
  Session s(compile(f.g, f.out), {.seed = 7});
  s.set_batch(50);
  s.input("x").vec().setConstant(1.0f);
  auto& st = s.state();
  const auto step = st.view(st.find("drop.step")).vec();
  CHECK(step[0] == 0.0f);
  s.forward(Mode::train);
  CHECK(values<float>(s.saved(f.out.id, "mask")) == a);
  CHECK(step[0] == 1.0f);
  s.forward(Mode::train);
  const auto second = values<float>(s.saved(f.out.id, "mask"));
  CHECK(second != a);
  CHECK(step[0] == 2.0f);
  // The masks of two steps agree only by chance, on about half the elements at p = 0.5.
  int64_t same = 0;
  for (size_t k = 0; k < a.size(); ++k) same += a[k] == second[k];
  CHECK(std::abs(static_cast<double>(same) / static_cast<double>(a.size()) - 0.5) < 0.05);

  // Resuming from the stored step draws the mask that step would have drawn.
  s.forward(Mode::train);
  const auto third = values<float>(s.saved(f.out.id, "mask"));
  Session r(compile(f.g, f.out), {.seed = 7});
  r.set_batch(50);
  r.input("x").vec().setConstant(1.0f);
  r.state().view(r.state().find("drop.step")).vec() << 2, 0;
  r.forward(Mode::train);
  CHECK(values<float>(r.saved(f.out.id, "mask")) == third);
}

TEST_CASE("dropout step counter: low part carries into the high part, exact past 2^24 and at 2^40 steps") {
  const double p = 0.4;
  DropFixture f(64, p);
  Session s(compile(f.g, f.out), {.seed = 11});
  s.set_batch(4);
  s.input("x").vec().setConstant(1.0f);
  auto step = s.state().view(s.state().find("drop.step")).vec();
  const uint64_t node_seed = s.forward_args(f.out.id, Mode::train).seed;
  // The mask of step t, computed here from counter_uniform (graph/random.hpp).
  auto expected = [&](uint64_t t) {
    std::vector<float> m(256);
    for (size_t k = 0; k < m.size(); ++k) m[k] = counter_uniform(node_seed, t, k) >= p ? static_cast<float>(1.0 / (1.0 - p)) : 0.0f;
    return m;
  };
  step << 16777215.0f, 0.0f;  // t = 2^24 − 1
  s.forward(Mode::train);
  CHECK(values<float>(s.saved(f.out.id, "mask")) == expected((uint64_t{1} << 24) - 1));
  CHECK(step[0] == 0.0f);  // t = 2^24 = 1·2^24 + 0
  CHECK(step[1] == 1.0f);
  s.forward(Mode::train);
  CHECK(values<float>(s.saved(f.out.id, "mask")) == expected(uint64_t{1} << 24));
  CHECK(step[0] == 1.0f);
  step << 5.0f, 65536.0f;  // t = 2^16·2^24 + 5 = 2^40 + 5
  s.forward(Mode::train);
  CHECK(values<float>(s.saved(f.out.id, "mask")) == expected((uint64_t{1} << 40) + 5));
  CHECK(step[0] == 6.0f);
  CHECK(step[1] == 65536.0f);
}

TEST_CASE("dropout mask does not depend on the thread count or the precision") {
  // 64·512 = 32768 elements: two parts of the 8192-element grain.
  const auto one = first_mask(64, 512, 0.3, 5, 1), two = first_mask(64, 512, 0.3, 5, 2);
  CHECK(one == two);
  DropFixture f(512, 0.3);
  BasicSession<double> d(compile(f.g, f.out), {.seed = 5});
  d.set_batch(64);
  d.input("x").vec().setConstant(1.0);
  d.forward(Mode::train);
  const auto m = values<double>(d.saved(f.out.id, "mask"));
  REQUIRE(m.size() == one.size());
  int64_t differ = 0;
  for (size_t k = 0; k < m.size(); ++k) differ += (m[k] == 0.0) != (one[k] == 0.0f);
  CHECK(differ == 0);
}

TEST_CASE("dropout is the identity in eval, eval_batch_stats and at rate 0; backward is g·mask") {
  for (double p : {0.5, 0.0}) {
    CAPTURE(p);
    DropFixture f(6, p);
    Session s(compile(f.g, f.out, {.backward = true, .input_gradients = true}), {.seed = 2});
    s.set_batch(3);
    s.input("x").vec() << 1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12, 13, -14, 15, -16, 17, -18;
    const auto x = values<float>(s.input("x"));
    const auto step = s.state().view(s.state().find("drop.step")).vec();
    for (Mode mode : {Mode::eval, Mode::eval_batch_stats}) {
      s.forward(mode);
      CHECK(values<float>(s.value(f.out.id)) == x);
      CHECK(step[0] == 0.0f);  // only training advances the counter
    }
    std::vector<float> g(18);
    for (size_t k = 0; k < g.size(); ++k) g[k] = 0.25f * static_cast<float>(k) - 2.0f;
    s.backward(g);  // eval: dx = g
    CHECK(values<float>(s.grad(f.x.id)) == g);

    s.forward(Mode::train);
    const auto y = values<float>(s.value(f.out.id));
    const auto m = values<float>(s.saved(f.out.id, "mask"));
    if (p == 0.0) CHECK(y == x);
    for (size_t k = 0; k < x.size(); ++k) CHECK(y[k] == x[k] * m[k]);
    s.backward(g);
    const auto dx = values<float>(s.grad(f.x.id));
    for (size_t k = 0; k < g.size(); ++k) CHECK(dx[k] == g[k] * m[k]);
  }
}

TEST_CASE("dropout's rate must be in [0, 1)") {
  Graph g;
  auto x = g.input("x", {batch, 4});
  CHECK_THROWS_WITH_AS(dropout(x, 1.0, "drop"), "node 'drop' (dropout): rate must be in [0, 1), got 1", ShapeError);
  CHECK_THROWS_WITH_AS(dropout(x, -0.1, "drop"), "node 'drop' (dropout): rate must be in [0, 1), got -0.1", ShapeError);
  CHECK_THROWS_WITH_AS(dropout(x, std::nan(""), "drop"), "node 'drop' (dropout): rate must be in [0, 1), got nan", ShapeError);
  CHECK_NOTHROW(dropout(x, 0.0, "d0"));
  CHECK_NOTHROW(dropout(x, 0.999, "d1"));
}

TEST_CASE("dropout passes the gradient check in train mode with its mask held fixed") {
  // gradcheck restores the state (the step counter) before every evaluation, so each finite
  // difference sees the mask the analytic gradient was taken with.
  Graph g;
  auto y = dropout(g.input("x", {batch, 3, 3, 2}), 0.5, "drop");
  const GradCheckResult r = gradcheck(g, y, {.batch = 4, .seed = 3, .mode = Mode::train});
  CHECK(r.passed());
  CHECK(r.max_rel_error() < 1e-8);
}

TEST_CASE("dropout numbers rows globally: a session with first_row = k draws rows k.. of the whole batch's mask") {
  // A data-parallel worker on rows [k, k + n) of a global batch sets first_row = k (Session::set_first_row).
  for (bool image : {false, true}) {
    CAPTURE(image);
    const int64_t rows = 10;
    Graph g;
    auto x = image ? g.input("x", {batch, 2, 3, 2}) : g.input("x", {batch, 7});
    const Var out = dropout(x, 0.4, "drop");
    const Program program = compile(g, out);
    auto mask_of = [&](int64_t first, int64_t n) {
      Session s(program, {.seed = 9});
      s.set_batch(n);
      s.set_first_row(first);
      s.input("x").vec().setConstant(1.0f);
      s.forward(Mode::train);
      s.forward(Mode::train);  // the second step's mask (t = 1)
      return values<float>(s.saved(out.id, "mask"));
    };
    const auto whole = mask_of(0, rows);
    const size_t per_row = whole.size() / rows;
    for (const auto& [first, n] : {std::pair<int64_t, int64_t>{0, 4}, {4, 3}, {7, 3}, {3, 1}}) {
      CAPTURE(first);
      const auto part = mask_of(first, n);
      const std::vector<float> want(whole.begin() + first * per_row, whole.begin() + (first + n) * per_row);
      CHECK(part == want);
    }
    // Rows 4.. numbered from 0 would repeat rows 0..: a different mask.
    CHECK(mask_of(0, 3) != mask_of(4, 3));
  }
}

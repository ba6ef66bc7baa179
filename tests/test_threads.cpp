// Kernels split over threads compute the same step as one thread (up to float rounding in the
// products' blocking) and the same numbers on every run with the same thread count.
#include <doctest/doctest.h>

#include <algorithm>

#include "graph/compile.hpp"
#include "graph/session.hpp"
#include "graph/thread_pool.hpp"
#include "models/mlp.hpp"
#include "models/model.hpp"

using namespace bnlab;

namespace {
struct Step {
  float loss;
  AlignedVector<float> grads, state;
};

Step run(const Model& m, int threads, int64_t batch) {
  Session s(compile(m.graph, m.loss), {.seed = 5, .threads = threads});
  s.set_batch(batch);
  Rng rng(9);
  auto x = s.input(m.input).vec();
  for (Eigen::Index k = 0; k < x.size(); ++k) x[k] = static_cast<float>(rng.uniform());
  for (int32_t& y : s.labels(m.labels)) y = static_cast<int32_t>(rng.below(10));
  Step r;
  r.loss = s.forward(Mode::train);
  s.backward();
  r.grads = s.gradients().data;
  r.state = s.state().data;
  return r;
}
}  // namespace

TEST_CASE("a step on two threads matches one thread and repeats bit for bit") {
  for (const char* preset : {"plain", "batchnorm"}) {
    const Model m = build_model((MlpSpec::preset(preset)).model_spec());
    const Step one = run(m, 1, 256), two = run(m, 2, 256), again = run(m, 2, 256);
    CAPTURE(preset);
    CHECK(two.loss == doctest::Approx(one.loss).epsilon(1e-6));
    REQUIRE(two.grads.size() == one.grads.size());
    double max_diff = 0, max_abs = 0;
    for (size_t k = 0; k < one.grads.size(); ++k) {
      max_diff = std::max(max_diff, static_cast<double>(std::abs(two.grads[k] - one.grads[k])));
      max_abs = std::max(max_abs, static_cast<double>(std::abs(one.grads[k])));
    }
    CHECK(max_diff <= 1e-5 * max_abs);
    for (size_t k = 0; k < one.state.size(); ++k) CHECK(two.state[k] == doctest::Approx(one.state[k]).epsilon(1e-5));
    CHECK(two.loss == again.loss);
    CHECK(two.grads == again.grads);
    CHECK(two.state == again.state);
  }
}

TEST_CASE("parallel_for covers every index exactly once, in contiguous parts") {
  ThreadPool pool(3);
  for (int64_t n : {0, 1, 2, 7, 100, 1001}) {
    std::vector<int> hits(static_cast<size_t>(n), 0);
    parallel_for(&pool, n, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)] += 1;
    });
    for (int h : hits) CHECK(h == 1);
  }
  // A grain larger than the work keeps it on the calling thread.
  int parts = 0;
  parallel_for(&pool, 10, 100, [&](int64_t, int64_t) { ++parts; });
  CHECK(parts == 1);
}

TEST_CASE("back-to-back runs: every part runs once per run, whichever thread claims it") {
  // Thousands of short runs in a row make workers wake up late, while the caller has already
  // claimed their parts or started the next run; a part taken twice, or one of the wrong run,
  // shows up as a count other than 1.
  for (int threads : {2, 3}) {
    ThreadPool pool(threads);
    std::vector<int> hits(512);
    int64_t wrong = 0;
    for (int run = 0; run < 5000; ++run) {
      const int64_t n = 1 + (run * 37) % 512;
      std::fill(hits.begin(), hits.begin() + n, 0);
      parallel_for(&pool, n, 1 + run % 5, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)] += 1;
      });
      for (int64_t i = 0; i < n; ++i) wrong += hits[static_cast<size_t>(i)] != 1;
    }
    CHECK(wrong == 0);
  }
}

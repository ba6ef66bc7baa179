// Synchronized and ghost batch norm. N workers are threads of one process (tests/thread_collective.hpp),
// each running its own session on its share of a batch (share_of, as the data-parallel trainer
// splits it), seeded through backward with n_r/B like the trainer; they are compared with one
// session on the whole batch. Ghost batches are compared with independent batch norms of the shares
// and with workers that normalize locally; G = 1 with the kernel as it was before either existed.
#include <doctest/doctest.h>

#include <cmath>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "op_test_support.hpp"
#include "thread_collective.hpp"
#include "graph/batch_share.hpp"
#include "graph/compile.hpp"
#include "graph/errors.hpp"
#include "graph/gradcheck.hpp"
#include "graph/session.hpp"
#include "ops/batch_norm.hpp"

using namespace bnlab;
using namespace bnlab::test;

namespace {

constexpr double kMomentum = 0.25, kEps = 1e-3;

// One sample's shape: [F] (h == 0, F = c) or an image [H,W,C].
struct Layout {
  int64_t h = 0, w = 0, c = 0;
  int64_t per_sample() const { return h == 0 ? c : h * w * c; }  // values of one sample
  int64_t rows_per_sample() const { return h == 0 ? 1 : h * w; }
};

// x → batch_norm "bn" with gamma, beta, momentum 0.25, eps 1e-3 and `ghost` ghost batches.
struct BnGraph {
  Graph g;
  Var x, out;
  BnGraph(const Layout& l, int64_t ghost) {
    x = l.h == 0 ? g.input("x", {batch, l.c}) : g.input("x", {batch, l.h, l.w, l.c});
    // Drawn from normal(1) for the gradient check (γ = 0 would make dx = 0); the other tests set them.
    auto gamma = g.parameter("gamma", {l.c}, Init::normal(1.0));
    auto beta = g.parameter("beta", {l.c}, Init::normal(1.0));
    out = batch_norm(x, gamma, beta, "bn", {.momentum = kMomentum, .eps = kEps, .ghost_batches = ghost});
  }
};

// A batch of B samples: two training steps' inputs (x1, then x2 differentiated) and u, the
// gradient of a per-sample loss ℓ with respect to y, so that the batch's mean loss L = (1/B)·Σ ℓ has
// ∂L/∂y = u/B.
struct Problem {
  Layout layout;
  int64_t B = 0;
  std::vector<double> x1, x2, u, gamma, beta;
};

Problem make_problem(Layout l, int64_t B, uint64_t seed) {
  const auto n = static_cast<size_t>(B * l.per_sample()), c = static_cast<size_t>(l.c);
  // Means far from 0 (as activations after a ReLU): the two-pass variance is what keeps float exact.
  return {l, B, uniform_values(seed, n, 2.0, 6.0), uniform_values(seed + 1, n, -3.0, 1.0), uniform_values(seed + 2, n, -1.0, 1.0),
          uniform_values(seed + 3, c, 0.5, 1.5), uniform_values(seed + 4, c, -0.5, 0.5)};
}

struct Result {
  std::vector<double> y, dx, dgamma, dbeta, running_mean, running_var;
};

template <class T>
std::vector<double> values(TensorView<const T> v) { return std::vector<double>(v.data, v.data + v.size()); }

// One session on samples [first, first + n) of the problem: a training step on x1, then `mode` on x2
// and backward. The session's loss is the mean over its own n samples, seeded as the trainer does
// with n/B, so its gradients are those of the whole batch's mean loss: (n/B)·(u/n) = u/B.
template <class T>
Result run_share(const Problem& p, int64_t first, int64_t n, int64_t ghost, Collective* collective, Mode mode = Mode::train,
                 int threads = 1) {
  BnGraph f(p.layout, ghost);
  BasicSession<T> s(compile(f.g, f.out, {.backward = true, .input_gradients = true}), {.threads = threads, .collective = collective});
  auto& params = s.parameters();
  copy_into(params.view(params.find("gamma")), p.gamma);
  copy_into(params.view(params.find("beta")), p.beta);
  s.set_batch(n);
  s.set_first_row(first);
  const int64_t J = p.layout.per_sample();
  const auto slice = [&](const std::vector<double>& v) {
    return std::vector<double>(v.begin() + first * J, v.begin() + (first + n) * J);
  };
  copy_into(s.input("x"), slice(p.x1));
  s.forward(Mode::train);
  copy_into(s.input("x"), slice(p.x2));
  s.forward(mode);
  Result r;
  r.y = values<T>(s.value(f.out.id));
  const double weight = static_cast<double>(n) / static_cast<double>(p.B);  // the trainer's n_r/B
  std::vector<T> seed;
  for (double u : slice(p.u)) seed.push_back(static_cast<T>(weight * (u / static_cast<double>(n))));
  s.backward(seed);
  r.dx = values<T>(s.grad(f.x.id));
  const auto& grads = s.gradients();
  r.dgamma = values<T>(grads.view(grads.find("gamma")));
  r.dbeta = values<T>(grads.view(grads.find("beta")));
  const auto& st = s.state();
  r.running_mean = values<T>(st.view(st.find("bn.running_mean")));
  r.running_var = values<T>(st.view(st.find("bn.running_var")));
  return r;
}

// `workers` threads, worker r on share_of(B, workers, r), with a ThreadCollectiveGroup's member
// (synchronized) or none (each normalizes over its own rows). An error of any worker is rethrown.
template <class T>
std::vector<Result> run_workers(const Problem& p, int workers, bool synchronized, Mode mode = Mode::train, int threads = 1) {
  ThreadCollectiveGroup group(workers);
  std::vector<Result> results(static_cast<size_t>(workers));
  std::vector<std::exception_ptr> errors(static_cast<size_t>(workers));
  std::vector<std::thread> running;
  for (int r = 0; r < workers; ++r)
    running.emplace_back([&, r] {
      const BatchShare share = share_of(p.B, workers, r);
      try {
        results[static_cast<size_t>(r)] =
            run_share<T>(p, share.first, share.rows, 1, synchronized ? &group.member(r) : nullptr, mode, threads);
      } catch (...) {
        errors[static_cast<size_t>(r)] = std::current_exception();
      }
    });
  for (auto& t : running) t.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  return results;
}

// The workers' outputs and input gradients in rank order (= the global batch's row order), their
// parameter gradients summed (what the trainer does), their running statistics averaged.
Result combine(const std::vector<Result>& parts) {
  Result all;
  const size_t c = parts[0].dgamma.size();
  all.dgamma.assign(c, 0.0);
  all.dbeta.assign(c, 0.0);
  all.running_mean.assign(c, 0.0);
  all.running_var.assign(c, 0.0);
  for (const Result& r : parts) {
    all.y.insert(all.y.end(), r.y.begin(), r.y.end());
    all.dx.insert(all.dx.end(), r.dx.begin(), r.dx.end());
    for (size_t j = 0; j < c; ++j) {
      all.dgamma[j] += r.dgamma[j];
      all.dbeta[j] += r.dbeta[j];
      all.running_mean[j] += r.running_mean[j] / static_cast<double>(parts.size());
      all.running_var[j] += r.running_var[j] / static_cast<double>(parts.size());
    }
  }
  return all;
}

void check_near(const std::vector<double>& got, const std::vector<double>& want, double rel, const char* what) {
  CAPTURE(what);
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    CAPTURE(i);
    CHECK(got[i] == doctest::Approx(want[i]).epsilon(rel).scale(1.0));
  }
}

void check_outputs_and_dx(const Result& got, const Result& want, double rel) {
  check_near(got.y, want.y, rel, "y");
  check_near(got.dx, want.dx, rel, "dx");
}

void check_all(const Result& got, const Result& want, double rel) {
  check_outputs_and_dx(got, want, rel);
  check_near(got.dgamma, want.dgamma, rel, "dgamma");
  check_near(got.dbeta, want.dbeta, rel, "dbeta");
  check_near(got.running_mean, want.running_mean, rel, "running_mean");
  check_near(got.running_var, want.running_var, rel, "running_var");
}

void check_same_bits(const Result& a, const Result& b) {
  CHECK(a.y == b.y);
  CHECK(a.dx == b.dx);
  CHECK(a.dgamma == b.dgamma);
  CHECK(a.dbeta == b.dbeta);
  CHECK(a.running_mean == b.running_mean);
  CHECK(a.running_var == b.running_var);
}

const Layout kFlat{0, 0, 5};     // [B,5]
const Layout kImage{2, 3, 4};    // [B,2,3,4]: n = 6 values per channel per sample

}  // namespace

// ---- synchronized ----

template <class T>
void check_synchronized(double rel) {
  struct Case {
    int workers;
    int64_t B;
  };
  // 7 = 4+3 and 3+2+2 (uneven shares); 3 = 2+1: a worker with one sample is fine when the global n is not.
  for (const Case k : {Case{2, 7}, Case{3, 7}, Case{2, 3}})
    for (const Layout& l : {kFlat, kImage})
      for (Mode mode : {Mode::train, Mode::eval_batch_stats}) {
        CAPTURE(k.workers);
        CAPTURE(k.B);
        CAPTURE(l.h);
        const std::string mode_name = to_string(mode);
        CAPTURE(mode_name);
        const Problem p = make_problem(l, k.B, 100 + static_cast<uint64_t>(k.B));
        const Result whole = run_share<T>(p, 0, k.B, 1, nullptr, mode);
        const std::vector<Result> parts = run_workers<T>(p, k.workers, true, mode);
        // Every worker holds the global running statistics; combine() averages N equal copies.
        for (const Result& r : parts) {
          check_near(r.running_mean, whole.running_mean, rel, "a worker's running_mean");
          check_near(r.running_var, whole.running_var, rel, "a worker's running_var");
        }
        check_all(combine(parts), whole, rel);
        // dγ, dβ are each worker's own part: one worker's alone is not the whole batch's.
        CHECK(parts[0].dbeta[0] != doctest::Approx(whole.dbeta[0]).epsilon(1e-3));
      }
}

TEST_CASE("synchronized batch norm: 2 and 3 workers on uneven shares equal one session on the whole batch") {
  SUBCASE("double") { check_synchronized<double>(1e-12); }
  SUBCASE("float") { check_synchronized<float>(1e-5); }
}

TEST_CASE("synchronized batch norm with one worker gives the bits of no collective") {
  for (const Layout& l : {kFlat, kImage}) {
    CAPTURE(l.h);
    const Problem p = make_problem(l, 5, 7);
    check_same_bits(run_workers<float>(p, 1, true)[0], run_share<float>(p, 0, 5, 1, nullptr));
    check_same_bits(run_workers<double>(p, 1, true)[0], run_share<double>(p, 0, 5, 1, nullptr));
  }
}

TEST_CASE("synchronized batch norm: two threads per worker give the bits of one") {
  // 40 channels: two parts of kFeatureGrain (16) per kernel.
  const Problem p = make_problem(Layout{2, 2, 40}, 5, 31);
  const auto one = run_workers<float>(p, 2, true, Mode::train, 1), two = run_workers<float>(p, 2, true, Mode::train, 2);
  for (size_t r = 0; r < one.size(); ++r) check_same_bits(one[r], two[r]);
}

TEST_CASE("synchronized batch norm refuses a global n of 1 on every worker, and eval needs no statistics") {
  const Problem p = make_problem(kFlat, 1, 3);
  CHECK_THROWS_WITH_AS(run_workers<float>(p, 1, true),
                       "node 'bn' (batch_norm): train mode needs at least 2 values per channel, got n = 1 over all workers "
                       "(synchronized batch statistics, 1 worker)",
                       UsageError);
  // A [1,1,1,C] image: n = B·H·W = 1 globally.
  const Problem q = make_problem(Layout{1, 1, 3}, 1, 3);
  CHECK_THROWS_WITH_AS(run_workers<float>(q, 1, true),
                       "node 'bn' (batch_norm): train mode needs at least 2 values per channel, got n = 1 over all workers "
                       "(synchronized batch statistics, 1 worker)",
                       UsageError);
  ThreadCollectiveGroup group(1);
  BnGraph f(kFlat, 1);
  BasicSession<double> s(compile(f.g, f.out), {.collective = &group.member(0)});
  s.set_batch(1);
  CHECK_THROWS_WITH_AS(s.forward(Mode::eval_batch_stats),
                       "node 'bn' (batch_norm): eval_batch_stats mode needs at least 2 values per channel, got n = 1 over all "
                       "workers (synchronized batch statistics, 1 worker)",
                       UsageError);
  // Eval uses the running statistics: no collective call, a batch of one is fine.
  CHECK_NOTHROW(s.forward(Mode::eval));
}

// ---- ghost batches ----

namespace {

// The mean and the unbiased variance per channel over samples [first, first + n) of x, from the
// definitions.
void share_stats(const std::vector<double>& x, const Layout& l, int64_t first, int64_t n, std::vector<double>& mean,
                 std::vector<double>& unbiased) {
  const int64_t C = l.c, rows = n * l.rows_per_sample(), r0 = first * l.rows_per_sample();
  mean.assign(static_cast<size_t>(C), 0.0);
  unbiased.assign(static_cast<size_t>(C), 0.0);
  for (int64_t c = 0; c < C; ++c) {
    double sum = 0, sq = 0;
    for (int64_t r = r0; r < r0 + rows; ++r) sum += x[static_cast<size_t>(r * C + c)];
    const double mu = sum / static_cast<double>(rows);
    for (int64_t r = r0; r < r0 + rows; ++r) sq += (x[static_cast<size_t>(r * C + c)] - mu) * (x[static_cast<size_t>(r * C + c)] - mu);
    mean[static_cast<size_t>(c)] = mu;
    unbiased[static_cast<size_t>(c)] = sq / static_cast<double>(rows - 1);
  }
}

// running = (1 − m)·running + m·(1/G)·Σ_g stat_g, for the training steps on x1 and x2, from (0, 1).
void ghost_running(const Problem& p, int64_t G, std::vector<double>& rm, std::vector<double>& rv) {
  const size_t C = static_cast<size_t>(p.layout.c);
  rm.assign(C, 0.0);
  rv.assign(C, 1.0);
  for (const auto* x : {&p.x1, &p.x2}) {
    std::vector<double> mean_of_means(C, 0.0), mean_of_vars(C, 0.0), mean, var;
    for (int64_t g = 0; g < G; ++g) {
      const BatchShare s = share_of(p.B, G, g);
      share_stats(*x, p.layout, s.first, s.rows, mean, var);
      for (size_t c = 0; c < C; ++c) {
        mean_of_means[c] += mean[c] / static_cast<double>(G);
        mean_of_vars[c] += var[c] / static_cast<double>(G);
      }
    }
    for (size_t c = 0; c < C; ++c) {
      rm[c] = (1 - kMomentum) * rm[c] + kMomentum * mean_of_means[c];
      rv[c] = (1 - kMomentum) * rv[c] + kMomentum * mean_of_vars[c];
    }
  }
}

}  // namespace

template <class T>
void check_ghost(double rel) {
  struct Case {
    int64_t B, G;
  };
  // 7 = 3+2+2 and 4+3; 5 = 3+2.
  for (const Case k : {Case{7, 3}, Case{7, 2}, Case{5, 2}})
    for (const Layout& l : {kFlat, kImage}) {
      CAPTURE(k.B);
      CAPTURE(k.G);
      CAPTURE(l.h);
      const Problem p = make_problem(l, k.B, 200 + static_cast<uint64_t>(k.B));
      const Result ghost = run_share<T>(p, 0, k.B, k.G, nullptr);
      // G independent batch norms, one per share (each seeded with its rows of u/B).
      std::vector<Result> shares;
      for (int64_t g = 0; g < k.G; ++g) {
        const BatchShare s = share_of(k.B, k.G, g);
        shares.push_back(run_share<T>(p, s.first, s.rows, 1, nullptr));
      }
      const Result independent = combine(shares);
      check_outputs_and_dx(ghost, independent, rel);
      check_near(ghost.dgamma, independent.dgamma, rel, "dgamma");
      check_near(ghost.dbeta, independent.dbeta, rel, "dbeta");
      std::vector<double> rm, rv;
      ghost_running(p, k.G, rm, rv);
      check_near(ghost.running_mean, rm, rel, "running_mean");
      check_near(ghost.running_var, rv, rel, "running_var");
      // The update is linear: the shares' own running statistics, averaged, are the same numbers.
      check_near(ghost.running_mean, independent.running_mean, rel, "running_mean (averaged)");
      check_near(ghost.running_var, independent.running_var, rel, "running_var (averaged)");
      // … and not the whole batch's.
      const Result whole = run_share<T>(p, 0, k.B, 1, nullptr);
      CHECK(ghost.y[0] != doctest::Approx(whole.y[0]).epsilon(1e-3));
    }
}

TEST_CASE("ghost batch norm: G shares equal G independent batch norms of the shares") {
  SUBCASE("double") { check_ghost<double>(1e-12); }
  SUBCASE("float") { check_ghost<float>(1e-5); }
}

TEST_CASE("ghost batch norm = workers that normalize locally (G = N, no collective)") {
  for (const Layout& l : {kFlat, kImage})
    for (int workers : {2, 3}) {
      CAPTURE(l.h);
      CAPTURE(workers);
      const Problem p = make_problem(l, 7, 300);
      const Result ghost = run_share<double>(p, 0, 7, workers, nullptr);
      const Result local = combine(run_workers<double>(p, workers, false));
      check_all(local, ghost, 1e-12);  // running statistics: the workers' averaged
      const Result ghost_f = run_share<float>(p, 0, 7, workers, nullptr);
      const Result local_f = combine(run_workers<float>(p, workers, false));
      check_outputs_and_dx(local_f, ghost_f, 1e-5);
    }
}

TEST_CASE("ghost batch norm passes the gradient check in double (train and eval_batch_stats)") {
  for (Mode mode : {Mode::train, Mode::eval_batch_stats}) {
    struct Case {
      Layout l;
      int64_t B, G;
    };
    for (const Case k : {Case{kImage, 7, 3}, Case{kFlat, 7, 2}, Case{kFlat, 5, 2}}) {
      const std::string mode_name = to_string(mode);
      CAPTURE(mode_name);
      CAPTURE(k.B);
      CAPTURE(k.G);
      BnGraph f(k.l, k.G);
      // Step 1e-5, not 1e-6: the target sums 168 outputs of size ~1, whose rounding (1e-16·10/h)
      // would otherwise reach 1e-6 of the abs floor 1e-3.
      const GradCheckResult r = gradcheck(f.g, f.out, {.batch = k.B, .seed = 5, .step = 1e-5, .mode = mode});
      CHECK(r.tensors.size() == 3);  // x, gamma, beta
      for (const auto& t : r.tensors) {
        CAPTURE(t.name);
        CHECK(t.max_rel_error < 1e-6);
      }
    }
  }
}

TEST_CASE("ghost batch norm: two threads give the bits of one") {
  const Problem p = make_problem(Layout{2, 2, 40}, 7, 41);
  check_same_bits(run_share<float>(p, 0, 7, 3, nullptr, Mode::train, 1), run_share<float>(p, 0, 7, 3, nullptr, Mode::train, 2));
}

TEST_CASE("ghost batch norm errors: G > B, a share of one value, G > 1 with a collective; eval ignores G") {
  {
    const Problem p = make_problem(kFlat, 3, 9);
    CHECK_THROWS_WITH_AS(run_share<float>(p, 0, 3, 4, nullptr),
                         "node 'bn' (batch_norm): ghost_batches = 4 is more than the B = 3 samples of the batch", UsageError);
  }
  {
    // 5 = 2+2+1: the third share has one value per channel.
    const Problem p = make_problem(kFlat, 5, 9);
    CHECK_THROWS_WITH_AS(run_share<float>(p, 0, 5, 3, nullptr),
                         "node 'bn' (batch_norm): train mode needs at least 2 values per channel in every ghost batch, got n = 1 "
                         "in ghost batch 3 of 3 (B = 5)",
                         UsageError);
    // The same split of [B,1,2,C] images has 2 values per channel in every share (one sample of H·W = 2).
    const Problem q = make_problem(Layout{1, 2, 3}, 5, 9);
    CHECK_NOTHROW(run_share<float>(q, 0, 5, 3, nullptr));
  }
  {
    ThreadCollectiveGroup group(1);
    BnGraph f(kFlat, 2);
    Session s(compile(f.g, f.out), {.collective = &group.member(0)});
    s.set_batch(4);
    CHECK_THROWS_WITH_AS(s.forward(Mode::train),
                         "node 'bn' (batch_norm): ghost_batches = 2 cannot be combined with synchronized batch statistics (a "
                         "collective): use one or the other",
                         UsageError);
  }
  {
    // Eval: the running statistics, G plays no part (G = 4 > B = 3 is fine) and gives G = 1's bits.
    std::vector<float> y[2];
    for (int64_t G : {1, 4}) {
      BnGraph f(kFlat, G);
      Session s(compile(f.g, f.out));
      s.set_batch(3);
      copy_into(s.input("x"), uniform_values(4, 15, -1.0, 1.0));
      s.state().view(s.state().find("bn.running_var")).vec().setConstant(2.0f);
      s.forward(Mode::eval);
      const auto v = s.value(f.out.id);
      y[G == 1 ? 0 : 1].assign(v.data, v.data + v.size());
    }
    CHECK(y[0] == y[1]);
  }
  {
    Graph g;
    auto x = g.input("x", {batch, 2});
    auto c = g.parameter("c", {2}, Init::zeros());
    CHECK_THROWS_WITH_AS(batch_norm(x, c, c, "bn", {.ghost_batches = 0}),
                         "node 'bn' (batch_norm): ghost_batches must be an integer in [1, 16777216], got 0", ShapeError);
  }
}

// ---- G = 1: the bits of the kernel before ghost batches and synchronization ----

namespace before_ghost {

// ops/batch_norm.cpp's forward and backward as they were before ghost batches and synchronized
// statistics (commit a4bc8cc), verbatim but for the names: the reference G = 1 must keep to the bit.
constexpr AttrDecl kAttrs[] = {{"momentum", 0.1}, {"eps", 1e-5}};
Shape per_feature(const ShapeContext& c) { return Shape{c.in[0][c.in[0].rank() - 1]}; }
constexpr TensorDecl kSaved[] = {{"x_hat", [](const ShapeContext& c) { return c.in[0]; }}, {"inv_std", per_feature}};
constexpr TensorDecl kScratch[] = {{"stats", [](const ShapeContext& c) { return Shape{2, per_feature(c)[0]}; }}};
constexpr StateDecl kState[] = {{"running_mean", 0.0, per_feature}, {"running_var", 1.0, per_feature}};
constexpr int momentum = index_of(kAttrs, "momentum"), eps = index_of(kAttrs, "eps");
constexpr int x_hat = index_of(kSaved, "x_hat"), inv_std = index_of(kSaved, "inv_std");
constexpr int stats = index_of(kScratch, "stats");
constexpr int running_mean = index_of(kState, "running_mean"), running_var = index_of(kState, "running_var");
constexpr int64_t kFeatureGrain = 16;

template <class T, class S, class V>
void inverse_std(S&& s, const V& v, T epsilon) {
  for (Eigen::Index j = 0; j < s.size(); ++j) s[j] = T(1) / std::sqrt(v[j] + epsilon);
}

template <class T>
void forward(const ForwardArgs<T>& a) {
  const auto x = a.in[0].mat();
  const int64_t b = x.rows();
  const T epsilon = static_cast<T>(a.attrs[eps]);
  const T m = static_cast<T>(a.attrs[momentum]);
  auto xh = a.saved[x_hat].mat();
  auto out = a.out.mat();
  parallel_for(a.pool, x.cols(), kFeatureGrain, [&](int64_t f0, int64_t f1) {
    const int64_t nf = f1 - f0;
    const auto gamma = a.in[1].row().segment(f0, nf).array();
    const auto beta = a.in[2].row().segment(f0, nf).array();
    auto s = a.saved[inv_std].row().segment(f0, nf).array();
    auto rm = a.state[running_mean].row().segment(f0, nf).array();
    auto rv = a.state[running_var].row().segment(f0, nf).array();
    if (a.mode == Mode::eval) {
      inverse_std(s, rv, epsilon);
      for (int64_t r = 0; r < b; ++r) {
        xh.row(r).segment(f0, nf).array() = (x.row(r).segment(f0, nf).array() - rm) * s;
        out.row(r).segment(f0, nf).array() = xh.row(r).segment(f0, nf).array() * gamma + beta;
      }
      return;
    }
    auto mean = a.scratch[stats].mat().row(0).segment(f0, nf).array();
    auto var = a.scratch[stats].mat().row(1).segment(f0, nf).array();
    mean.setZero();
    for (int64_t r = 0; r < b; ++r) mean += x.row(r).segment(f0, nf).array();
    mean /= static_cast<T>(b);
    var.setZero();
    for (int64_t r = 0; r < b; ++r) var += (x.row(r).segment(f0, nf).array() - mean).square();
    var /= static_cast<T>(b);
    inverse_std(s, var, epsilon);
    for (int64_t r = 0; r < b; ++r) {
      xh.row(r).segment(f0, nf).array() = (x.row(r).segment(f0, nf).array() - mean) * s;
      out.row(r).segment(f0, nf).array() = xh.row(r).segment(f0, nf).array() * gamma + beta;
    }
    if (a.mode == Mode::train) {
      rm = (T(1) - m) * rm + m * mean;
      rv = (T(1) - m) * rv + m * var * (static_cast<T>(b) / static_cast<T>(b - 1));
    }
  });
}

template <class T>
void backward(const BackwardArgs<T>& a) {
  const auto g = a.grad_out.mat();
  const auto xh = a.saved[x_hat].mat();
  const int64_t b = g.rows();
  const T inv_b = T(1) / static_cast<T>(b);
  const auto& dx = a.grad_in[0];
  const auto& dgamma = a.grad_in[1];
  const auto& dbeta = a.grad_in[2];
  parallel_for(a.pool, g.cols(), kFeatureGrain, [&](int64_t f0, int64_t f1) {
    const int64_t nf = f1 - f0;
    const auto s = a.saved[inv_std].row().segment(f0, nf).array();
    const auto gamma = a.in[1].row().segment(f0, nf).array();
    auto sum_g = a.scratch[stats].mat().row(0).segment(f0, nf).array();
    auto sum_gx = a.scratch[stats].mat().row(1).segment(f0, nf).array();
    sum_g.setZero();
    sum_gx.setZero();
    for (int64_t r = 0; r < b; ++r) {
      sum_g += g.row(r).segment(f0, nf).array();
      sum_gx += g.row(r).segment(f0, nf).array() * xh.row(r).segment(f0, nf).array();
    }
    if (!dgamma.grad.empty()) store_grad(dgamma.accumulate, dgamma.grad.row().segment(f0, nf).array(), sum_gx);
    if (!dbeta.grad.empty()) store_grad(dbeta.accumulate, dbeta.grad.row().segment(f0, nf).array(), sum_g);
    if (dx.grad.empty()) return;
    auto d = dx.grad.mat();
    if (a.mode == Mode::eval) {
      for (int64_t r = 0; r < b; ++r)
        store_grad(dx.accumulate, d.row(r).segment(f0, nf).array(), gamma * s * g.row(r).segment(f0, nf).array());
      return;
    }
    for (int64_t r = 0; r < b; ++r)
      store_grad(dx.accumulate, d.row(r).segment(f0, nf).array(),
                 gamma * s * (g.row(r).segment(f0, nf).array() - sum_g * inv_b - xh.row(r).segment(f0, nf).array() * sum_gx * inv_b));
  });
}

const OpInfo op = {
    .name = "batch_norm_before_ghost",
    .inputs = {{"x"}, {"gamma"}, {"beta"}},
    .attrs = kAttrs,
    .saved = kSaved,
    .scratch = kScratch,
    .state = kState,
    .infer = [](const ShapeContext& c) { return c.in[0]; },
    .f32 = {forward<float>, backward<float>},
    .f64 = {forward<double>, backward<double>},
};

}  // namespace before_ghost

namespace {

// Train on x1 and on x2, eval_batch_stats on x1, eval on x2, each with its backward: everything the
// op computes, in T, by the op as it was (`before`) or batch_norm with G = 1, on [B,...] of layout l.
template <class T>
std::vector<std::vector<double>> everything(bool before, const Layout& l, int64_t B, int threads) {
  Graph g;
  auto x = l.h == 0 ? g.input("x", {batch, l.c}) : g.input("x", {batch, l.h, l.w, l.c});
  auto gamma = g.parameter("gamma", {l.c}, Init::zeros());
  auto beta = g.parameter("beta", {l.c}, Init::zeros());
  const Var out = before ? g.op(before_ghost::op, {x, gamma, beta}, "bn", {{"momentum", kMomentum}, {"eps", kEps}})
                         : batch_norm(x, gamma, beta, "bn", {.momentum = kMomentum, .eps = kEps, .ghost_batches = 1});
  BasicSession<T> s(compile(g, out, {.backward = true, .input_gradients = true}), {.threads = threads});
  const Problem p = make_problem(l, B, 77);
  auto& params = s.parameters();
  copy_into(params.view(params.find("gamma")), p.gamma);
  copy_into(params.view(params.find("beta")), p.beta);
  s.set_batch(B);
  std::vector<T> seed(p.u.begin(), p.u.end());
  std::vector<std::vector<double>> all;
  auto collect = [&] {
    all.push_back(values<T>(s.grad(x.id)));
    const auto& grads = s.gradients();
    all.push_back(values<T>(grads.view(grads.find("gamma"))));
    all.push_back(values<T>(grads.view(grads.find("beta"))));
  };
  int step = 0;
  for (Mode mode : {Mode::train, Mode::train, Mode::eval_batch_stats, Mode::eval}) {
    copy_into(s.input("x"), step++ % 2 ? p.x2 : p.x1);
    s.forward(mode);
    all.push_back(values<T>(s.value(out.id)));
    s.backward(seed);
    collect();
  }
  const auto& st = s.state();
  all.push_back(values<T>(st.view(st.find("bn.running_mean"))));
  all.push_back(values<T>(st.view(st.find("bn.running_var"))));
  return all;
}

}  // namespace

TEST_CASE("batch norm with G = 1 and no collective gives the bits of the kernel before either existed") {
  for (const Layout& l : {kFlat, Layout{0, 0, 40}, kImage, Layout{3, 3, 40}})
    for (int threads : {1, 2}) {
      CAPTURE(l.h);
      CAPTURE(l.c);
      CAPTURE(threads);
      CHECK(everything<float>(true, l, 6, threads) == everything<float>(false, l, 6, threads));
      CHECK(everything<double>(true, l, 6, threads) == everything<double>(false, l, 6, threads));
    }
}

// Optimizer updates against values computed by hand.
#include <doctest/doctest.h>

#include <limits>
#include <set>
#include <string>
#include <vector>

#include <cmath>
#include <string>

#include "graph/errors.hpp"
#include "train/config_fields.hpp"
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

TEST_CASE("invalid optimizer settings name the field and the value") {
  Stores s(1.0f, 1.0f);
  CHECK_THROWS_WITH_AS(Optimizer({.lr = -1}, s.p), "lr must be positive and finite, got -1", ConfigError);
  CHECK_THROWS_WITH_AS(Optimizer({.lr = std::nan("")}, s.p), "lr must be positive and finite, got nan", ConfigError);
  CHECK_THROWS_WITH_AS(Optimizer({.beta2 = 1.0}, s.p), "beta2 must be in [0, 1), got 1", ConfigError);
  CHECK_THROWS_WITH_AS(Optimizer({.weight_decay = -0.5}, s.p), "weight_decay must be >= 0, got -0.5", ConfigError);
  CHECK_THROWS_WITH_AS(optimizer_from_string("rmsprop"), doctest::Contains("rmsprop"), UsageError);
}

TEST_CASE("with a thread pool every optimizer gives the same bits as without, on every element") {
  // 50,006 elements in three tensors: the pool splits the flat buffer into two parts (at least
  // 16,384 elements each), and the odd sizes put tensor boundaries inside a part.
  const auto fill = [](TensorStore<float>& s, float scale) {
    for (size_t i = 0; i < s.data.size(); ++i) s.data[i] = scale * std::sin(0.37f * static_cast<float>(i) + 1.0f);
  };
  ThreadPool pool(2);
  for (auto kind : {OptimizerKind::sgd, OptimizerKind::momentum, OptimizerKind::adam, OptimizerKind::adamw}) {
    const std::string name = to_string(kind);
    CAPTURE(name);
    TensorStore<float> p_serial, p_pooled, g;
    for (auto* s : {&p_serial, &p_pooled, &g}) {
      s->add("a", Shape{101, 99}, 0.0f);
      s->add("b", Shape{7}, 0.0f);
      s->add("c", Shape{40, 1000}, 0.0f);
    }
    REQUIRE(g.data.size() == 50'006);
    fill(p_serial, 1.0f);
    fill(p_pooled, 1.0f);
    const OptimizerConfig config{.kind = kind, .lr = 0.01, .weight_decay = 0.1};
    Optimizer serial(config, p_serial), pooled(config, p_pooled);
    for (int step = 1; step <= 3; ++step) {
      fill(g, 0.5f * static_cast<float>(step));
      serial.step(p_serial, g);
      pooled.step(p_pooled, g, &pool);
    }
    CHECK(p_pooled.data == p_serial.data);
    CHECK(pooled.first_moment().data == serial.first_moment().data);
    CHECK(pooled.second_moment().data == serial.second_moment().data);
    // The last element (in the worker's part) moved at all: sgd after 3 steps by lr·(0.5 + 1 + 1.5)·g.
    if (kind == OptimizerKind::sgd) {
      TensorStore<float> initial = TensorStore<float>::like(g), unit = TensorStore<float>::like(g);
      fill(initial, 1.0f);
      fill(unit, 1.0f);
      const size_t last = g.data.size() - 1;
      CHECK(p_pooled.data[last] == doctest::Approx(initial.data[last] - 0.01 * 3.0 * unit.data[last]).epsilon(1e-5));
      CHECK(p_pooled.data[last] != initial.data[last]);
    }
  }
}

TEST_CASE("configuration fields: each declared once, with a range the validation and the messages use") {
  // Every field of TrainConfig is visited once, the optimizer's inside it, in declaration order.
  std::vector<std::string> names;
  std::set<std::string> flags;
  TrainConfig c;
  visit_fields(c, [&](const FieldInfo& f, auto&) {
    names.push_back(f.nested ? std::string(f.nested) + "." + f.name : std::string(f.name));
    if (f.flag) CHECK(flags.insert(f.flag).second);  // no flag twice
  });
  CHECK(names == std::vector<std::string>{"dataset", "model", "epochs", "batch_size", "drop_last", "optimizer.kind",
                                          "optimizer.lr", "optimizer.momentum", "optimizer.beta1", "optimizer.beta2",
                                          "optimizer.eps", "optimizer.weight_decay", "seed", "threads", "eval_batch_size",
                                          "record_internals", "on_nonfinite", "lr_schedule", "lr_step_epochs", "lr_gamma", "lr_min",
                                          "lr_warmup_epochs", "lr_warmup_start", "early_stop", "early_stop_metric",
                                          "early_stop_min_delta"});
  // The defaults are the structs' own (DESIGN.md's reference experiment).
  CHECK(c.optimizer.lr == 1e-3);
  CHECK(c.optimizer.eps == 1e-7);
  CHECK(c.batch_size == 32);
  CHECK(c.epochs == 10);
  CHECK_NOTHROW(c.validate());
  // Ranges: the boundary values.
  CHECK(kUnitOpen.contains(0.0));
  CHECK_FALSE(kUnitOpen.contains(1.0));
  CHECK_FALSE(kPositive.contains(0.0));
  CHECK_FALSE(kPositive.contains(std::numeric_limits<double>::infinity()));
  CHECK(kNonNegative.contains(0.0));
  CHECK(kAtLeastOne.text() == "at least 1");
  CHECK(kUnitOpen.text() == "in [0, 1)");
  c.threads = 0;
  CHECK_THROWS_WITH_AS(c.validate(), "threads must be at least 1, got 0", ConfigError);
  c.threads = 1;
  c.eval_batch_size = 0;
  CHECK_THROWS_WITH_AS(c.validate(), "eval_batch_size must be at least 1, got 0", ConfigError);
}

#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "graph/compile.hpp"
#include "graph/errors.hpp"
#include "graph/session.hpp"
#include "ops/softmax_cross_entropy.hpp"

using namespace bnlab;

namespace {
struct Sce {
  Graph g;
  Var logits, y, loss;
  Sce() {
    logits = g.input("logits", {batch, 3});
    y = g.labels("y", 3);
    loss = softmax_cross_entropy(logits, y, "loss");
  }
};
}  // namespace

TEST_CASE("softmax cross-entropy on a case computed by hand") {
  Sce f;
  BasicSession<double> s(compile(f.g, f.loss, {.backward = true, .input_gradients = true}));
  s.set_batch(2);
  // Row 0: logits (0, 0, 0), label 2 → loss ln 3 = 1.0986123, probabilities 1/3 each.
  // Row 1: logits (ln 2, 0, 0), label 0 → softmax (2/4, 1/4, 1/4), loss −ln 0.5 = 0.6931472; arg-max 0 = label.
  s.input("logits").vec() << 0, 0, 0, std::log(2.0), 0, 0;
  s.labels("y")[0] = 2;
  s.labels("y")[1] = 0;
  const double loss = s.forward(Mode::train);
  CHECK(loss == doctest::Approx((std::log(3.0) + std::log(2.0)) / 2).epsilon(1e-12));
  // Row 0's arg-max is index 0 (ties go to the first), label 2: wrong. Row 1 right: 1 correct.
  CHECK(s.saved(f.loss.id, "correct").data[0] == 1.0);
  CHECK(correct_predictions(s, f.loss.id) == 1);
  s.backward();
  // d/dlogits = (softmax − onehot)/B: row 0 (1/3, 1/3, −2/3)/2, row 1 (0.5 − 1, 0.25, 0.25)/2.
  const auto d = s.grad(f.logits.id);
  CHECK(d(0, 0) == doctest::Approx(1.0 / 6));
  CHECK(d(0, 2) == doctest::Approx(-1.0 / 3));
  CHECK(d(1, 0) == doctest::Approx(-0.25));
  CHECK(d(1, 1) == doctest::Approx(0.125));
}

TEST_CASE("softmax cross-entropy stays finite and correct at logits of ±1000") {
  Sce f;
  Session s(compile(f.g, f.loss, {.backward = true, .input_gradients = true}));
  s.set_batch(3);
  // Row 0: (1000, −1000, 0), label 0 → loss = log(1 + e^−2000 + e^−1000) ≈ 0.
  // Row 1: (1000, −1000, 0), label 1 → loss = 1000 − (−1000) = 2000.
  // Row 2: (1000, 1000, −1000), label 1 → loss = ln 2.
  s.input("logits").vec() << 1000, -1000, 0, 1000, -1000, 0, 1000, 1000, -1000;
  auto y = s.labels("y");
  y[0] = 0;
  y[1] = 1;
  y[2] = 1;
  const float loss = s.forward(Mode::train);
  CHECK(std::isfinite(loss));
  CHECK(loss == doctest::Approx((0.0 + 2000.0 + std::log(2.0)) / 3).epsilon(1e-6));
  s.backward();
  const auto d = s.grad(f.logits.id);
  for (int64_t k = 0; k < d.size(); ++k) CHECK(std::isfinite(d.data[k]));
  CHECK(d(1, 0) == doctest::Approx(1.0 / 3));   // softmax ≈ (1, 0, 0), onehot (0, 1, 0), /B = 3
  CHECK(d(1, 1) == doctest::Approx(-1.0 / 3));
  CHECK(d(2, 0) == doctest::Approx(0.5 / 3));
}

TEST_CASE("a label out of range is an error naming the node, the row and the label") {
  Sce f;
  Session s(compile(f.g, f.loss));
  s.set_batch(2);
  s.input("logits").vec().setZero();
  s.labels("y")[0] = 1;
  s.labels("y")[1] = 3;
  CHECK_THROWS_WITH_AS(s.forward(Mode::eval),
                       "node 'loss' (softmax_cross_entropy): label 3 at row 1 is outside [0, 3)", InputError);
}

TEST_CASE("correct_predictions counts the rows whose arg-max is the label, ties to the lowest class") {
  Sce f;
  Session s(compile(f.g, f.loss));
  s.set_batch(4);
  // Arg-max per row: 1; 0; 0 (a three-way tie goes to class 0); 1 ((0, 5, 5) ties classes 1 and 2).
  // Labels 1, 0, 1, 2: rows 0 and 1 right, rows 2 and 3 wrong.
  s.input("logits").vec() << 1, 2, 0, 3, 1, 0, 0, 0, 0, 0, 5, 5;
  auto y = s.labels("y");
  y[0] = 1;
  y[1] = 0;
  y[2] = 1;
  y[3] = 2;
  s.forward(Mode::eval);
  CHECK(correct_predictions(s, f.loss.id) == 2);
  y[3] = 1;  // the tie of row 3 goes to class 1
  s.forward(Mode::eval);
  CHECK(correct_predictions(s, f.loss.id) == 3);
  // Asked of a node that is not the loss: an error naming it.
  try {
    (void)correct_predictions(s, f.logits.id);
    FAIL("expected a UsageError");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()) == "node 'logits' is not a softmax_cross_entropy loss, so it counts no correct predictions");
  }
}

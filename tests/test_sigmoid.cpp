// The sigmoid op on values worked out by hand: σ(x) = 1 / (1 + e^(−x)), σ'(x) = σ(x)(1 − σ(x)).
// (Its gradient against finite differences runs with every registered op in test_ops_gradcheck.)
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "graph/compile.hpp"
#include "graph/session.hpp"
#include "ops/sigmoid.hpp"

using namespace bnlab;

TEST_CASE("sigmoid: values and gradient by hand, finite at ±1000") {
  Graph g;
  auto x = g.input("x", {batch, 6});
  auto y = sigmoid(x, "s");
  Session s(compile(g, y.id, {.input_gradients = true}));
  s.set_batch(1);
  const std::vector<float> in = {0.0f, 2.0f, -2.0f, 1000.0f, -1000.0f, 0.5f};
  std::copy(in.begin(), in.end(), s.input("x").data);
  s.forward(Mode::train);
  const auto out = s.value(y.id).vec();
  // σ(0) = 1/2; σ(2) = 1/(1 + e^-2) = 0.8807970779778823; σ(−2) = 1 − σ(2); σ(0.5) = 0.6224593312018546.
  CHECK(out[0] == 0.5f);
  CHECK(out[1] == doctest::Approx(0.8807970779778823).epsilon(1e-7));
  CHECK(out[2] == doctest::Approx(0.11920292202211755).epsilon(1e-6));
  CHECK(out[3] == 1.0f);
  CHECK(out[4] == 0.0f);
  CHECK(out[5] == doctest::Approx(0.6224593312018546).epsilon(1e-7));

  // d(Σ seed·σ(x))/dx = seed · σ(1 − σ): at 0 that is 1/4; at 2, σ(2)(1 − σ(2)) = 0.10499358540350662;
  // saturated at ±1000, exactly 0 (the vanishing gradient).
  const std::vector<float> seed(6, 1.0f);
  s.backward(seed);
  const auto dx = s.grad(x.id).vec();
  REQUIRE(dx.size() == 6);
  CHECK(dx[0] == 0.25f);
  CHECK(dx[1] == doctest::Approx(0.10499358540350662).epsilon(1e-6));
  CHECK(dx[2] == doctest::Approx(0.10499358540350662).epsilon(1e-5));
  CHECK(dx[3] == 0.0f);
  CHECK(dx[4] == 0.0f);
  CHECK(dx[5] == doctest::Approx(0.2350037122015945).epsilon(1e-6));
}

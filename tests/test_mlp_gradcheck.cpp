// Whole-graph gradient checks of small MLPs built from MlpSpec, in training mode.
#include <doctest/doctest.h>

#include <cstdio>

#include "graph/gradcheck.hpp"
#include "models/mlp.hpp"
#include "models/model.hpp"

using namespace bnlab;

namespace {
void check_spec(const MlpSpec& spec, const char* label) {
  Model m = build_model((spec).model_spec());
  const GradCheckResult r = gradcheck(m.graph, m.loss, {.batch = 6, .seed = 3, .mode = Mode::train});
  REQUIRE(!r.tensors.empty());
  for (const auto& t : r.tensors) {
    CAPTURE(label);
    CAPTURE(t.name);
    CAPTURE(t.analytic);
    CAPTURE(t.numeric);
    CHECK(t.max_rel_error < 1e-6);
  }
  std::printf("gradcheck mlp %-28s max rel error %.2e over %zu tensors\n", label, r.max_rel_error(), r.tensors.size());
}

MlpSpec small(Norm norm, NormPlacement placement = NormPlacement::after_activation,
              Activation act = Activation::relu) {
  MlpSpec s;
  s.inputs = 5;
  s.hidden = {6, 4};
  s.classes = 3;
  s.norm = norm;
  s.placement = placement;
  s.activation = act;
  return s;
}
}  // namespace

TEST_CASE("small MLP without batch norm") { check_spec(small(Norm::none), "plain"); }
TEST_CASE("small MLP with batch norm after each ReLU") { check_spec(small(Norm::batch), "batchnorm"); }
TEST_CASE("small MLP with batch norm before each activation") {
  check_spec(small(Norm::batch, NormPlacement::before_activation), "batchnorm-before");
}
TEST_CASE("small MLP with batch norm and sigmoid (Ioffe & Szegedy's saturating units)") {
  check_spec(small(Norm::batch, NormPlacement::before_activation, Activation::sigmoid), "batchnorm-sigmoid");
}
TEST_CASE("small MLP with layer norm and tanh") {
  check_spec(small(Norm::layer, NormPlacement::after_activation, Activation::tanh), "layernorm-tanh");
}

TEST_CASE("the reference presets have the reference shapes") {
  const Model plain = build_model((MlpSpec::preset("plain")).model_spec());
  CHECK(plain.spec.describe() == "784-128-64-10");
  CHECK(plain.graph.find("bn1") < 0);
  const Model bn = build_model((MlpSpec::preset("batchnorm")).model_spec());
  // dense → relu → batch norm, for both hidden layers
  const Node& bn1 = bn.graph.node(bn.graph.find("bn1"));
  CHECK(std::string(bn.graph.node(bn1.inputs[0]).op->name) == "relu");
  CHECK(bn.graph.node(bn.graph.find("bn2")).shape == Shape{batch, 64});
  CHECK(bn.graph.node(bn.graph.find("out.weight")).shape == Shape{64, 10});
}

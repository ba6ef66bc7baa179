// Whole-graph gradient checks of small MLPs built from MlpSpec, in every mode a forward pass has
// (train: batch statistics; eval: running statistics; eval_batch_stats), on one thread and on two —
// with layers wide enough (≥ 32 features) that batch norm's split of its features over threads
// (parts of 16) cuts through them.
#include <doctest/doctest.h>

#include <cstdio>

#include "graph/gradcheck.hpp"
#include "models/mlp.hpp"
#include "models/model.hpp"

using namespace bnlab;

namespace {
void check_spec(const MlpSpec& spec, const char* label) {
  Model m = build_model((spec).model_spec());
  for (Mode mode : {Mode::train, Mode::eval, Mode::eval_batch_stats})
    for (int threads : {1, 2}) {
      // A seeded sample of 150 elements per tensor keeps the wide models' checks to a second.
      const GradCheckResult r = gradcheck(
          m.graph, m.loss, {.batch = 6, .seed = 3, .mode = mode, .threads = threads, .max_elements_per_tensor = 150});
      REQUIRE(!r.tensors.empty());
      for (const auto& t : r.tensors) {
        CAPTURE(label);
        CAPTURE(to_string(mode));
        CAPTURE(threads);
        CAPTURE(t.name);
        CAPTURE(t.analytic);
        CAPTURE(t.numeric);
        CHECK(t.max_rel_error < 1e-6);
      }
      if (threads == 2 && mode == Mode::train)
        std::printf("gradcheck mlp %-28s max rel error %.2e over %zu tensors\n", label, r.max_rel_error(), r.tensors.size());
    }
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

TEST_CASE("MLPs wide enough for the threads' split of batch norm and layer norm: 40 and 36 features") {
  for (Norm norm : {Norm::batch, Norm::layer})
    for (NormPlacement placement : {NormPlacement::after_activation, NormPlacement::before_activation}) {
      MlpSpec s = small(norm, placement);
      s.hidden = {40, 36};
      check_spec(s, norm == Norm::batch ? "wide batchnorm" : "wide layernorm");
    }
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

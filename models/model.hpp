// A model built: the graph of a ModelSpec and the nodes the trainer, the evaluator and the
// predictor need by name — input, labels, logits, loss — and the probes whose statistics the
// trainer reports.
//
//   bnlab::Model m = bnlab::build_model(bnlab::preset_spec("batchnorm", 784, 10));
//   bnlab::Session s(bnlab::compile(m.graph, m.loss), {.seed = 0});
//   s.input(m.input);  s.labels(m.labels);  s.value(m.logits);  m.probes[0].label == "fc1"
#pragma once

#include <string>
#include <vector>

#include "graph/graph.hpp"
#include "models/model_spec.hpp"

namespace bnlab {

// A node whose values the trainer summarizes per epoch (mean and std over every training step).
struct Probe {
  std::string label;  // LayerSpec::probe
  NodeId node = -1;
};

struct Model {
  Graph graph;
  NodeId input = -1;   // "x": [B, input features]
  NodeId labels = -1;  // "y": [B] class ids in [0, classes)
  NodeId logits = -1;
  NodeId loss = -1;    // "loss": softmax cross-entropy, saves "probs" and "correct"
  std::vector<Probe> probes;
  ModelSpec spec;
};

// Validates the spec (ModelSpec::validate), then adds the nodes layer by layer, in order, so that
// parameters are created — and drawn from the session's seed — in the order of the layer list.
Model build_model(const ModelSpec& spec);

}  // namespace bnlab

// softmax_cross_entropy: logits [B,C] and integer labels [B] → the mean cross-entropy (scalar),
// fused and stable (log-sum-exp with the row maximum subtracted). The same pass saves the
// probabilities (for backward) and the number of rows whose arg-max equals the label (accuracy).
//
//   auto loss = bnlab::softmax_cross_entropy(logits, y);
//   session.forward(Mode::eval);
//   float correct = session.saved(loss.id, "correct").data[0];   // rows predicted right
//
// A label outside [0, C) is an InputError naming the node, the row and the label.
#pragma once

#include "graph/graph.hpp"

namespace bnlab {

extern const OpInfo softmax_cross_entropy_op;
Var softmax_cross_entropy(Var logits, Var labels, const std::string& name = "");

}  // namespace bnlab

// softmax_cross_entropy: logits [B,C] and integer labels [B] → the mean cross-entropy (scalar),
// fused and stable (log-sum-exp with the row maximum subtracted). The same pass saves the
// probabilities (for backward) and the number of rows whose arg-max equals the label (accuracy).
//
//   auto loss = bnlab::softmax_cross_entropy(logits, y);
//   float mean_loss = session.forward(Mode::eval);
//   int64_t right = bnlab::correct_predictions(session, loss.id);  // rows predicted right
//
// A label outside [0, C) is an InputError naming the node, the row and the label.
#pragma once

#include "graph/graph.hpp"
#include "graph/session.hpp"

namespace bnlab {

extern const OpInfo softmax_cross_entropy_op;
Var softmax_cross_entropy(Var logits, Var labels, const std::string& name = "");

// The rows of the session's last forward whose arg-max logit (ties go to the lowest class) equals
// the label: the numerator of the accuracy, counted in the same pass as the loss (the op's saved
// tensor "correct").
// requires: `session` ran forward; `loss` is a softmax_cross_entropy node of its program, else a
// UsageError naming the node.
template <class T>
int64_t correct_predictions(const BasicSession<T>& session, NodeId loss);

}  // namespace bnlab

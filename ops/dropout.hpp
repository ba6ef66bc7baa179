// dropout: x (any shape) → same shape; in training each element is zeroed with probability `rate`
// and the survivors scaled by 1/(1 − rate) ("inverted" dropout, Srivastava et al. 2014, as PyTorch),
// so the expected output equals x and evaluation needs no rescaling.
//
//   auto h = bnlab::dropout(bnlab::relu(fc1), 0.5, "drop1");
//
// Mode::train                  y = x·m, m_k = 1/(1 − p) with probability 1 − p, else 0
// Mode::eval, eval_batch_stats y = x (m = 1)
// The mask is a pure function of (the node's seed, the step, the element index) — counter_uniform in
// graph/random.hpp — so it does not depend on the thread count, and a session seeded alike draws
// the same masks. State "<name>.step" counts the training forwards (so a checkpoint that stores
// the state resumes the same sequence of masks); see ops/dropout.cpp for its two-element encoding.
// Saved "mask" (the m above, as x) is what backward multiplies the gradient by.
#pragma once

#include "graph/graph.hpp"

namespace bnlab {

extern const OpInfo dropout_op;

// rate in [0, 1): 0 is the identity; 1 would drop everything (and divide by zero), so it is refused.
Var dropout(Var x, double rate, const std::string& name);

}  // namespace bnlab

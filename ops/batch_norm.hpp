// batch_norm: x [B,F], gamma [F], beta [F] → [B,F], normalized per feature (PyTorch's BatchNorm1d).
//
//   auto h = bnlab::batch_norm(x, gamma, beta, "bn1");                          // momentum 0.1, eps 1e-5
//   auto k = bnlab::batch_norm(x, gamma, beta, "bn2", {.momentum = 0.01, .eps = 1e-3});  // Keras' defaults
//
// Mode::train            y = gamma·(x − mean)/sqrt(var + eps) + beta with the batch mean and the
//                        biased batch variance; running statistics updated (see forward).
// Mode::eval             the same with the running mean and variance.
// Mode::eval_batch_stats batch statistics as in training, running statistics untouched.
// State: "<name>.running_mean" (starts at 0) and "<name>.running_var" (starts at 1).
// A training batch of one sample is an error (its variance is 0 and the unbiased variance undefined).
#pragma once

#include "graph/fields.hpp"
#include "graph/graph.hpp"

namespace bnlab {

extern const OpInfo batch_norm_op;

// The defaults are PyTorch's; keras() is Keras' (its momentum 0.99 weighs the old running value,
// bnlab's momentum the new batch: 1 − 0.99 = 0.01). Every default of bnlab's batch norm — the op's
// attributes, LayerSpec, the MLP family, the --bn-* flags — is taken from here.
struct BatchNormOptions {
  double momentum = 0.1;  // running = (1 − momentum)·running + momentum·batch statistic
  double eps = 1e-5;
  static constexpr BatchNormOptions keras() { return {0.01, 1e-3}; }
};
// The momenta batch norm accepts.
inline constexpr Range kBatchNormMomentum{0, 1, false, false};

Var batch_norm(Var x, Var gamma, Var beta, const std::string& name, BatchNormOptions options = {});

}  // namespace bnlab

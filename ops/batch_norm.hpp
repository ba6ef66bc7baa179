// batch_norm: x [B,F] or [B,H,W,C], gamma [C], beta [C] → same shape as x, normalized per feature
// (per channel). PyTorch's BatchNorm1d and BatchNorm2d are this one op: a kernel sees [B,H,W,C] as
// the (B·H·W)×C matrix, so both compute per-column statistics over every row — over the B samples
// of a [B,F] batch, over all B·H·W positions of every image for a [B,H,W,C] batch (channels last).
//
//   auto h = bnlab::batch_norm(x, gamma, beta, "bn1");                          // momentum 0.1, eps 1e-5
//   auto k = bnlab::batch_norm(x, gamma, beta, "bn2", {.momentum = 0.01, .eps = 1e-3});  // Keras' defaults
//   auto c = bnlab::batch_norm(conv, gamma16, beta16, "bn3");   // conv [B,28,28,16], gamma/beta [16]
//
// Mode::train            y = gamma·(x − mean)/sqrt(var + eps) + beta with the batch mean and the
//                        biased batch variance over the n = B (or B·H·W) values of each channel;
//                        running statistics updated (running_var unbiased: var·n/(n − 1)).
// Mode::eval             the same with the running mean and variance.
// Mode::eval_batch_stats batch statistics as in training, running statistics untouched.
//
// Synchronized (ForwardArgs::collective set, a data-parallel run): in train and eval_batch_stats
// the statistics are the global batch's — every worker's rows — so N workers on the shares of a
// batch compute what one process computes on the whole batch (outputs, running statistics and dx;
// dγ and dβ are this worker's part, which the trainer sums with the other parameter gradients).
// Ghost (options.ghost_batches = G > 1; Hoffer et al. 2017, Keras' virtual_batch_size): in train
// and eval_batch_stats the B samples are split into G shares by share_of(B, G, g) (whole samples)
// and each share is normalized with its own statistics; the running statistics move towards the
// mean over the shares of their means and unbiased variances. This is what N = G data-parallel
// workers without a collective compute. Eval mode ignores G. G > 1 with a collective is an error.
// State: "<name>.running_mean" (starts at 0) and "<name>.running_var" (starts at 1), both [C].
// Batch statistics over n = 1 value per channel are an error (the variance is 0 and the unbiased
// variance undefined): a [1,F] batch, or a [1,1,1,C] one, outside Mode::eval — with a collective
// when the global n is 1, with ghost batches when one share has n = 1; so is G larger than B.
#pragma once

#include <cstdint>

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
  int64_t ghost_batches = 1;  // G: normalize each of G shares of the batch on its own (1: the whole batch)
  static constexpr BatchNormOptions keras() { return {0.01, 1e-3, 1}; }
};
// The momenta batch norm accepts.
inline constexpr Range kBatchNormMomentum{0, 1, false, false};

Var batch_norm(Var x, Var gamma, Var beta, const std::string& name, BatchNormOptions options = {});

}  // namespace bnlab

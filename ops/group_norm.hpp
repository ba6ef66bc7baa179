// group_norm: x [B,H,W,C] (or [B,C], read as H = W = 1), gamma [C], beta [C] → same shape as x,
// each sample normalized over groups of channels (Wu & He 2018, "Group Normalization"; PyTorch's
// GroupNorm, its eps 1e-5). The C channels are split into G consecutive groups of C/G; for sample b
// and group g the mean and the biased variance run over its H·W·(C/G) values:
//
//   auto h = bnlab::group_norm(conv, gamma, beta, /*groups=*/8, "gn1");   // conv [B,28,28,32]
//
//   y[b,h,w,c] = gamma_c·(x[b,h,w,c] − μ_bg)/sqrt(σ²_bg + eps) + beta_c,   g = c / (C/G)
//
// It does not look across samples, so there are no running statistics and every mode computes the
// same thing; a batch of one is fine. G = C is instance norm, G = 1 is layer norm over (H, W, C)
// with per-channel gamma and beta. Saved: x_hat (as x) and inv_std [B,G].
#pragma once

#include "graph/graph.hpp"

namespace bnlab {

extern const OpInfo group_norm_op;

// groups must divide the channels (a ShapeError names both otherwise).
Var group_norm(Var x, Var gamma, Var beta, int64_t groups, const std::string& name, double eps = 1e-5);

}  // namespace bnlab

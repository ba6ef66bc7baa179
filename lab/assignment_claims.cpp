#include "lab/assignment_claims.hpp"

namespace bnlab::lab {

// NOTE: a claim made several times in other words is one row (docs/claims.md says which were
// merged); "planned" rows are what issue 18 asks for and bnlab does not test yet.
const std::vector<AssignmentClaim>& assignment_claims() {
  static const std::vector<AssignmentClaim> claims = {
      {"D1", "statistics per mini-batch: each feature's mean and variance over the batch", "Q1.1 §1–2, Q1.3 §1", {},
       "a definition: ops/batch_norm.cpp, checked by tests/test_batch_norm.cpp and the gradient checks"},
      {"D2", "x̂ = (x − μ) / √(σ² + ε), y = γ·x̂ + β with learnable γ, β", "Q1.1 §2, Q1.3 §1–2", {},
       "a definition (the assignment divides by σ² + ε; the standard formula and bnlab divide by √(σ² + ε))"},
      {"D3", "at inference, running statistics replace the batch's", "Q1.1 §5, Q1.6 §9", {},
       "a definition: the op's eval mode; how much it matters is claim 7"},
      {"D4", "usable in fully connected, convolutional and recurrent layers", "Q1.1 §4, Q1.3, Q1.6 §8, Q3.2 adv. 8", {},
       "fully connected: the batchnorm preset; convolutional: cnn-batchnorm; recurrent: not tested, bnlab has no recurrent layers"},
      {"1", "converges faster", "Q1.1 §3, Q1.2 §1, Q1.6 §2, Q2.5, Q3.2 adv. 1", {"convergence"}, ""},
      {"2", "allows higher learning rates", "Q1.1 §3, Q1.2 §4, Q1.6 §2, Q3.2 adv. 7", {"learning rates"}, ""},
      {"3", "less sensitive to weight initialization", "Q1.1 §3, Q1.2 §3, Q1.6 §4, Q3.2 adv. 5", {"initialization"}, ""},
      {"4", "matters most for deep networks, less for shallow ones", "Q1.1 §6, Q1.2 §9, Q1.6 §5, Q2.5, Q3.2 adv. 4", {"depth"}, ""},
      {"5", "works poorly with very small batches", "Q3.2 lim. 3", {"small batches", "worker statistics"}, ""},
      {"6", "regularizes: its noise reduces overfitting", "Q1.1 §3, Q1.2 §2, Q1.6 §3 and §10, Q3.2 adv. 3", {"regularization"}, ""},
      {"7", "running statistics at inference generalize well", "Q1.1 §5, Q1.6 §9, Q3.2 lim. 4", {"train/eval"}, ""},
      {"8", "adds computational cost to every step", "Q1.1 §6, Q1.6 §11, Q3.2 lim. 1", {"cost"}, ""},
      {"9", "adds parameters (γ, β)", "Q1.1 §6, Q1.6 §11", {}, "exact, not measured: 2 parameters per normalized feature"},
      {"10", "needs more memory, more so at larger batches", "Q1.6 §11, Q3.2 lim. 2, Q3.1 §3", {}, "planned: bytes saved for backward, from the memory plan"},
      {"11", "is typically placed after the activation", "Q1.1 §4", {}, "planned: before vs after the activation"},
      {"12", "reduces the vanishing-gradient problem", "Q1.1 §3, Q1.2 §1, Q1.3, Q1.6 §2", {},
       "planned: Ioffe & Szegedy's sigmoid MLP (a unit's input percentiles, per-layer gradient norms)"},
      {"13", "more consistent, predictable training", "Q1.2 §10, Q3.2 adv. 2", {"consistency"}, ""},
      {"14", "less sensitive to hyperparameters", "Q1.2 §8, Q1.6 §7", {"hyperparameters"}, ""},
      {"15", "does not remove the need for other regularization", "Q3.2 lim. 6", {"regularizers"}, ""},
      {"16", "reduces (internal) covariate shift", "Q1.2 §7, Q1.6 §1, Q1.3", {},
       "planned: Santurkar et al. 2018's measure (a layer's gradient before and after the earlier layers step)"},
      {"17", "smooths the loss landscape, improves gradient flow", "Q1.2 §2 and §5", {},
       "planned: loss spread, gradient predictiveness and β-smoothness along the gradient (Santurkar et al.)"},
      {"18", "handles inputs on different scales", "Q1.2 §6, Q3.2 adv. 6", {}, "planned: features rescaled 1e-3 … 1e3, unstandardized"},
      {"19", "unsuitable for online (streaming) learning", "Q3.2 lim. 5", {}, "planned: batch of 1 and class-sorted batches"},
      {"20", "higher training and validation accuracy, lower loss", "Q2.5, Q1.6 §6", {"convergence"},
       ""},
      {"21", "higher loss without batch norm \"is a sign of overfitting\"", "Q2.5 §2", {},
       "not a claim about batch norm, and backwards: a higher training loss is underfitting"},
      {"22", "smaller batches converge faster; very small ones need more epochs", "Q3.1 §1", {}, "planned; bnlab sweep --batch-sizes measures it"},
      {"23", "larger batches generalize better, and smaller batches regularize", "Q3.1 §2", {}, "planned; the two halves contradict each other"},
      {"24", "smaller batches: shorter time per epoch", "Q3.1 §4", {}, "planned; bnlab sweep's seconds per epoch measure it"},
      {"25", "smaller batches need smaller learning rates", "Q3.1, recommendation 4", {}, "planned: a batch × learning-rate grid"},
      {"26", "deeper models benefit more from larger batches", "Q3.1, recommendation 6", {}, "planned"},
      {"27", "larger batches need more memory", "Q3.1 §3", {}, "planned: bytes against batch size"},
  };
  return claims;
}

}  // namespace bnlab::lab

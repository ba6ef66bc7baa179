// Learning-rate schedules, applied per epoch: the trainer sets the optimizer's rate from the epoch
// index before the epoch's first step, and the rate holds for every step of that epoch (as PyTorch's
// schedulers stepped once per epoch). The rate depends on the configuration and the epoch index
// only — no state is carried — so a resumed run takes the same rates as an uninterrupted one.
//
//   bnlab::TrainConfig c;  c.lr_schedule = bnlab::LrSchedule::step;  c.lr_step_epochs = 2;
//   double lr = bnlab::scheduled_lr(c, 3);   // epoch index 3 (the 4th epoch): lr·γ^⌊3/2⌋ = 1e-4
//
// With e the 0-based epoch index, E = epochs, W = lr_warmup_epochs, lr the base rate (--lr):
//   constant       lr_e = lr
//   step           lr_e = lr·γ^⌊e/N⌋                                          (StepLR, N = lr_step_epochs)
//   cosine         lr_e = lr_min + (lr − lr_min)·(1 + cos(π·e/E))/2          (CosineAnnealingLR, T_max = E)
//   warmup-cosine  e < W: lr_e = lr·(f + (1 − f)·e/W)                         (LinearLR, start_factor f,
//                  e ≥ W: lr_e = lr_min + (lr − lr_min)·(1 + cos(π·(e−W)/(E−W)))/2   total_iters W, then
//                                                                              CosineAnnealingLR, T_max = E − W:
//                                                                              SequentialLR)
// cosine and warmup-cosine depend on E: a run resumed with another epoch count would take other rates
// (restore() refuses it).
#pragma once

#include <string>

namespace bnlab {

enum class LrSchedule { constant, step, cosine, warmup_cosine };

const char* to_string(LrSchedule s);
LrSchedule lr_schedule_from_string(const std::string& s);  // UsageError listing the known names

// Whether the schedule's rates depend on the run's epoch count.
inline bool depends_on_epochs(LrSchedule s) { return s == LrSchedule::cosine || s == LrSchedule::warmup_cosine; }

struct TrainConfig;
// The learning rate of the 0-based epoch `epoch` of a run configured by `c`.
double scheduled_lr(const TrainConfig& c, int epoch);

}  // namespace bnlab

#include "train/lr_schedule.hpp"

#include <cmath>
#include <numbers>

#include "graph/errors.hpp"
#include "train/trainer.hpp"

namespace bnlab {

const char* to_string(LrSchedule s) {
  switch (s) {
    case LrSchedule::constant: return "constant";
    case LrSchedule::step: return "step";
    case LrSchedule::cosine: return "cosine";
    case LrSchedule::warmup_cosine: return "warmup-cosine";
  }
  return "?";
}

LrSchedule lr_schedule_from_string(const std::string& s) {
  for (LrSchedule k : {LrSchedule::constant, LrSchedule::step, LrSchedule::cosine, LrSchedule::warmup_cosine})
    if (s == to_string(k)) return k;
  throw UsageError("unknown learning-rate schedule '" + s + "' (known: constant, step, cosine, warmup-cosine)");
}

namespace {

// lr_min + (lr − lr_min)·(1 + cos(π·t/T))/2: from lr at t = 0 towards lr_min at t = T.
double cosine(double lr, double lr_min, int t, int T) {
  return lr_min + (lr - lr_min) * (1 + std::cos(std::numbers::pi * t / T)) / 2;
}

}  // namespace

double scheduled_lr(const TrainConfig& c, int e) {
  const double lr = c.optimizer.lr;
  switch (c.lr_schedule) {
    case LrSchedule::constant: return lr;
    case LrSchedule::step: return lr * std::pow(c.lr_gamma, e / c.lr_step_epochs);
    case LrSchedule::cosine: return cosine(lr, c.lr_min, e, c.epochs);
    case LrSchedule::warmup_cosine: {
      const int w = c.lr_warmup_epochs;
      if (e < w) return lr * (c.lr_warmup_start + (1 - c.lr_warmup_start) * e / w);
      return cosine(lr, c.lr_min, e - w, c.epochs - w);
    }
  }
  return lr;
}

}  // namespace bnlab

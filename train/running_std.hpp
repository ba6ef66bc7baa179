// The standard deviation of a stream of values without keeping them (Welford's update), for the
// spread of the training loss from step to step within an epoch (EpochMetrics::train_loss_std).
// Summing x and x² instead loses every digit when the spread is small next to the mean; this does not.
//
//   RunningStd s;
//   for (double loss : step_losses) s.add(loss);
//   double spread = s.std();   // sample std (divides by n − 1); NaN for fewer than 2 values
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace bnlab {

class RunningStd {
 public:
  // With d = x − mean(before): mean ← mean + d/n, m2 ← m2 + d·(x − mean(after)).
  void add(double x) {
    ++n_;
    const double d = x - mean_;
    mean_ += d / static_cast<double>(n_);
    m2_ += d * (x - mean_);
  }
  int64_t count() const { return n_; }
  double mean() const { return n_ ? mean_ : std::numeric_limits<double>::quiet_NaN(); }
  // sqrt(m2 / (n − 1)).
  double std() const {
    return n_ < 2 ? std::numeric_limits<double>::quiet_NaN() : std::sqrt(std::max(0.0, m2_) / static_cast<double>(n_ - 1));
  }

 private:
  int64_t n_ = 0;
  double mean_ = 0, m2_ = 0;
};

}  // namespace bnlab

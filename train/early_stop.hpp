// Early stopping (Keras' EarlyStopping with restore_best_weights): the run stops once its
// validation metric has not improved for `early_stop` (the patience) epochs in a row, and the run's
// final weights — those the test split is scored with — are the best epoch's.
//
//   bnlab::EarlyStopping watch(config);            // config.early_stop > 0
//   for each completed epoch m:
//     if (watch.update(m)) keep a copy of the weights;   // the best epoch so far
//     if (watch.should_stop()) break;
//
// An epoch improves on the best when, with δ = early_stop_min_delta,
//   val_loss:  v < best − δ        val_acc:  v > best + δ
// and the first epoch always does. A NaN metric never improves. The state is a function of the
// epochs' metrics alone, so a resumed run rebuilds it by replaying its history.
#pragma once

#include <string>

namespace bnlab {

enum class EarlyStopMetric { val_loss, val_acc };
const char* to_string(EarlyStopMetric m);
EarlyStopMetric early_stop_metric_from_string(const std::string& s);  // UsageError listing the known names

struct TrainConfig;
struct EpochMetrics;

class EarlyStopping {
 public:
  explicit EarlyStopping(const TrainConfig& config);
  // Takes a completed epoch; true when it is the best so far (then best_epoch() is its number).
  bool update(const EpochMetrics& m);
  bool should_stop() const { return patience_ > 0 && waited_ >= patience_; }
  int best_epoch() const { return best_epoch_; }     // 0 before any epoch improved
  double best_value() const { return best_; }
  int epochs_without_improvement() const { return waited_; }

 private:
  int patience_;
  EarlyStopMetric metric_;
  double min_delta_;
  double best_;
  int best_epoch_ = 0;
  int waited_ = 0;
};

}  // namespace bnlab

#include "train/early_stop.hpp"

#include <cmath>

#include "graph/errors.hpp"
#include "train/trainer.hpp"

namespace bnlab {

const char* to_string(EarlyStopMetric m) { return m == EarlyStopMetric::val_loss ? "val_loss" : "val_acc"; }

EarlyStopMetric early_stop_metric_from_string(const std::string& s) {
  if (s == "val_loss") return EarlyStopMetric::val_loss;
  if (s == "val_acc") return EarlyStopMetric::val_acc;
  throw UsageError("unknown early-stopping metric '" + s + "' (known: val_loss, val_acc)");
}

EarlyStopping::EarlyStopping(const TrainConfig& c)
    : patience_(c.early_stop), metric_(c.early_stop_metric), min_delta_(c.early_stop_min_delta), best_(std::nan("")) {}

bool EarlyStopping::update(const EpochMetrics& m) {
  const double v = metric_ == EarlyStopMetric::val_loss ? m.val_loss : m.val_acc;
  bool better = false;
  if (std::isfinite(v))
    better = best_epoch_ == 0 || (metric_ == EarlyStopMetric::val_loss ? v < best_ - min_delta_ : v > best_ + min_delta_);
  if (better) {
    best_ = v;
    best_epoch_ = m.epoch;
    waited_ = 0;
  } else {
    ++waited_;
  }
  return better;
}

}  // namespace bnlab

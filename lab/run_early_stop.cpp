#include "lab/run_early_stop.hpp"

#include <fmt/format.h>

namespace bnlab::lab {

namespace {

void record_stop(RunState& r) {
  const TrainConfig& c = r.trainer->config();
  const EarlyStopping& w = *r.early_stop;
  r.record.stopped_epoch = r.trainer->epoch();
  r.record.stop_reason = fmt::format("{} did not improve on epoch {}'s {:.6g} for {} epochs (patience {}, min_delta {})",
                                     to_string(c.early_stop_metric), w.best_epoch(), w.best_value(),
                                     w.epochs_without_improvement(), c.early_stop, c.early_stop_min_delta);
}

}  // namespace

void watch_early_stop(RunState& r) {
  r.early_stop.emplace(r.trainer->config());
  for (const EpochMetrics& m : r.record.epochs) r.early_stop->update(m);
  if (r.early_stop->best_epoch() == r.trainer->epoch()) r.best = std::make_unique<TrainerSnapshot>(*r.trainer);
  r.record.best_epoch = r.early_stop->best_epoch();
  if (r.early_stop->should_stop()) {
    record_stop(r);
    r.done = true;
  }
}

bool early_stop_after_epoch(RunState& r) {
  if (r.early_stop->update(r.record.epochs.back())) {
    if (r.best)
      r.best->take(*r.trainer);
    else
      r.best = std::make_unique<TrainerSnapshot>(*r.trainer);
  }
  r.record.best_epoch = r.early_stop->best_epoch();
  if (!r.early_stop->should_stop()) return false;
  record_stop(r);
  return true;
}

void restore_best(RunState& r) {
  r.record.best_epoch = r.early_stop->best_epoch();
  if (r.best && r.early_stop->best_epoch() != r.trainer->epoch()) {
    r.best->restore(*r.trainer);
    return;
  }
  if (!r.best && r.early_stop->best_epoch() != 0)
    r.record.stop_reason += fmt::format("{}the best epoch ({}) came before the checkpoint this run resumed from, so its weights "
                                        "were not kept: the test score is of epoch {}'s",
                                        r.record.stop_reason.empty() ? "" : "; ", r.early_stop->best_epoch(), r.trainer->epoch());
}

}  // namespace bnlab::lab

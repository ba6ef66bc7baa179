// Early stopping in the run loop (train/early_stop.hpp has the rule): the loop calls these three
// for a run whose config.early_stop > 0, so its own code stays the epoch loop.
#pragma once

#include "lab/run_loop.hpp"

namespace bnlab::lab {

// Starts the watch, replaying a resumed run's history (a run that had already run out of patience
// is done). The best epoch's weights are kept only when they are the trainer's now.
void watch_early_stop(RunState& r);
// After a completed epoch (the record holds it): updates the watch, keeps the trainer when the epoch
// is the best so far; true when the patience has run out (record.stopped_epoch and stop_reason say so).
bool early_stop_after_epoch(RunState& r);
// Before the test pass: the best epoch's weights back into the trainer (record.best_epoch).
void restore_best(RunState& r);

}  // namespace bnlab::lab

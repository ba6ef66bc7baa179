// What a training command needs around the trainer to save and resume runs: a copy of the
// trainer's state at the last completed epoch, the data options of a checkpoint, and the outputs of
// an interrupted run (the signal handling itself is tools/signals.hpp).
//
//   InterruptGuard guard;                          // tools/: SIGINT / SIGTERM now only set a flag
//   TrainerSnapshot last(trainer);                 // the state after the last completed epoch
//   TrainObserver obs;
//   obs.should_stop = interrupt_requested;         // the trainer stops before its next step
//   try { m = trainer.train_epoch(&obs); last.take(trainer); }
//   catch (const TrainingInterrupted&) {
//     last.restore(trainer);                       // a partial epoch cannot be resumed exactly
//     bnlab::save_checkpoint(path, trainer, history, options);
//     return interrupted_exit_status();            // 130 for SIGINT, 143 for SIGTERM
//   }
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/registry.hpp"
#include "graph/errors.hpp"
#include "lab/outputs.hpp"
#include "train/checkpoint.hpp"
#include "train/trainer.hpp"

namespace bnlab::lab {

// The trainer's whole mutable state (parameters, running statistics, optimizer moments and step
// count, epoch counter), copied so it can be put back after a partial epoch.
class TrainerSnapshot {
 public:
  explicit TrainerSnapshot(const Trainer& trainer) { take(trainer); }
  void take(const Trainer& trainer);
  void restore(Trainer& trainer) const;

 private:
  std::vector<float> parameters_, state_, first_, second_;
  int64_t steps_ = 0;
  int epoch_ = 0;
};

// Where an interrupted run without --checkpoint saves itself (in the current directory).
inline constexpr const char* kInterruptedCheckpoint = "bnlab-interrupted.safetensors";

// The options the checkpoint's data were loaded with; a checkpoint written without them (by the
// library) gets the defaults, with the split seed the command line would have used (the run's seed).
data::LoadOptions checkpoint_load_options(const Checkpoint& ckpt);

// The data options merged into each run's "config" in the metrics document (the same fields and
// order as data_config(TrainFlags)).
nlohmann::ordered_json data_config(const data::LoadOptions& options);

// The --json / --csv files of a run that was interrupted: the completed epochs, no "test", each run's
// "status" ("interrupted", the runs' records say so) and a top-level "interrupted": {"signal",
// "checkpoints", "resume"} in the JSON document, besides `extras`.
void write_interrupted_outputs(const OutputPaths& paths, const std::string& command, const std::vector<RunRecord>& runs,
                               const nlohmann::ordered_json& extra_config, const nlohmann::ordered_json& interrupted,
                               DocumentExtras extras = {});

}  // namespace bnlab::lab

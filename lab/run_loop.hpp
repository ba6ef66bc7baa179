// The run loop: the one place where models are trained epoch by epoch. train, compare, sweep and
// study all run their jobs through it; what differs between them — progress display, checkpoints,
// table rows, Ctrl-C — comes in through hooks.
//
//   RunLoop loop({job_a, job_b}, data, hooks);  // builds the trainers (a bad configuration throws here)
//   if (!loop.run()) {                          // one epoch of each run in turn, then the test pass
//     const Interruption& i = *loop.interruption();
//     // every trainer is back at its last completed epoch: save checkpoints, write what was done
//   }
//   for (const RunState& r : loop.runs()) use(r.record);   // epochs, test, status, evals
//
// Runs take their epochs in turn (run 1 epoch 1, run 2 epoch 1, run 1 epoch 2, …), so a change in
// the machine's load affects them alike and a compare table can print one row per epoch. Each
// record's status is RunStatus::running while the loop trains, finished once its test pass is done,
// interrupted when should_stop ended the loop. A run that diverges (a NonFiniteError) is recorded as
// RunStatus::diverged, with the message; the loop goes on with the other runs when it records
// divergence, and rethrows otherwise (the records, reached through runs(), then say what happened);
// every other error propagates.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.hpp"
#include "lab/run_control.hpp"
#include "models/model_spec.hpp"
#include "train/checkpoint.hpp"
#include "train/trainer.hpp"

namespace bnlab::lab {

struct RunJob {
  std::string name;
  ModelSpec spec;
  TrainConfig config;
  nlohmann::ordered_json extra_config = nullptr;  // merged into the run's "config" (data options)
  bool eval_train = false;        // record RunRecord::eval_train after training
  bool eval_batch_stats = false;  // record RunRecord::val_batch_stats (only meaningful with batch norm)
  const Checkpoint* resume = nullptr;  // continue this checkpoint's run: its state and its history
  DataParallel parallel;               // this process's place among data-parallel workers (default: alone)
};

// What the run loop reports while a job trains (the terminal's bar lives in tools/): one per job,
// asked for the trainer's hooks before each epoch and told when the epoch is over.
class RunProgress {
 public:
  virtual ~RunProgress() = default;
  virtual TrainObserver observer() = 0;
  virtual void epoch_done() {}
};
// Makes the progress of the job named `name` that trains `epochs` epochs; may return nullptr.
using ProgressFactory = std::function<std::unique_ptr<RunProgress>(const std::string& name, int epochs)>;

// One run as the loop holds it.
struct RunState {
  const RunJob* job = nullptr;
  std::unique_ptr<Trainer> trainer;
  RunRecord record;
  std::unique_ptr<TrainerSnapshot> last;  // the trainer after its last completed epoch (interruption)
  std::unique_ptr<RunProgress> progress;  // may be null
  bool done = false;                      // trained all its epochs, diverged, or stopped early
  // Early stopping (config.early_stop > 0): the watch and the best epoch's trainer, put back before
  // the test pass. Null `best` after a resume whose best epoch came before the checkpoint's.
  std::optional<EarlyStopping> early_stop;
  std::unique_ptr<TrainerSnapshot> best;
};

struct RunHooks {
  ProgressFactory progress;
  // Polled before each training step; true interrupts the loop (Ctrl-C).
  std::function<bool()> should_stop;
  // After each completed epoch of one run (its record holds the epoch): checkpoints, epoch lines.
  std::function<void(RunState&)> epoch_done;
  // After every run that was still training has trained epoch `epoch`: a table row.
  std::function<void(int epoch)> round_done;
  // A diverged run is a result (RunStatus::diverged; sweep and study) rather than an error.
  bool record_divergence = false;
};

// Where the loop stopped when should_stop said so.
struct Interruption {
  size_t run = 0;            // the run whose epoch was cut short
  int epoch = 0;             // that epoch (1-based)
  int64_t step = 0, steps = 0;
};

class RunLoop {
 public:
  // The loop keeps its own copy of the jobs; `data` must outlive it.
  RunLoop(std::vector<RunJob> jobs, const data::Splits& data, RunHooks hooks = {});
  RunLoop(const RunLoop&) = delete;  // the runs point at the loop's jobs
  RunLoop& operator=(const RunLoop&) = delete;

  // Trains every run to its configured epochs, then evaluates the test split (and the evals the
  // jobs ask for). Returns false when interrupted: then every trainer is back at the state after its
  // last completed epoch and no run has a test score.
  bool run();

  std::vector<RunState>& runs() { return runs_; }
  const std::vector<RunState>& runs() const { return runs_; }
  std::vector<RunRecord> records() const;
  const std::optional<Interruption>& interruption() const { return interruption_; }

 private:
  void finish(RunState& r);

  std::vector<RunJob> jobs_;
  const data::Splits& data_;
  RunHooks hooks_;
  std::vector<RunState> runs_;
  std::optional<Interruption> interruption_;
};

}  // namespace bnlab::lab

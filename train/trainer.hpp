// The trainer: one model (a ModelSpec) trained on prepared splits, epoch by epoch, producing exactly
// the metrics of docs/metrics.md, plus what happens inside the network (per-layer statistics).
//
//   bnlab::data::Splits data = bnlab::data::load("fashion-mnist", {.seed = 0});
//   bnlab::TrainConfig cfg;                                  // batch 32, Adam 1e-3, 10 epochs, seed 0
//   bnlab::Trainer t(bnlab::preset_spec("batchnorm", 784, 10), cfg, data);
//   while (t.epoch() < cfg.epochs) {
//     bnlab::EpochMetrics m = t.train_epoch(&observer);     // train steps, then the val pass
//   }
//   bnlab::EvalMetrics test = t.evaluate(data.test);         // eval mode, once, at the end
//
// Determinism: for a given seed (and thread count) every metric but the times is identical between
// runs. Parameters are drawn from Rng(seed); the batch order of epoch e depends on (seed, e) only.
//
// Data-parallel (DataParallel with a Collective of N workers, each running this same trainer with
// the same spec, config and data): every global batch of the one-process batch order is divided
// into N shares (graph/batch_share.hpp), worker r trains on share r; backward is seeded with
// n_r / n (n_r its rows, n the global batch's), so each worker's gradients are its part of the
// gradient of the global mean loss, and their sum over the workers (one Collective::sum per step)
// is that gradient. Every worker then takes the same optimizer step: the parameters stay identical
// (checked after every epoch). Batch norm: BnStats::sync shares the statistics through the same
// Collective (ops/batch_norm.hpp), so N workers train the model one process trains, up to rounding;
// BnStats::local normalizes each share on its own, and the running statistics are averaged over
// the workers after every epoch (docs/distributed.md). Evaluation runs on every worker over the
// whole split (the same parameters give the same numbers everywhere).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/dataset.hpp"
#include "graph/collective.hpp"
#include "graph/errors.hpp"
#include "graph/session.hpp"
#include "models/model.hpp"
#include "train/early_stop.hpp"
#include "train/evaluate.hpp"
#include "train/lr_schedule.hpp"
#include "train/optimizer.hpp"

namespace bnlab {

// What a training step does when its loss or a gradient is not finite.
enum class NonFinitePolicy {
  stop,  // throw RuntimeError naming the epoch, the step and the first node that produced it
  skip,  // leave the parameters as they were, count the step in EpochMetrics::skipped_steps, go on
};
const char* to_string(NonFinitePolicy p);
NonFinitePolicy nonfinite_policy_from_string(const std::string& s);

// How data-parallel workers treat batch norm's batch statistics (the CLI's --bn-stats).
enum class BnStats {
  sync,   // over the global batch: N workers = one process with the same global batch
  local,  // over each worker's share ("ghost" batches, what PyTorch DDP does without SyncBatchNorm)
};
const char* to_string(BnStats s);
BnStats bn_stats_from_string(const std::string& s);

// A trainer's place among data-parallel workers. The default is one process.
struct DataParallel {
  Collective* collective = nullptr;  // the workers (null or size 1: one process); not owned
  BnStats bn_stats = BnStats::sync;
  int workers() const { return collective ? collective->size() : 1; }
  int rank() const { return collective ? collective->rank() : 0; }
};

struct TrainConfig {
  std::string dataset = "fashion-mnist";
  std::string model = "batchnorm";   // the preset name the spec started from (reported in metrics)
  int epochs = 10;
  int64_t batch_size = 32;
  bool drop_last = false;
  OptimizerConfig optimizer;
  uint64_t seed = 0;
  int threads = 1;
  int64_t eval_batch_size = 1000;     // chunk size of eval passes (no effect on results in eval mode)
  bool record_internals = true;       // per-layer pre-activation statistics and gradient norms
  NonFinitePolicy on_nonfinite = NonFinitePolicy::stop;
  // The learning rate per epoch (train/lr_schedule.hpp has the formulas; the defaults are PyTorch's
  // StepLR gamma, CosineAnnealingLR eta_min and LinearLR start_factor).
  LrSchedule lr_schedule = LrSchedule::constant;
  int lr_step_epochs = 5;           // step: multiply by lr_gamma every this many epochs
  double lr_gamma = 0.1;
  double lr_min = 0.0;              // cosine, warmup-cosine: the rate the cosine falls to
  int lr_warmup_epochs = 0;         // warmup-cosine: epochs of linear warm-up (at least 1, fewer than epochs)
  double lr_warmup_start = 1.0 / 3; // warmup-cosine: the first epoch's rate as a fraction of lr
  // Early stopping (train/early_stop.hpp): patience in epochs, 0 = train every epoch.
  int early_stop = 0;
  EarlyStopMetric early_stop_metric = EarlyStopMetric::val_loss;
  double early_stop_min_delta = 0.0;
  // Throws UsageError naming the flag-level field that is wrong (epochs < 1, batch_size < 1, …).
  void validate() const;
};

// Per probe of the model and epoch: its values (the MLP presets probe what enters each activation
// function) over every training step of the epoch.
struct LayerStats {
  std::string layer;   // the probe's label: "fc1", "fc2", …
  double mean = 0;
  double std = 0;
};

// Per parameter and epoch: the L2 norm of its gradient, averaged over the epoch's steps.
struct GradNorm {
  std::string parameter;
  double mean_norm = 0;
};

struct EpochMetrics {
  int epoch = 0;                 // 1-based
  double train_loss = 0;         // sample-weighted mean over the epoch's training batches (train mode)
  // The sample standard deviation of the steps' losses (each step's batch-mean loss, skipped steps
  // left out) within the epoch: how much the loss moves from step to step. NaN with fewer than 2.
  double train_loss_std = 0;
  double train_acc = 0;
  double val_loss = 0;           // eval mode over the validation split after the epoch (NaN if empty)
  double val_acc = 0;
  double seconds = 0;            // wall time of the training steps alone
  double samples_per_second = 0;
  int64_t steps = 0;
  int64_t skipped_steps = 0;     // steps whose loss or gradient was not finite (NonFinitePolicy::skip)
  double lr = 0;                 // the learning rate of the epoch's steps (TrainConfig::lr_schedule)
  std::vector<LayerStats> layers;
  std::vector<GradNorm> grad_norms;
};

// Where an epoch stands after one of its training steps (TrainObserver::step).
struct StepProgress {
  int64_t step = 0;      // steps done in the epoch (skipped ones included)
  int64_t steps = 0;     // of this many
  int64_t samples = 0;   // training rows of the steps that counted (not skipped)
  double seconds = 0;    // since the epoch's first step
  double loss = 0;       // running means over those rows: what EpochMetrics::train_loss / train_acc
  double acc = 0;        // will be if the epoch ended here
};

// Progress reports while an epoch runs (all optional).
struct TrainObserver {
  std::function<void(int epoch, int64_t batches)> epoch_start;
  // After each step that counted (a skipped step reports nothing).
  std::function<void(const StepProgress&)> step;
  // Polled before each step (an interrupt flag, say): true ends the epoch there by throwing
  // TrainingInterrupted, and the epoch does not count as completed (epoch() is unchanged).
  std::function<bool()> should_stop;
};

// Thrown by Trainer::train_epoch under NonFinitePolicy::stop when a step's loss or a gradient is not
// finite: the run diverged. The message names the epoch, the step and the first node.
struct NonFiniteError : RuntimeError {
  using RuntimeError::RuntimeError;
};

// Thrown by Trainer::train_epoch when TrainObserver::should_stop said so. The steps already taken in
// the epoch have changed the parameters, so only a copy (or checkpoint) from before the epoch can be
// resumed exactly: a partial epoch cannot be continued, its batch order is drawn per epoch.
struct TrainingInterrupted : std::runtime_error {
  int epoch = 0;       // the 1-based epoch that was cut short
  int64_t step = 0;    // steps completed in it
  int64_t steps = 0;   // of this many
  TrainingInterrupted(int e, int64_t done, int64_t total)
      : std::runtime_error("training interrupted during epoch " + std::to_string(e) + " after step " + std::to_string(done) +
                           " of " + std::to_string(total)),
        epoch(e), step(done), steps(total) {}
};

class Trainer {
 public:
  // requires: data.train non-empty, spec.input_features() == feature count and spec.classes == class count
  // (the constructor adjusts neither: a mismatch is a UsageError naming both sizes).
  // With `parallel`, every worker constructs its trainer alike (a configuration that leaves a worker
  // without a row of some batch, or with one row under local batch norm, is refused).
  Trainer(const ModelSpec& spec, TrainConfig config, const data::Splits& data, DataParallel parallel = {});

  EpochMetrics train_epoch(const TrainObserver* observer = nullptr);
  EvalMetrics evaluate(const data::Dataset& d, Mode mode = Mode::eval, int64_t batch = 0);

  int epoch() const { return epoch_; }            // epochs completed
  void set_epoch(int epoch) { epoch_ = epoch; }   // for resume
  Session& session() { return session_; }
  const Session& session() const { return session_; }
  Optimizer& optimizer() { return optimizer_; }
  const Optimizer& optimizer() const { return optimizer_; }
  const Model& model() const { return model_; }
  const TrainConfig& config() const { return config_; }
  const data::Splits& data() const { return data_; }
  const DataParallel& parallel() const { return parallel_; }

 private:
  // Data-parallel: the running statistics of batch norm averaged over the workers (BnStats::local),
  // and the check that every worker holds the same parameters.
  void average_per_worker_state();
  void check_workers_agree();

  Model model_;
  TrainConfig config_;
  const data::Splits& data_;
  DataParallel parallel_;
  Session session_;
  Session eval_session_;   // shares nothing but copies of parameters/state at evaluate()
  Optimizer optimizer_;
  int epoch_ = 0;
  std::vector<int> per_worker_state_;  // the state declared per_worker_estimate (BnStats::local)
  std::vector<float> state_buffer_;
  std::vector<double> step_sums_;      // what the workers sum after each step besides the gradients
};

// Where a run stands (the metrics document's "status", docs/metrics.md): training, done with a test
// score, stopped by Ctrl-C / SIGTERM (its completed epochs saved), or stopped by a non-finite loss
// or gradient (NonFiniteError). A record made by hand is a finished run.
enum class RunStatus { running, finished, interrupted, diverged };

// A finished (or partial) run as it goes into the metrics document.
struct RunRecord {
  std::string name;              // "plain", "batchnorm", "batchnorm-bs64-seed1", …
  TrainConfig config;
  ModelSpec spec;
  int64_t train_size = 0, val_size = 0, test_size = 0;
  std::vector<EpochMetrics> epochs;
  std::optional<EvalMetrics> test;
  double total_seconds = 0;
  RunStatus status = RunStatus::finished;
  std::string error;                           // the NonFiniteError's message of a diverged run
  std::optional<EvalMetrics> eval_train;       // eval mode over the whole training split, if asked for
  std::optional<EvalMetrics> val_batch_stats;  // the validation split with batch statistics, if asked for
  int64_t val_batch_stats_batch = 0;           // in chunks of this many rows
  // Early stopping (config.early_stop > 0): the best epoch by early_stop_metric, whose weights the
  // test split was scored with; stopped_epoch is the last epoch trained when the patience ran out
  // (0: the run trained all its epochs).
  int best_epoch = 0;
  int stopped_epoch = 0;
  std::string stop_reason;                     // why it stopped early, or ""
};

}  // namespace bnlab

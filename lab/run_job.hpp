// One training run as sweep and study execute it: train, evaluate, and return the run's entry of
// the metrics document (METRICS.md) — including runs that diverge, which are results, not crashes.
//
//   RunJob job{.name = "batchnorm-bs64-seed1", .spec = spec, .config = cfg, .extra_config = data_config(f)};
//   json run = run_job(job, data, progress);   // progress: RunProgress per job, or {} for none;   // run["status"] == "finished" or "diverged"
//
// Fields added to the run object (README "Metrics"):
//   "status": "finished" | "diverged";  "error": the non-finite message, for a diverged run
//   (which has the epochs it completed and no "test");
//   "evals": {"train": {loss, acc}}  — eval mode over the whole training split after training
//            {"val_batch_stats": {loss, acc, batch}} — the validation split normalized with batch
//            statistics (Mode::eval_batch_stats) in chunks of the training batch size.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.hpp"
#include "models/model_spec.hpp"
#include <functional>
#include <memory>
#include "train/trainer.hpp"

namespace bnlab::lab {

struct RunJob {
  std::string name;
  ModelSpec spec;
  TrainConfig config;
  nlohmann::ordered_json extra_config = nullptr;  // merged into the run's "config" (data options)
  bool eval_train = false;        // record evals.train
  bool eval_batch_stats = false;  // record evals.val_batch_stats (only meaningful with batch norm)
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

// The run's "config" object exactly as run_job will write it (for comparing with a cached run).
nlohmann::ordered_json job_config(const RunJob& job, const data::Splits& data);

// Trains `job` on `data`. A non-finite loss or gradient under NonFinitePolicy::stop ends the run as
// "diverged" instead of failing; every other error propagates.
nlohmann::ordered_json run_job(const RunJob& job, const data::Splits& data, const ProgressFactory& progress = {});

// Trains several jobs one epoch each in turn (as compare does), so that a change in the machine's
// load affects all of them alike: for timing comparisons. Returns the runs in the order given.
std::vector<nlohmann::ordered_json> run_jobs_interleaved(const std::vector<RunJob>& jobs, const data::Splits& data,
                                                         const ProgressFactory& progress = {});

}  // namespace bnlab::lab

// Runs as sweep and study execute them: through the run loop, with divergence recorded, and each
// run returned as its entry of the metrics document (docs/metrics.md) — including runs that diverge,
// which are results, not crashes.
//
//   RunJob job{.name = "batchnorm-bs64-seed1", .spec = spec, .config = cfg, .extra_config = data_config(f)};
//   json run = run_job(job, data, progress);   // progress: RunProgress per job, or {} for none;
//                                              // run["status"] == "finished" or "diverged"
//
// Fields added to the run object (README "Metrics"):
//   "status": "finished" | "diverged";  "error": the non-finite message, for a diverged run
//   (which has the epochs it completed and no "test");
//   "evals": {"train": {loss, acc}}  — eval mode over the whole training split after training
//            {"val_batch_stats": {loss, acc, batch}} — the validation split normalized with batch
//            statistics (Mode::eval_batch_stats) in chunks of the training batch size.
#pragma once

#include <functional>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.hpp"
#include "lab/run_loop.hpp"

namespace bnlab::lab {

// The run's "config" object exactly as run_job will write it (for comparing with a cached run).
nlohmann::ordered_json job_config(const RunJob& job, const data::Splits& data);

// The run's entry with "status", "error" and "evals" (the sweep and study form).
nlohmann::ordered_json job_json(const RunRecord& record, const RunJob& job);

// Trains `job` on `data`. A non-finite loss or gradient under NonFinitePolicy::stop ends the run as
// "diverged" instead of failing; every other error propagates.
nlohmann::ordered_json run_job(const RunJob& job, const data::Splits& data, const ProgressFactory& progress = {});

// Trains several jobs one epoch each in turn (as compare does), so that a change in the machine's
// load affects all of them alike: for timing comparisons. Returns the runs in the order given.
// `finished`, if given, is called for every run after the test pass (to keep its checkpoint).
std::vector<nlohmann::ordered_json> run_jobs_interleaved(const std::vector<RunJob>& jobs, const data::Splits& data,
                                                         const ProgressFactory& progress = {},
                                                         const std::function<void(RunState&)>& finished = {});

}  // namespace bnlab::lab

#include "lab/run_job.hpp"

#include "lab/metrics_json.hpp"

namespace bnlab::lab {

nlohmann::ordered_json job_config(const RunJob& job, const data::Splits& data) {
  RunRecord r;
  r.name = job.name;
  r.config = job.config;
  r.spec = job.spec;
  r.train_size = data.train.size();
  r.val_size = data.val.size();
  r.test_size = data.test.size();
  return run_json(r, job.extra_config)["config"];
}

nlohmann::ordered_json job_json(const RunRecord& record, const RunJob& job) {
  nlohmann::ordered_json j = run_json(record, job.extra_config);
  add_job_fields(j, record);
  return j;
}

nlohmann::ordered_json run_job(const RunJob& job, const data::Splits& data, const ProgressFactory& progress) {
  return run_jobs_interleaved({job}, data, progress).front();
}

std::vector<nlohmann::ordered_json> run_jobs_interleaved(const std::vector<RunJob>& jobs, const data::Splits& data,
                                                         const ProgressFactory& progress,
                                                         const std::function<void(RunState&)>& finished) {
  RunLoop loop(jobs, data, {.progress = progress, .record_divergence = true});
  loop.run();  // no should_stop hook: never interrupted
  std::vector<nlohmann::ordered_json> out;
  for (RunState& r : loop.runs()) {
    if (finished) finished(r);
    out.push_back(job_json(r.record, *r.job));
  }
  return out;
}

}  // namespace bnlab::lab

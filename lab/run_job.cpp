#include "lab/run_job.hpp"

#include <chrono>
#include <memory>

#include "graph/errors.hpp"
#include "lab/metrics_json.hpp"

namespace bnlab::lab {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

bool is_nonfinite_failure(const RuntimeError& e) { return std::string(e.what()).rfind("non-finite", 0) == 0; }

RunRecord empty_record(const RunJob& job, const data::Splits& data) {
  RunRecord r;
  r.name = job.name;
  r.config = job.config;
  r.spec = job.spec;
  r.train_size = data.train.size();
  r.val_size = data.val.size();
  r.test_size = data.test.size();
  return r;
}

// One job in progress.
struct Active {
  const RunJob* job = nullptr;
  std::unique_ptr<Trainer> trainer;
  RunRecord record;
  std::unique_ptr<RunProgress> progress;  // may be null
  std::string error;  // non-empty once diverged
  bool done = false;
};

void finish(Active& a, const data::Splits& data) {
  if (!a.error.empty()) return;
  const auto start = Clock::now();
  a.record.test = a.trainer->evaluate(data.test);
  a.record.total_seconds += seconds_since(start);
}

nlohmann::ordered_json to_json(Active& a, const data::Splits& data) {
  nlohmann::ordered_json j = run_json(a.record, a.job->extra_config);
  j["status"] = a.error.empty() ? "finished" : "diverged";
  if (!a.error.empty()) {
    j["error"] = a.error;
    return j;
  }
  nlohmann::ordered_json evals = nlohmann::ordered_json::object();
  if (a.job->eval_train) {
    const EvalMetrics m = a.trainer->evaluate(data.train);
    evals["train"] = {{"loss", json_number(m.loss)}, {"acc", json_number(m.acc)}};
  }
  if (a.job->eval_batch_stats && data.val.size() > 1) {
    const int64_t batch = std::min<int64_t>(a.job->config.batch_size, data.val.size());
    const EvalMetrics m = a.trainer->evaluate(data.val, Mode::eval_batch_stats, batch);
    evals["val_batch_stats"] = {{"loss", json_number(m.loss)}, {"acc", json_number(m.acc)}, {"batch", batch}};
  }
  if (!evals.empty()) j["evals"] = std::move(evals);
  return j;
}

}  // namespace

nlohmann::ordered_json job_config(const RunJob& job, const data::Splits& data) {
  return run_json(empty_record(job, data), job.extra_config)["config"];
}

nlohmann::ordered_json run_job(const RunJob& job, const data::Splits& data, const ProgressFactory& progress) {
  return run_jobs_interleaved({job}, data, progress).front();
}

std::vector<nlohmann::ordered_json> run_jobs_interleaved(const std::vector<RunJob>& jobs, const data::Splits& data,
                                                         const ProgressFactory& progress) {
  std::vector<Active> active(jobs.size());
  int max_epochs = 0;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const auto start = Clock::now();
    Active& a = active[i];
    a.job = &jobs[i];
    a.trainer = std::make_unique<Trainer>(jobs[i].spec, jobs[i].config, data);
    a.record = empty_record(jobs[i], data);
    a.record.total_seconds = seconds_since(start);
    if (progress) a.progress = progress(jobs[i].name, jobs[i].config.epochs);
    max_epochs = std::max(max_epochs, jobs[i].config.epochs);
  }
  for (int epoch = 1; epoch <= max_epochs; ++epoch)
    for (Active& a : active) {
      if (a.done || epoch > a.job->config.epochs) continue;
      const auto start = Clock::now();
      const TrainObserver observer = a.progress ? a.progress->observer() : TrainObserver{};
      try {
        a.record.epochs.push_back(a.trainer->train_epoch(a.progress ? &observer : nullptr));
      } catch (const RuntimeError& e) {
        if (!is_nonfinite_failure(e)) throw;
        a.error = e.what();
        a.done = true;
      }
      if (a.progress) a.progress->epoch_done();
      a.record.total_seconds += seconds_since(start);
    }
  std::vector<nlohmann::ordered_json> out;
  for (Active& a : active) {
    finish(a, data);
    out.push_back(to_json(a, data));
  }
  return out;
}

}  // namespace bnlab::lab

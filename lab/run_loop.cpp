#include "lab/run_loop.hpp"

#include <algorithm>
#include <chrono>

#include "graph/errors.hpp"
#include "lab/run_early_stop.hpp"

namespace bnlab::lab {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

}  // namespace

RunLoop::RunLoop(std::vector<RunJob> jobs, const data::Splits& data, RunHooks hooks)
    : jobs_(std::move(jobs)), data_(data), hooks_(std::move(hooks)) {
  runs_.resize(jobs_.size());
  for (size_t i = 0; i < jobs_.size(); ++i) {
    const auto start = Clock::now();
    const RunJob& job = jobs_[i];
    RunState& r = runs_[i];
    r.job = &job;
    r.trainer = std::make_unique<Trainer>(job.spec, job.config, data, job.parallel);  // may refuse the configuration
    if (job.resume) {
      restore(*r.trainer, *job.resume);
      r.record.epochs = job.resume->history;
    }
    r.record.name = job.name;
    r.record.config = r.trainer->config();
    r.record.spec = job.spec;
    r.record.train_size = data.train.size();
    r.record.val_size = data.val.size();
    r.record.test_size = data.test.size();
    r.record.status = RunStatus::running;
    r.last = std::make_unique<TrainerSnapshot>(*r.trainer);
    if (r.trainer->config().early_stop > 0) watch_early_stop(r);
    if (hooks_.progress) r.progress = hooks_.progress(job.name, job.config.epochs);
    r.done = r.done || r.trainer->epoch() >= job.config.epochs;
    r.record.total_seconds = seconds_since(start);
  }
}

bool RunLoop::run() {
  int max_epochs = 0;
  for (const RunState& r : runs_) max_epochs = std::max(max_epochs, r.job->config.epochs);
  for (int epoch = 1; epoch <= max_epochs; ++epoch) {
    bool trained = false;
    for (size_t i = 0; i < runs_.size(); ++i) {
      RunState& r = runs_[i];
      // A resumed run starts at its checkpoint's epoch.
      if (r.done || r.trainer->epoch() >= epoch) continue;
      const auto start = Clock::now();
      TrainObserver observer = r.progress ? r.progress->observer() : TrainObserver{};
      observer.should_stop = hooks_.should_stop;
      try {
        r.record.epochs.push_back(r.trainer->train_epoch(&observer));
      } catch (const TrainingInterrupted& e) {
        if (r.progress) r.progress->epoch_done();
        r.record.total_seconds += seconds_since(start);
        // A partial epoch cannot be resumed exactly (its batch order is drawn per epoch).
        for (RunState& other : runs_) other.last->restore(*other.trainer);
        interruption_ = Interruption{i, e.epoch, e.step, e.steps};
        for (RunState& other : runs_)
          if (other.record.status == RunStatus::running) other.record.status = RunStatus::interrupted;
        return false;
      } catch (const NonFiniteError& e) {
        r.record.status = RunStatus::diverged;
        r.record.error = e.what();
        r.done = true;
        if (!hooks_.record_divergence) {
          // The command writes what the runs did (status "diverged") before it reports the error.
          if (r.progress) r.progress->epoch_done();
          r.record.total_seconds += seconds_since(start);
          throw;
        }
      }
      if (r.progress) r.progress->epoch_done();
      if (r.record.status == RunStatus::running) {
        r.last->take(*r.trainer);
        const bool stop_early = r.early_stop && early_stop_after_epoch(r);
        if (hooks_.epoch_done) hooks_.epoch_done(r);
        r.done = stop_early || r.trainer->epoch() >= r.job->config.epochs;
      }
      r.record.total_seconds += seconds_since(start);
      trained = true;
    }
    if (trained && hooks_.round_done) hooks_.round_done(epoch);
  }
  for (RunState& r : runs_) finish(r);
  return true;
}

void RunLoop::finish(RunState& r) {
  if (r.record.status != RunStatus::running) return;
  const auto start = Clock::now();
  if (r.early_stop) restore_best(r);
  r.record.test = r.trainer->evaluate(data_.test);
  r.record.total_seconds += seconds_since(start);
  r.record.status = RunStatus::finished;
  if (r.job->eval_train) r.record.eval_train = r.trainer->evaluate(data_.train);
  if (r.job->eval_batch_stats && data_.val.size() > 1) {
    r.record.val_batch_stats_batch = std::min<int64_t>(r.job->config.batch_size, data_.val.size());
    r.record.val_batch_stats = r.trainer->evaluate(data_.val, Mode::eval_batch_stats, r.record.val_batch_stats_batch);
  }
}

std::vector<RunRecord> RunLoop::records() const {
  std::vector<RunRecord> out;
  for (const RunState& r : runs_) out.push_back(r.record);
  return out;
}

}  // namespace bnlab::lab

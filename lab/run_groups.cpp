#include "lab/run_groups.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>
#include <utility>

#include "graph/errors.hpp"
#include "lab/run_job.hpp"

namespace bnlab::lab {

namespace {

// A run's progress (or none) that also calls `between_steps` after every training step.
class SteppedProgress : public RunProgress {
 public:
  SteppedProgress(std::unique_ptr<RunProgress> inner, std::function<void()> between_steps)
      : inner_(std::move(inner)), between_steps_(std::move(between_steps)) {}
  TrainObserver observer() override {
    TrainObserver o = inner_ ? inner_->observer() : TrainObserver{};
    o.step = [step = o.step, hook = between_steps_](const StepProgress& p) {
      if (step) step(p);
      hook();
    };
    return o;
  }
  void epoch_done() override {
    if (inner_) inner_->epoch_done();
  }

 private:
  std::unique_ptr<RunProgress> inner_;
  std::function<void()> between_steps_;
};

// NOTE: a fault injected on purpose, for the tests of what a failure in the middle of a distributed
// sweep leaves behind (tests/test_mpi_sweep.cpp): with BNLAB_FAULT_AFTER_GROUPS=K in its environment
// a process trains K groups, and the next one it is given fails at once (RuntimeError). Unset (the
// normal case) it changes nothing.
void inject_fault(size_t trained_here, const JobGroup& group) {
  const char* after = std::getenv("BNLAB_FAULT_AFTER_GROUPS");
  if (after == nullptr || *after == '\0') return;
  if (trained_here >= std::strtoull(after, nullptr, 10))
    throw RuntimeError("run " + group.runs.front().name + ": fault injected by BNLAB_FAULT_AFTER_GROUPS=" + after);
}

// A group's training steps: what its time is roughly proportional to for the models of one sweep
// or study (a batch-16 run has 32 times the steps of a batch-512 one).
double steps(const JobGroup& group, const data::Splits& data) {
  double total = 0;
  for (const RunJob& r : group.runs) {
    const double batch = static_cast<double>(std::max<int64_t>(1, r.config.batch_size));
    total += r.config.epochs * std::ceil(static_cast<double>(data.train.size()) / batch);
  }
  return total;
}

ProgressFactory with_step_hook(const ProgressFactory& progress, const std::function<void()>& between_steps) {
  if (!between_steps) return progress;
  return [progress, between_steps](const std::string& name, int epochs) -> std::unique_ptr<RunProgress> {
    return std::make_unique<SteppedProgress>(progress ? progress(name, epochs) : nullptr, between_steps);
  };
}

}  // namespace

void run_groups(const std::vector<JobGroup>& groups, const GroupSource& source, JobRunner& runner, const GroupEvents& events,
                std::vector<std::optional<GroupOutcome>>& results) {
  results.assign(groups.size(), std::nullopt);
  // Per group continued from the store: its runs' checkpoints and stored times, in the group's order.
  std::map<size_t, std::vector<RunStore::Extension>> extensions;
  std::vector<size_t> todo;
  std::vector<double> cost;
  if (runner.leader()) {
    for (size_t i = 0; i < groups.size(); ++i) {
      if (source.store) {
        GroupRuns cached;
        for (const RunJob& r : groups[i].runs)
          if (auto c = source.store->cached(r.name, job_config(r, *source.reference), source.keep_checkpoints))
            cached.push_back(std::move(*c));
        // A group is trained together (its runs' times are compared), so it is reused only whole.
        if (cached.size() == groups[i].runs.size()) {
          results[i] = GroupOutcome{std::move(cached), true, 0, ""};
          if (events.reused) events.reused(i, *results[i]);
          continue;
        }
        if (source.keep_checkpoints) {
          std::vector<RunStore::Extension> found;
          std::string why;
          for (const RunJob& r : groups[i].runs) {
            auto e = source.store->extension(r.name, job_config(r, *source.reference), why);
            if (!e) break;
            found.push_back(std::move(*e));
          }
          if (found.size() == groups[i].runs.size()) {
            if (events.extending) events.extending(i, found.front().checkpoint->epoch);
            extensions[i] = std::move(found);
          } else if (!why.empty() && events.retraining) {
            events.retraining(i, why);
          }
        }
      }
      todo.push_back(i);
      cost.push_back(steps(groups[i], *source.reference));
    }
  }

  size_t trained_here = 0;
  const TrainGroup train = [&](size_t i, const std::function<void()>& between_steps) {
    const JobGroup& g = groups.at(i);
    inject_fault(trained_here++, g);
    std::vector<RunJob> jobs = g.runs;
    const auto ext = extensions.find(i);
    if (ext != extensions.end())
      for (size_t k = 0; k < jobs.size(); ++k) jobs[k].resume = ext->second[k].checkpoint.get();
    std::function<void(RunState&)> keep;
    if (source.keep_checkpoints && source.store)
      keep = [&](RunState& r) {
        if (r.record.status != RunStatus::finished) return;
        r.last->restore(*r.trainer);  // the state after the last epoch (the test pass changed nothing of it)
        save_checkpoint(source.store->checkpoint_path(r.job->name), *r.trainer, r.record.epochs);
      };
    GroupRuns runs = run_jobs_interleaved(jobs, source.data(g.seed), with_step_hook(source.progress, between_steps), keep);
    // A continued run's time is the stored part's and the new epochs'.
    if (ext != extensions.end())
      for (size_t k = 0; k < runs.size(); ++k)
        if (runs[k]["total_seconds"].is_number())
          runs[k]["total_seconds"] = runs[k]["total_seconds"].get<double>() + ext->second[k].total_seconds;
    return runs;
  };
  RunnerHooks hooks;
  hooks.started = events.started;
  hooks.done = [&](size_t i, GroupRuns runs, const std::string& where) {
    if (source.store)
      for (const nlohmann::ordered_json& r : runs) source.store->save(r);
    const auto ext = extensions.find(i);
    results.at(i) = GroupOutcome{std::move(runs), false, ext == extensions.end() ? 0 : ext->second.front().checkpoint->epoch, where};
    if (events.trained) events.trained(i, *results[i]);
  };
  runner.run(todo, cost, train, hooks);
}

}  // namespace bnlab::lab

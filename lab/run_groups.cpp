#include "lab/run_groups.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
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
  std::vector<size_t> todo;
  std::vector<double> cost;
  if (runner.leader()) {
    for (size_t i = 0; i < groups.size(); ++i) {
      if (source.store) {
        GroupRuns cached;
        for (const RunJob& r : groups[i].runs)
          if (auto c = source.store->cached(r.name, job_config(r, *source.reference))) cached.push_back(std::move(*c));
        // A group is trained together (its runs' times are compared), so it is reused only whole.
        if (cached.size() == groups[i].runs.size()) {
          results[i] = GroupOutcome{std::move(cached), true, ""};
          if (events.reused) events.reused(i, *results[i]);
          continue;
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
    return run_jobs_interleaved(g.runs, source.data(g.seed), with_step_hook(source.progress, between_steps));
  };
  RunnerHooks hooks;
  hooks.started = events.started;
  hooks.done = [&](size_t i, GroupRuns runs, const std::string& where) {
    if (source.store)
      for (const nlohmann::ordered_json& r : runs) source.store->save(r);
    results.at(i) = GroupOutcome{std::move(runs), false, where};
    if (events.trained) events.trained(i, *results[i]);
  };
  runner.run(todo, cost, train, hooks);
}

}  // namespace bnlab::lab

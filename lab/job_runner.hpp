// Where job groups are trained: a JobRunner takes the numbers of the groups to train and a function
// that trains one on this process, trains them all somewhere, and hands each group's runs to the
// leader — the one process that stores results, writes the outputs and prints. run_groups.hpp is
// the mechanism sweep and study share on top of it.
//
//   SerialJobRunner serial;                        // this process trains every group, in order
//   serial.run({0, 2}, {}, train, {.done = [&](size_t i, GroupRuns runs, const std::string& where) { … }});
//
// The distributed runner (tools/job_runners.hpp, over dist/work_queue.hpp) spreads the groups over
// the ranks of an mpirun job; lab/ sees only this interface, so it never includes dist/ or MPI.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bnlab::lab {

// A group's runs as run_job writes them (the entries of the metrics document's "runs").
using GroupRuns = std::vector<nlohmann::ordered_json>;

// Trains group `index` on this process. `between_steps`, when not empty, must be called between
// training steps (the distributed leader answers the other ranks there while it trains).
using TrainGroup = std::function<GroupRuns(size_t index, const std::function<void()>& between_steps)>;

struct RunnerHooks {
  // On the leader, when group `index` starts; `where` names the process that trains it ("rank 1"),
  // or is empty when this process trains everything.
  std::function<void(size_t index, const std::string& where)> started;
  // On the leader, for every group, in the order they finish.
  std::function<void(size_t index, GroupRuns runs, const std::string& where)> done;
};

class JobRunner {
 public:
  virtual ~JobRunner() = default;
  // Whether this process receives the results (RunnerHooks::done): it alone writes and prints.
  virtual bool leader() const = 0;
  // Trains every group in `todo` (the leader's list; the others' is ignored) with `train`.
  // `cost[k]` estimates the work of group todo[k] (training steps), for a runner that balances
  // load; the results do not depend on it. Returns when all are done. Requires: every process of
  // the job calls it, with the same `train`.
  virtual void run(const std::vector<size_t>& todo, const std::vector<double>& cost, const TrainGroup& train,
                   const RunnerHooks& hooks) = 0;
};

// One process, the groups in the order given (cost is ignored).
class SerialJobRunner final : public JobRunner {
 public:
  bool leader() const override { return true; }
  void run(const std::vector<size_t>& todo, const std::vector<double>& cost, const TrainGroup& train,
           const RunnerHooks& hooks) override;
};

}  // namespace bnlab::lab

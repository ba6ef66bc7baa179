#include "lab/job_runner.hpp"

namespace bnlab::lab {

void SerialJobRunner::run(const std::vector<size_t>& todo, const std::vector<double>&, const TrainGroup& train,
                          const RunnerHooks& hooks) {
  const std::function<void()> none;
  for (size_t index : todo) {
    if (hooks.started) hooks.started(index, "");
    GroupRuns runs = train(index, none);
    if (hooks.done) hooks.done(index, std::move(runs), "");
  }
}

}  // namespace bnlab::lab

#include "tools/job_runners.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "dist/work_queue.hpp"

namespace bnlab::tool {

namespace {

// The ranks of one mpirun job: a group's runs travel to rank 0 as the text of a JSON array (numbers
// printed to round-trip exactly, so rank 0 stores the same bytes a serial run would).
class QueueJobRunner final : public lab::JobRunner {
 public:
  explicit QueueJobRunner(dist::World& world) : world_(world) {}
  bool leader() const override { return world_.rank() == 0; }

  // The largest groups first (by estimated steps, ties in the given order): the last to finish is
  // then a small one, so no rank waits long for the others at the end.
  void run(const std::vector<size_t>& todo, const std::vector<double>& cost, const lab::TrainGroup& train,
           const lab::RunnerHooks& hooks) override {
    std::vector<size_t> order(todo.size());
    for (size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return cost.at(a) > cost.at(b); });
    std::vector<size_t> tasks;
    for (size_t k : order) tasks.push_back(todo[k]);
    dist::WorkQueueHooks q;
    q.work = [&](size_t index, const std::function<void()>& serve) {
      const lab::GroupRuns runs = train(index, world_.rank() == 0 ? serve : std::function<void()>{});
      return nlohmann::ordered_json(runs).dump();
    };
    q.started = [&](size_t index, int rank) {
      if (hooks.started) hooks.started(index, "rank " + std::to_string(rank));
    };
    q.done = [&](size_t index, int rank, std::string output) {
      lab::GroupRuns runs;
      for (nlohmann::ordered_json& r : nlohmann::ordered_json::parse(output)) runs.push_back(std::move(r));
      if (hooks.done) hooks.done(index, std::move(runs), "rank " + std::to_string(rank));
    };
    dist::run_work_queue(world_, tasks, q);
  }

 private:
  dist::World& world_;
};

}  // namespace

std::unique_ptr<lab::JobRunner> job_runner(dist::World& world) {
  if (!world.distributed()) return std::make_unique<lab::SerialJobRunner>();
  return std::make_unique<QueueJobRunner>(world);
}

}  // namespace bnlab::tool

#include "dist/work_queue.hpp"

#include <chrono>
#include <deque>
#include <thread>

namespace bnlab::dist {

namespace {

// rank 0 → a worker: the task's number, or "stop".
constexpr int kTaskTag = 101;
// a worker → rank 0: "done TASK\nOUTPUT" or "fail STATUS\nHOST\nMESSAGE".
constexpr int kReportTag = 102;

void serve_as_worker(World& world, const WorkQueueHooks& hooks) {
  const std::function<void()> nothing = [] {};
  for (;;) {
    const Message m = world.receive(0, kTaskTag);
    if (m.text == "stop") return;
    const size_t task = std::stoul(m.text);
    std::string output;
    try {
      output = hooks.work(task, nothing);
    } catch (const std::exception& e) {
      world.send(0, kReportTag, "fail " + std::to_string(exit_status_of(e)) + "\n" + world.host() + "\n" + e.what());
      // Rank 0 says it once and ends the job (World::abort): printing it here too would say it twice.
      world.receive(0, kTaskTag);
      return;
    }
    world.send(0, kReportTag, "done " + std::to_string(task) + "\n" + output);
  }
}

class Leader {
 public:
  Leader(World& world, const std::vector<size_t>& tasks, const WorkQueueHooks& hooks)
      : world_(world), pending_(tasks.begin(), tasks.end()), hooks_(hooks) {}

  void run() {
    for (int r = 1; r < world_.size(); ++r) assign(r);
    const std::function<void()> serve = [this] { this->serve(); };
    while (!pending_.empty()) {
      const size_t task = pending_.front();
      pending_.pop_front();
      if (hooks_.started) hooks_.started(task, 0);
      std::string output = hooks_.work(task, serve);
      if (hooks_.done) hooks_.done(task, 0, std::move(output));
      serve();
    }
    // NOTE: a blocking receive would spin a core inside Open MPI while the last workers train;
    // polling with a short sleep leaves it to them (a 2-core machine runs 2 ranks).
    while (busy_ > 0)
      if (!serve_one()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }

 private:
  // Gives rank `r` the next task, or tells it to stop.
  void assign(int r) {
    if (pending_.empty()) {
      world_.send(r, kTaskTag, "stop");
      return;
    }
    const size_t task = pending_.front();
    pending_.pop_front();
    world_.send(r, kTaskTag, std::to_string(task));
    ++busy_;
    if (hooks_.started) hooks_.started(task, r);
  }

  void serve() {
    while (serve_one()) {
    }
  }

  // Handles one report if one has arrived.
  bool serve_one() {
    std::optional<Message> m = world_.poll(kReportTag);
    if (!m) return false;
    const std::string& t = m->text;
    const size_t newline = t.find('\n');
    const std::string head = t.substr(0, newline), body = newline == std::string::npos ? "" : t.substr(newline + 1);
    if (head.rfind("fail ", 0) == 0) {
      const size_t second = body.find('\n');
      throw DistributedFailure({RankFailure{m->from, body.substr(0, second), std::stoi(head.substr(5)),
                                            second == std::string::npos ? "" : body.substr(second + 1)}});
    }
    --busy_;
    const size_t task = std::stoul(head.substr(5));
    if (hooks_.done) hooks_.done(task, m->from, body);
    assign(m->from);
    return true;
  }

  World& world_;
  std::deque<size_t> pending_;
  const WorkQueueHooks& hooks_;
  int busy_ = 0;  // workers holding a task
};

}  // namespace

void run_work_queue(World& world, const std::vector<size_t>& tasks, const WorkQueueHooks& hooks) {
  if (!world.distributed()) {
    const std::function<void()> nothing = [] {};
    for (size_t task : tasks) {
      if (hooks.started) hooks.started(task, 0);
      std::string output = hooks.work(task, nothing);
      if (hooks.done) hooks.done(task, 0, std::move(output));
    }
    return;
  }
  if (world.rank() == 0)
    Leader(world, tasks, hooks).run();
  else
    serve_as_worker(world, hooks);
}

}  // namespace bnlab::dist

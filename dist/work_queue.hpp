// A work queue over the ranks of one mpirun job: rank 0 holds the list of tasks and hands them out
// one at a time, to each rank as it becomes free (itself included), and receives every task's
// output. Distributed sweeps and studies run their job groups through it (tools/job_runners.hpp);
// a task and its output are opaque strings here, so dist/ knows nothing of runs.
//
//   WorkQueueHooks hooks;
//   hooks.work = [&](size_t task, const std::function<void()>& serve) { return train(task, serve); };
//   hooks.done = [&](size_t task, int rank, std::string output) { save(task, output); };  // rank 0 only
//   run_work_queue(world, {0, 2, 5}, hooks);   // the task list counts on rank 0 only
//
// Why a queue rather than run i on rank i mod N: runs differ in cost by an order of magnitude (a
// batch-16 run takes many times the steps of a batch-512 one), and a static split leaves ranks
// idle while one works through its share. Rank 0 trains too (else one of two cores would idle): its
// work function calls `serve` between training steps, and serve answers the other ranks.
//
// Faults: an exception in a worker's task is sent to rank 0, which throws it as a DistributedFailure
// naming that rank and its host; the caller (main) prints it and ends the job (World::abort), since
// the other ranks are still training. An exception in rank 0's own task propagates as it is. A rank
// that dies is mpirun's to notice: it ends the job.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "dist/world.hpp"

namespace bnlab::dist {

struct WorkQueueHooks {
  // Runs `task` on this rank and returns its output. `serve` is cheap (a non-blocking probe); on
  // rank 0 it answers the ranks that finished a task, so call it often (between training steps).
  std::function<std::string(size_t task, const std::function<void()>& serve)> work;
  // On rank 0, when `rank` begins `task`.
  std::function<void(size_t task, int rank)> started;
  // On rank 0, for each task's output, in the order they arrive.
  std::function<void(size_t task, int rank, std::string output)> done;
};

// Collective: every rank calls it once (after World::setup), with the same hooks. Returns on every
// rank when every task of rank 0's list is done and its output delivered to `done` on rank 0.
// In a world of one it runs the tasks in order. Throws DistributedFailure (on rank 0) for a task
// that failed on another rank.
void run_work_queue(World& world, const std::vector<size_t>& tasks, const WorkQueueHooks& hooks);

}  // namespace bnlab::dist

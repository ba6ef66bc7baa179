// The JobRunner (lab/job_runner.hpp) of this process: serial in a world of one (no mpirun, or
// mpirun -np 1), otherwise the ranks' work queue (dist/work_queue.hpp), with rank 0 the leader.
// tools/ is where lab/ and dist/ meet: lab/ never includes dist/, dist/ never includes lab/.
//
//   std::unique_ptr<lab::JobRunner> runner = job_runner(dist::World::get());
//   lab::run_groups(groups, source, *runner, events, results);
#pragma once

#include <memory>

#include "dist/world.hpp"
#include "lab/job_runner.hpp"

namespace bnlab::tool {

std::unique_ptr<lab::JobRunner> job_runner(dist::World& world);

}  // namespace bnlab::tool

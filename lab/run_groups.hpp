// What sweep and study share: a list of job groups, each reused from the run store when every run of
// it is there (with the same configuration) and trained through a JobRunner otherwise, each trained
// group saved to the store (DIR/runs/<name>.json, atomically) the moment its runs reach the leader.
// The commands differ only in how they make the groups and what they do with the results.
//
//   std::vector<JobGroup> groups = {{.seed = 0, .runs = {job}}, …};
//   GroupSource source{.store = &store, .reference = &first, .data = data_for};
//   std::vector<std::optional<GroupOutcome>> results;
//   run_groups(groups, source, runner, events, results);   // results[i]: group i, on the leader
//
// Every group is trained exactly as the serial command trains it (run_jobs_interleaved on the
// data of its seed, loaded by the process that trains it), so the runs are the same but for their
// times wherever they are trained.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "data/dataset.hpp"
#include "lab/job_runner.hpp"
#include "lab/run_loop.hpp"
#include "lab/run_store.hpp"

namespace bnlab::lab {

// One unit of work: a run, or several trained side by side (one epoch each in turn), on the data of
// `seed`.
struct JobGroup {
  uint64_t seed = 0;
  std::vector<RunJob> runs;
};

struct GroupSource {
  const RunStore* store = nullptr;            // the leader's, or none (no --out; not the leader)
  const data::Splits* reference = nullptr;    // what job_config compares a stored run's config with
  std::function<const data::Splits&(uint64_t seed)> data;  // this process's data of a seed
  ProgressFactory progress;                   // per run, on the process that trains it
  // Keep each trained run's checkpoint in the store (RunStore::checkpoint_path) and continue a stored
  // run of fewer epochs from it instead of retraining it. Only where the leader trains every group
  // itself (a serial runner): the checkpoints live in the leader's store.
  bool keep_checkpoints = false;
};

struct GroupOutcome {
  GroupRuns runs;       // in the group's order
  bool reused = false;  // read from the store rather than trained
  int extended_from = 0;  // continued from the stored runs' checkpoints at this epoch (0: trained from the start)
  std::string where;    // who trained it (JobRunner: "rank 1"), empty for this process alone
};

struct GroupEvents {
  std::function<void(size_t group, const GroupOutcome&)> reused;
  std::function<void(size_t group, const std::string& where)> started;
  // A stored run of fewer epochs is continued from its checkpoint (at `epoch`), or retrained: `why`.
  std::function<void(size_t group, int epoch)> extending;
  std::function<void(size_t group, const std::string& why)> retraining;
  std::function<void(size_t group, const GroupOutcome&)> trained;
};

// Fills results[i] (sized to the groups) on the leader as each group is reused or trained; what it
// holds when a failure propagates says how far the work got. On other processes, trains what the
// runner hands them and leaves results empty. Errors of the store (a stored run whose configuration
// differs) propagate: check those before, in the setup.
void run_groups(const std::vector<JobGroup>& groups, const GroupSource& source, JobRunner& runner, const GroupEvents& events,
                std::vector<std::optional<GroupOutcome>>& results);

}  // namespace bnlab::lab

// The command line of data-parallel training (train and compare): --data-parallel and --bn-stats,
// what they require, and what changes for a rank that is not rank 0 (it trains, but writes and
// prints nothing: rank 0 owns the progress display, the metrics, the checkpoints and stdout).
//
//   mpirun -np 2 bnlab train --data-parallel --bn-stats sync     # docs/distributed.md
//
// Every rank loads the whole dataset from its own disk (the same files, the same seeded split) and
// gathers its share of each global batch from it; the ranks check that they loaded the same data
// (a fingerprint of every split's values and labels) before the first step.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "data/registry.hpp"
#include "dist/world.hpp"
#include "tools/train_flags.hpp"
#include "train/trainer.hpp"

namespace bnlab::tool {

struct ParallelFlags {
  bool enabled = false;             // --data-parallel
  BnStats bn_stats = BnStats::sync; // --bn-stats
  CLI::Option* bn_stats_opt = nullptr;
};

void add_parallel_flags(CLI::App& cmd, ParallelFlags& flags);
// --bn-stats' value: UsageError naming the flag and the known values.
BnStats with_bn_stats_flag(const std::string& value);

// UsageError for a combination that cannot run: under mpirun with several ranks without
// --data-parallel (each rank would train the same model alone and write the same files),
// --data-parallel in a build without MPI, --bn-stats without --data-parallel.
void check_parallel_flags(const ParallelFlags& flags, const std::string& command);

// This process's place among the workers: the world's collective when --data-parallel runs as
// several ranks, one process otherwise.
DataParallel data_parallel(const ParallelFlags& flags);

// ", 2 data-parallel ranks (batch-norm statistics sync)" for the announcement line; "" alone.
std::string parallel_note(const DataParallel& parallel);

// How to continue a checkpoint of this run: "bnlab train --resume PATH", or under N ranks
// "mpirun -np N bnlab train --resume PATH --data-parallel".
std::string resume_command(const std::string& path, const DataParallel& parallel);

// Whether this process writes outputs and prints (rank 0, or a process on its own).
inline bool writes_outputs() { return dist::World::get().rank() == 0; }

// The flags as this rank uses them: under mpirun only rank 0 prints and writes (outputs cleared,
// quiet on the other ranks).
TrainFlags rank_flags(const TrainFlags& flags);

// Each run's metrics "config" names the data-parallel workers when there are several:
// "data_parallel": {"workers": 2, "bn_stats": "sync"}.
void add_parallel_config(nlohmann::ordered_json& config, const DataParallel& parallel);

// Inside a World::setup: InputError on every rank whose loaded data differ from rank 0's
// (`rank0` is rank 0's data_fingerprint, broadcast), naming the dataset and what to check.
uint64_t data_fingerprint(const data::Splits& data);
void check_same_data(const data::Splits& data, uint64_t rank0, const std::string& dataset);

}  // namespace bnlab::tool

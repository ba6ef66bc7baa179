#include "tools/data_parallel.hpp"

#include <cstring>

#include <fmt/format.h>

#include "graph/errors.hpp"

namespace bnlab::tool {

void add_parallel_flags(CLI::App& cmd, ParallelFlags& f) {
  const std::string group = "Distributed (mpirun)";
  cmd.add_flag("--data-parallel", f.enabled,
               "train as the ranks of mpirun: each rank takes its share of every global batch, gradients summed "
               "(docs/distributed.md)")
      ->group(group);
  f.bn_stats_opt = cmd.add_option_function<std::string>(
                          "--bn-stats", [&f](const std::string& s) { f.bn_stats = with_bn_stats_flag(s); },
                          "batch-norm statistics of --data-parallel: sync (over the global batch: the model one process "
                          "trains) or local (over each rank's share, as PyTorch DDP)")
                       ->type_name("sync|local")
                       ->default_str("sync")
                       ->group(group);
}

BnStats with_bn_stats_flag(const std::string& s) {
  try {
    return bn_stats_from_string(s);
  } catch (const UsageError& e) {
    throw UsageError(std::string("--bn-stats: ") + e.what());
  }
}

void check_parallel_flags(const ParallelFlags& f, const std::string& command) {
  const dist::World& world = dist::World::get();
  if (world.distributed() && !f.enabled)
    throw UsageError(fmt::format("bnlab {} runs as {} mpirun ranks only with --data-parallel (otherwise every rank would "
                                 "train the same model alone and write the same files)",
                                 command, world.size()));
  if (f.enabled && !dist::built_with_mpi())
    throw UsageError("--data-parallel needs MPI, and this bnlab was built without it: install Open MPI "
                     "(scripts/install-deps installs libopenmpi-dev and openmpi-bin) and rebuild");
  if (f.bn_stats_opt && f.bn_stats_opt->count() > 0 && !f.enabled)
    throw UsageError("--bn-stats " + std::string(to_string(f.bn_stats)) +
                     ": chooses how data-parallel ranks share batch-norm statistics, so it needs --data-parallel");
}

DataParallel data_parallel(const ParallelFlags& f) {
  dist::World& world = dist::World::get();
  if (!f.enabled || !world.distributed()) return {};
  return {.collective = &world.collective(), .bn_stats = f.bn_stats};
}

std::string parallel_note(const DataParallel& p) {
  if (p.workers() < 2) return "";
  return fmt::format(", {} data-parallel ranks (batch-norm statistics {})", p.workers(), to_string(p.bn_stats));
}

std::string resume_command(const std::string& path, const DataParallel& p) {
  if (p.workers() < 2) return "bnlab train --resume " + path;
  return fmt::format("mpirun -np {} bnlab train --resume {} --data-parallel", p.workers(), path);
}

TrainFlags rank_flags(const TrainFlags& flags) {
  TrainFlags f = flags;
  if (!writes_outputs()) {
    f.outputs = {};
    f.quiet = true;
  }
  return f;
}

void add_parallel_config(nlohmann::ordered_json& config, const DataParallel& p) {
  if (p.workers() > 1) config["data_parallel"] = {{"workers", p.workers()}, {"bn_stats", to_string(p.bn_stats)}};
}

namespace {
// FNV-1a over 8-byte words (60 000 images in about a tenth of a second).
uint64_t mix(uint64_t h, const void* data, size_t bytes) {
  const auto* p = static_cast<const unsigned char*>(data);
  size_t i = 0;
  for (; i + 8 <= bytes; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * 1099511628211ull;
  }
  for (; i < bytes; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}
}  // namespace

uint64_t data_fingerprint(const data::Splits& d) {
  uint64_t h = 1469598103934665603ull;
  for (const data::Dataset* s : {&d.train, &d.val, &d.test}) {
    h = mix(h, s->features.data(), s->features.size() * sizeof(s->features[0]));
    h = mix(h, s->labels.data(), s->labels.size() * sizeof(s->labels[0]));
  }
  return h;
}

void check_same_data(const data::Splits& d, uint64_t rank0, const std::string& dataset) {
  if (data_fingerprint(d) != rank0)
    throw InputError(fmt::format("the {} data this rank loaded ({} train / {} val / {} test rows) differ from rank 0's: "
                                 "every rank must read the same files (check --data-dir on each host)",
                                 dataset, d.train.size(), d.val.size(), d.test.size()));
}

}  // namespace bnlab::tool

// bnlab train: one model, trained and tested. Everything it prints for people (progress, epoch
// lines, the test score) goes to stderr; stdout carries only machine output (`--json /dev/stdout`).
//
//   bnlab train --checkpoint run.safetensors --save-best   # saves after every epoch; the best val epoch beside it
//   bnlab train --resume run.safetensors --epochs 20       # continues that run (its configuration) to 20 epochs
//
// --json and --csv are rewritten after every epoch (status "running"), and at the end ("finished",
// "interrupted" or "diverged"); --save-best says which epoch it kept and why.
//
// Ctrl-C (SIGINT) or kill (SIGTERM) finishes the current step, puts back the state of the last
// completed epoch (a partial epoch cannot be resumed exactly: its batch order is drawn per epoch),
// saves it to --checkpoint (or ./bnlab-interrupted.safetensors), writes the metrics so far, prints
// how to resume, and exits with 130 (SIGINT) or 143 (SIGTERM).
#include <functional>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "graph/errors.hpp"
#include "lab/metrics_json.hpp"
#include "lab/numbers.hpp"
#include "lab/outputs.hpp"
#include "lab/run_control.hpp"
#include "lab/run_loop.hpp"
#include "tools/command.hpp"
#include "tools/data_parallel.hpp"
#include "tools/progress.hpp"
#include "tools/signals.hpp"
#include "tools/train_flags.hpp"
#include "train/atomic_file.hpp"
#include "train/checkpoint.hpp"

namespace bnlab::tool {

namespace {

struct TrainCommand {
  TrainFlags train;
  ParallelFlags parallel;
  std::string checkpoint;
  bool save_best = false;
  std::string resume;
  CLI::App* cmd = nullptr;
  CLI::Option* epochs_opt = nullptr;
  CLI::Option* threads_opt = nullptr;
  CLI::Option* data_dir_opt = nullptr;
  CLI::Option* on_nonfinite_opt = nullptr;
};

// How a run saves itself.
struct Saving {
  std::string checkpoint;  // after every epoch; "" = only when interrupted, to kInterruptedCheckpoint
  bool save_best = false;  // best validation accuracy beside `checkpoint`
  data::LoadOptions data;  // stored in the checkpoints
  nlohmann::ordered_json data_config;
};

bool given(const CLI::Option* opt) { return opt != nullptr && opt->count() > 0; }

// The flags a resumed run accepts; every other one would change the configuration the checkpoint fixes.
const std::set<std::string>& resume_flags() {
  static const std::set<std::string> names = {"--resume", "--epochs", "--threads", "--data-dir", "--checkpoint",
                                              "--save-best", "--on-nonfinite", "--json", "--csv", "--quiet",
                                              "--data-parallel"};
  return names;
}

void check_resume_flags(const TrainCommand& c, const Checkpoint& ck) {
  for (const CLI::Option* opt : c.cmd->get_options()) {
    if (opt->count() == 0) continue;
    const std::string name = opt->get_name();
    if (resume_flags().count(name) || name == "--help" || name == "-h") continue;
    throw UsageError(fmt::format("{} cannot be combined with --resume: a resumed run keeps the configuration of {} "
                                 "(with --resume only {} may be given)",
                                 name, ck.path,
                                 "--epochs, --threads, --data-dir, --checkpoint, --save-best, --on-nonfinite, --json, --csv, --quiet, "
                                 "--data-parallel"));
  }
}

void check_checkpoint_paths(const Saving& s, const OutputPaths& outputs) {
  if (s.checkpoint.empty()) return;
  check_output_path("--checkpoint", s.checkpoint);
  namespace fs = std::filesystem;
  const auto same = [](const std::string& a, const std::string& b) {
    return !a.empty() && !b.empty() && fs::weakly_canonical(a) == fs::weakly_canonical(b);
  };
  if (same(s.checkpoint, outputs.json) || same(s.checkpoint, outputs.csv))
    throw UsageError("--checkpoint " + s.checkpoint + ": the same file as --json or --csv");
  if (s.save_best) check_output_path("--save-best", best_checkpoint_path(s.checkpoint));
}

// The epoch --save-best keeps: the best validation accuracy so far (the first of equals).
struct BestEpoch {
  std::string path;
  int epoch = 0;  // 0 = none yet
  double val_acc = -std::numeric_limits<double>::infinity();

  // runs[].best_checkpoint in the metrics document (docs/metrics.md).
  nlohmann::ordered_json json() const {
    return {{"path", path}, {"epoch", epoch}, {"metric", "val_acc"}, {"value", json_number(val_acc)}};
  }
};

// Trains `job` (a new run, or a resumed one) to its configured epochs through the run loop, saving
// as asked. Returns false (having set the exit code) when interrupted.
bool run_epochs(const RunJob& job, const data::Splits& data, const Saving& s, const TrainFlags& f, CommandResult& result,
                RunRecord& run, DocumentExtras& extras, const std::function<void(const Trainer&, const data::Splits&)>& announce) {
  Progress progress(progress_mode(f.quiet));
  const bool talk = progress.mode() != ProgressMode::quiet;
  BestEpoch best{.path = s.save_best ? best_checkpoint_path(s.checkpoint) : ""};
  // A resumed run's earlier best is the one beside the checkpoint, if it was kept.
  if (s.save_best && std::filesystem::exists(best.path) && job.resume)
    for (const EpochMetrics& m : job.resume->history)
      if (m.val_acc > best.val_acc) best = {best.path, m.epoch, m.val_acc};
  extras.run_fields.assign(1, nlohmann::ordered_json::object());
  if (best.epoch > 0) extras.run_fields[0]["best_checkpoint"] = best.json();

  RunHooks hooks;
  hooks.progress = progress.factory(/*named=*/false);
  hooks.should_stop = interrupt_requested;
  hooks.epoch_done = [&](RunState& r) {
    const EpochMetrics& m = r.record.epochs.back();
    if (talk) fmt::print(stderr, "{}\n", epoch_line(m, r.job->config.epochs, progress.remaining_seconds(), progress.line_width()));
    if (!s.checkpoint.empty()) save_checkpoint(s.checkpoint, *r.trainer, r.record.epochs, s.data);
    if (s.save_best && m.val_acc > best.val_acc) {
      const BestEpoch previous = best;
      best.epoch = m.epoch;
      best.val_acc = m.val_acc;
      save_checkpoint(best.path, *r.trainer, r.record.epochs, s.data);
      extras.run_fields[0]["best_checkpoint"] = best.json();
      if (talk)
        fmt::print(stderr, "saved best: epoch {}, val_acc {} {}\n", m.epoch, fixed(m.val_acc, 4),
                   previous.epoch > 0 ? fmt::format("(previous best {}, epoch {})", fixed(previous.val_acc, 4), previous.epoch)
                                      : "to " + best.path);
    }
    if (writes_outputs()) write_outputs(f.outputs, "train", {r.record}, s.data_config, extras, /*live=*/true);
  };
  // Under mpirun every rank builds its trainer, and checks that it loaded rank 0's data, before
  // any rank takes a step (dist/world.hpp: a failure on any rank stops every rank).
  dist::World& world = dist::World::get();
  const uint64_t rank0_data = world.distributed() ? std::stoull(world.broadcast(std::to_string(data_fingerprint(data)))) : 0;
  std::unique_ptr<RunLoop> built;
  world.setup([&] {
    if (world.distributed()) check_same_data(data, rank0_data, job.config.dataset);
    built = std::make_unique<RunLoop>(std::vector<RunJob>{job}, data, std::move(hooks));  // may refuse the configuration
  });
  RunLoop& loop = *built;
  RunState& state = loop.runs().front();
  announce(*state.trainer, data);
  InterruptGuard guard;
  bool completed = false;
  try {
    completed = loop.run();
  } catch (const NonFiniteError&) {
    // The metrics say how far the run got ("status": "diverged", "error"); main reports the error.
    if (writes_outputs()) write_outputs(f.outputs, "train", {state.record}, s.data_config, extras);
    throw;
  }
  run = state.record;
  if (completed) return true;

  if (!writes_outputs()) {  // rank 0 saves and reports
    result.exit_code = interrupted_exit_status();
    return false;
  }
  const Interruption& e = *loop.interruption();
  const Trainer& trainer = *state.trainer;
  const std::string path = s.checkpoint.empty() ? kInterruptedCheckpoint : s.checkpoint;
  save_checkpoint(path, trainer, run.epochs, s.data);
  const std::string resume = resume_command(path, job.parallel);
  write_interrupted_outputs(f.outputs, "train", {run}, s.data_config,
                            {{"signal", signal_name(interrupt_signal())},
                             {"epoch", e.epoch},
                             {"step", e.step},
                             {"checkpoints", {path}},
                             {"resume", resume}},
                            extras);
  const int done = trainer.epoch();
  std::fprintf(stderr, "bnlab: %s during epoch %d (step %lld of %lld): saved %d completed epoch%s to %s "
                       "(a partial epoch cannot be resumed exactly); resume with: %s\n",
               signal_name(interrupt_signal()).c_str(), e.epoch, static_cast<long long>(e.step),
               static_cast<long long>(e.steps), done, done == 1 ? "" : "s", path.c_str(), resume.c_str());
  result.exit_code = interrupted_exit_status();
  return false;
}

void finish(const RunRecord& run, const TrainFlags& f, const nlohmann::ordered_json& data_config, const DocumentExtras& extras) {
  if (!writes_outputs()) return;
  // Early stopping: when it stopped and whose weights the test score is of.
  if (run.config.early_stop > 0)
    fmt::print(stderr, "{}: {}; tested with epoch {}'s weights\n", run.name,
               run.stopped_epoch ? "stopped after epoch " + std::to_string(run.stopped_epoch) + ": " + run.stop_reason
                                 : "trained all " + std::to_string(run.epochs.size()) + " epochs" +
                                       (run.stop_reason.empty() ? "" : " (" + run.stop_reason + ")"),
               run.best_epoch);
  fmt::print(stderr, "{} {}: test loss {} acc {}  ({:.1f}s)\n", run.name, run.spec.describe(), fixed(run.test->loss, 4),
             fixed(run.test->acc, 4), run.total_seconds);
  write_outputs(f.outputs, "train", {run}, data_config, extras);
}

void run_train(const TrainCommand& c, CommandResult& result) {
  const TrainFlags f = rank_flags(c.train);
  const std::string name = model_label(model_name(f));
  Saving s;
  std::optional<data::Splits> loaded;
  ModelSpec spec;
  TrainConfig config;
  const DataParallel parallel = data_parallel(c.parallel);
  dist::World::get().setup([&] {
    check_parallel_flags(c.parallel, "train");
    check_preset(f.model_file.empty() ? "--model" : "--model-file", model_name(f));
    check_before_loading(f, {model_name(f)});
    if (c.save_best && c.checkpoint.empty())
      throw UsageError("--save-best needs --checkpoint PATH: the best epoch is kept beside it (PATH.best.safetensors for PATH.safetensors)");
    if (c.save_best && f.data.val_fraction == 0)
      throw UsageError("--save-best needs a validation split to pick the best epoch by, but --val-fraction is 0");
    if (writes_outputs()) {
      s.checkpoint = c.checkpoint;
      s.save_best = c.save_best;
    }
    s.data = load_options(f);
    s.data_config = data_config(f);
    add_parallel_config(s.data_config, parallel);
    check_checkpoint_paths(s, f.outputs);
    loaded.emplace(data::load(f.dataset, s.data));
    spec = model_spec(f, name, *loaded);
    config = train_config(f, name, *loaded);
  });
  const data::Splits& data = *loaded;

  const RunJob job{.name = name, .spec = spec, .config = config, .parallel = parallel};
  RunRecord run;
  const auto announce = [&](const Trainer&, const data::Splits&) {
    if (progress_mode(f.quiet) != ProgressMode::quiet)
      fmt::print(stderr, "train {} {} on {}\n  {} train / {} val / {} test rows, {} lr {}, batch {}, {} epoch{}{}\n", name,
                 spec.describe(), f.dataset, data.train.size(), data.val.size(), data.test.size(),
                 to_string(config.optimizer.kind), config.optimizer.lr, config.batch_size, config.epochs,
                 config.epochs == 1 ? "" : "s", parallel_note(parallel));
  };
  DocumentExtras extras;
  if (run_epochs(job, data, s, f, result, run, extras, announce)) finish(run, f, s.data_config, extras);
}

void run_resume(const TrainCommand& c, CommandResult& result) {
  const TrainFlags f = rank_flags(c.train);
  dist::World& world = dist::World::get();
  std::optional<Checkpoint> read;
  TrainConfig config;
  Saving s;
  std::optional<data::Splits> loaded;
  DataParallel parallel;
  world.setup([&] {
    check_parallel_flags(c.parallel, "train");
    read.emplace(read_checkpoint(c.resume));
    const Checkpoint& ck = *read;
    check_resume_flags(c, ck);
    const int workers = world.distributed() ? world.size() : 1;
    if (ck.workers != workers)
      throw UsageError(
          ck.workers == 1
              ? fmt::format("{} was trained by one process: resume it without mpirun (as {} ranks the global batches "
                            "would be divided into other shares)",
                            ck.path, workers)
              : fmt::format("{} was trained by {} data-parallel ranks: resume it as {} ranks (mpirun -np {} bnlab train "
                            "--resume {} --data-parallel); with {} the global batches would be divided into other shares",
                            ck.path, ck.workers, ck.workers, ck.workers, ck.path, workers == 1 ? "one process" : std::to_string(workers) + " ranks"));
    parallel = data_parallel(c.parallel);
    parallel.bn_stats = ck.bn_stats;

    config = ck.config;
    if (given(c.epochs_opt)) {
      if (f.config.epochs < ck.epoch)
        throw UsageError(fmt::format("--epochs {}: {} has already completed {} epochs (--epochs is the total, not the number to add)",
                                     f.config.epochs, ck.path, ck.epoch));
      config.epochs = f.config.epochs;
    }
    if (config.epochs < ck.epoch) config.epochs = ck.epoch;
    if (given(c.threads_opt)) {
      if (f.config.threads < 1) throw UsageError(fmt::format("--threads {}: must be at least 1", f.config.threads));
      if (f.config.threads != ck.config.threads && writes_outputs())
        warn(fmt::format("--threads {} differs from the {} thread{} {} was trained with: exact resume (the same numbers as an "
                         "uninterrupted run) is guaranteed only for the same thread count",
                         f.config.threads, ck.config.threads, ck.config.threads == 1 ? "" : "s", ck.path));
      config.threads = f.config.threads;
    }
    if (given(c.on_nonfinite_opt)) config.on_nonfinite = f.config.on_nonfinite;

    if (writes_outputs()) {
      s.checkpoint = c.checkpoint.empty() ? c.resume : c.checkpoint;
      s.save_best = c.save_best;
    }
    s.data = checkpoint_load_options(ck);
    if (given(c.data_dir_opt)) {
      if (ck.dataset == "synthetic") throw UsageError("--data-dir " + f.data.data_dir + ": dataset synthetic is generated and reads no files");
      s.data.data_dir = f.data.data_dir;
    }
    s.data_config = data_config(s.data);
    add_parallel_config(s.data_config, parallel);
    if (c.save_best && s.data.val_fraction == 0)
      throw UsageError("--save-best needs a validation split to pick the best epoch by, but " + ck.path + " was trained with --val-fraction 0");
    check_outputs(f.outputs);
    check_checkpoint_paths(s, f.outputs);
    loaded.emplace(data::load(ck.dataset, s.data));
  });
  const Checkpoint& ck = *read;
  const data::Splits& data = *loaded;
  const RunJob job{.name = config.model, .spec = ck.spec, .config = config, .resume = &ck, .parallel = parallel};
  RunRecord run;
  const auto announce = [&](const Trainer&, const data::Splits&) {
    if (progress_mode(f.quiet) != ProgressMode::quiet)
      fmt::print(stderr, "resume {} {} on {} from {} at epoch {} of {}\n  {} train / {} val / {} test rows{}\n", config.model,
                 ck.spec.describe(), ck.dataset, ck.path, ck.epoch, config.epochs, data.train.size(), data.val.size(),
                 data.test.size(), parallel_note(parallel));
  };
  DocumentExtras extras;
  if (run_epochs(job, data, s, f, result, run, extras, announce)) finish(run, f, s.data_config, extras);
}

}  // namespace

void register_train(CLI::App& app, CommandResult& result) {
  CLI::App* cmd = app.add_subcommand("train", "train one model, evaluate it on the test split, write its metrics");
  auto c = std::make_shared<TrainCommand>();
  c->cmd = cmd;
  add_train_flags(*cmd, c->train, {.model = true, .norm = true});
  add_parallel_flags(*cmd, c->parallel);
  c->epochs_opt = cmd->get_option("--epochs");
  c->threads_opt = cmd->get_option("--threads");
  c->data_dir_opt = cmd->get_option("--data-dir");
  c->on_nonfinite_opt = cmd->get_option("--on-nonfinite");
  const std::string group = "Checkpoints";
  cmd->add_option("--checkpoint", c->checkpoint,
                  "save the model, optimizer state and metrics so far to PATH (safetensors) after every epoch")
      ->type_name("PATH")
      ->group(group);
  cmd->add_flag("--save-best", c->save_best,
                "also keep the epoch with the best validation accuracy beside --checkpoint (PATH.best.safetensors)")
      ->group(group);
  cmd->add_option("--resume", c->resume,
                  "continue the run saved in PATH with its configuration; --epochs N sets a new total; saves back to PATH "
                  "unless --checkpoint is given")
      ->type_name("PATH")
      ->group(group);
  cmd->callback([c, &result] {
    if (c->resume.empty())
      run_train(*c, result);
    else
      run_resume(*c, result);
  });
}

}  // namespace bnlab::tool

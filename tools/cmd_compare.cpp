// bnlab compare: the lab's central experiment. Trains the variants (plain and batchnorm by default)
// from the same seed on the same data, stepping them alternately one epoch at a time so a single
// table row per epoch shows them side by side as training goes, then summarizes the difference.
// --checkpoint-dir DIR saves each variant after every epoch as DIR/<variant>.safetensors (resumable
// one by one with `bnlab train --resume`). SIGINT / SIGTERM finish the current step, save every
// variant's last completed epoch (to DIR, or ./bnlab-interrupted-<variant>.safetensors) and the
// metrics so far, and exit with 130 / 143.
//
// What it prints for people (the settings, the epoch table, the summary) goes to stderr, as train's;
// stdout carries only machine output (`--json /dev/stdout`). The table fits the terminal (100
// columns when stderr is not one): one group of columns per variant, the compact group (train and
// validation accuracy, seconds) when the full one would not fit:
//
//         | ---------------- plain ---------------- | -------------- batchnorm -------------- |
//   epoch |   loss    acc val_loss val_acc      s |   loss    acc val_loss val_acc      s |
//       1 | 0.5237 0.8123   0.4321  0.8456   1.93 | 0.4912 0.8250   0.4102  0.8523   2.41 |  ETA 0:39
//
// --json and --csv are rewritten after every epoch (each run's "status" "running"), and at the end.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <functional>
#include <optional>

#include <fmt/format.h>

#include "graph/errors.hpp"
#include "lab/compare_summary.hpp"
#include "lab/numbers.hpp"
#include "lab/outputs.hpp"
#include "lab/run_control.hpp"
#include "lab/run_loop.hpp"
#include "graph/suggest.hpp"
#include "tools/command.hpp"
#include "tools/data_parallel.hpp"
#include "tools/progress.hpp"
#include "tools/signals.hpp"
#include "tools/train_flags.hpp"
#include "train/atomic_file.hpp"
#include "train/checkpoint.hpp"

namespace bnlab::tool {

namespace {

struct CompareFlags {
  TrainFlags train;
  ParallelFlags parallel;
  std::vector<std::string> variants = {"plain", "batchnorm"};
  std::string family;  // --model mlp|cnn: shorthand for the family's plain and batch-norm variants
  double threshold = kCompareThreshold;
  std::string checkpoint_dir;
  CLI::Option* variants_opt = nullptr;
};

// --model: the plain and batch-norm variants of a family.
std::vector<std::string> family_variants(const CompareFlags& c) {
  if (c.family.empty()) return c.variants;
  if (c.variants_opt->count() > 0)
    throw UsageError("--model " + c.family + ": names the variants itself; give --model or --variants, not both");
  if (c.family == "mlp") return {"plain", "batchnorm"};
  if (c.family == "cnn") return {"cnn-plain", "cnn-batchnorm"};
  throw UsageError("--model " + c.family + ": unknown model family" + known_names_hint(c.family, {"mlp", "cnn"}));
}

void check_variants(const CompareFlags& c) {
  const std::string list = fmt::format("{}", fmt::join(c.variants, ","));
  if (c.variants.size() < 2) throw UsageError("--variants " + list + ": name at least two models to compare");
  for (const std::string& v : c.variants) {
    check_preset("--variants", v);
    if (std::count(c.variants.begin(), c.variants.end(), v) > 1) throw UsageError("--variants " + list + ": " + v + " is named twice");
  }
  if (!(c.threshold >= 0 && c.threshold <= 1))
    throw UsageError(fmt::format("--threshold {}: must be a validation accuracy in [0, 1]", c.threshold));
}

// The columns of one variant in the epoch table: the full group, or the compact one (accuracies
// and seconds) when the full groups of every variant would not fit the width. Keras' names: loss
// and acc are the training batches' running means, val_* the eval-mode pass after the epoch.
struct EpochTable {
  bool compact = false;

  static constexpr int kEpoch = 5;                 // "epoch"
  static constexpr int kFull = 3 + 6 + 1 + 6 + 1 + 8 + 1 + 7 + 1 + 6;  // " | " and five columns
  static constexpr int kCompact = 3 + 6 + 1 + 7 + 1 + 6;

  static EpochTable fitting(size_t variants, int width) {
    return {.compact = kEpoch + static_cast<int>(variants) * kFull + 2 > width};
  }
  int group_width() const { return (compact ? kCompact : kFull) - 3; }
  std::string header(const std::string& name) const { return fmt::format(" | {:-^{}}", " " + name + " ", group_width()); }
  std::string columns() const {
    if (compact) return fmt::format(" | {:>6} {:>7} {:>6}", "acc", "val_acc", "s");
    return fmt::format(" | {:>6} {:>6} {:>8} {:>7} {:>6}", "loss", "acc", "val_loss", "val_acc", "s");
  }
  std::string row(const EpochMetrics& m) const {
    if (compact) return fmt::format(" | {:>6} {:>7} {:>6.2f}", fixed(m.train_acc, 4), fixed(m.val_acc, 4), m.seconds);
    return fmt::format(" | {:>6} {:>6} {:>8} {:>7} {:>6.2f}", fixed(m.train_loss, 4), fixed(m.train_acc, 4),
                       fixed(m.val_loss, 4), fixed(m.val_acc, 4), m.seconds);
  }
};

std::string checkpoint_path(const std::string& dir, const std::string& variant) {
  return (std::filesystem::path(dir) / (variant + ".safetensors")).string();
}

void check_checkpoint_dir(const CompareFlags& c) {
  if (c.checkpoint_dir.empty()) return;
  prepare_output_dir("--checkpoint-dir", c.checkpoint_dir);
  for (const std::string& v : c.variants) check_output_path("--checkpoint-dir", checkpoint_path(c.checkpoint_dir, v));
}

// Saves every variant (each already back at its last completed epoch) and the metrics so far, and
// says how to go on.
void save_interrupted(const RunLoop& loop, const std::string& checkpoint_dir, const TrainFlags& f,
                      const data::LoadOptions& options) {
  const Interruption& e = *loop.interruption();
  const std::string& interrupted_variant = loop.runs()[e.run].record.name;
  nlohmann::ordered_json paths = nlohmann::ordered_json::array();
  std::string saved;
  for (const RunState& v : loop.runs()) {
    const std::string& name = v.record.name;
    const std::string path =
        checkpoint_dir.empty() ? fmt::format("bnlab-interrupted-{}.safetensors", name) : checkpoint_path(checkpoint_dir, name);
    save_checkpoint(path, *v.trainer, v.record.epochs, options);
    paths.push_back(path);
    saved += fmt::format("{}{} ({} epoch{}) to {}", saved.empty() ? "" : ", ", name, v.trainer->epoch(),
                         v.trainer->epoch() == 1 ? "" : "s", path);
  }
  const std::string resume = resume_command("<checkpoint>", loop.runs().front().job->parallel);
  write_interrupted_outputs(f.outputs, "compare", loop.records(), data_config(f),
                            {{"signal", signal_name(interrupt_signal())},
                             {"variant", interrupted_variant},
                             {"epoch", e.epoch},
                             {"step", e.step},
                             {"checkpoints", paths},
                             {"resume", resume}});
  std::fprintf(stderr, "bnlab: %s during epoch %d of %s (step %lld of %lld): saved %s (completed epochs only); "
                       "continue a variant with: %s\n",
               signal_name(interrupt_signal()).c_str(), e.epoch, interrupted_variant.c_str(), static_cast<long long>(e.step),
               static_cast<long long>(e.steps), saved.c_str(), resume.c_str());
}

void run_compare(const CompareFlags& flags, CommandResult& result) {
  CompareFlags c = flags;
  c.train = rank_flags(flags.train);
  if (!writes_outputs()) c.checkpoint_dir.clear();  // rank 0 saves
  const TrainFlags& f = c.train;
  const DataParallel parallel = data_parallel(c.parallel);
  dist::World& world = dist::World::get();
  data::LoadOptions options;
  std::optional<data::Splits> loaded;
  std::vector<RunJob> jobs;
  world.setup([&] {
    check_parallel_flags(c.parallel, "compare");
    c.variants = family_variants(flags);
    check_variants(c);
    check_before_loading(f, c.variants);
    check_checkpoint_dir(c);
    options = load_options(f);
    loaded.emplace(data::load(f.dataset, options));
    for (const std::string& name : c.variants)
      jobs.push_back({.name = model_label(name),
                      .spec = model_spec(f, name, *loaded),
                      .config = train_config(f, name, *loaded),
                      .parallel = parallel});
  });
  const data::Splits& data = *loaded;
  nlohmann::ordered_json run_config = data_config(f);
  add_parallel_config(run_config, parallel);

  Progress progress(progress_mode(f.quiet));
  const bool talk = progress.mode() != ProgressMode::quiet && writes_outputs();
  const EpochTable table = EpochTable::fitting(c.variants.size(), terminal_columns(100));
  std::string line, notes;  // the epoch's table row, built run by run
  RunHooks hooks;
  hooks.progress = progress.factory();
  hooks.should_stop = interrupt_requested;
  hooks.epoch_done = [&](RunState& v) {
    const EpochMetrics& m = v.record.epochs.back();
    if (!c.checkpoint_dir.empty()) save_checkpoint(checkpoint_path(c.checkpoint_dir, v.record.name), *v.trainer, v.record.epochs, options);
    if (line.empty()) line = fmt::format("{:>5}", m.epoch);
    line += table.row(m);
    if (m.skipped_steps > 0) notes += fmt::format("  ({}: {} non-finite steps skipped)", v.record.name, m.skipped_steps);
  };
  std::function<void()> write_live;  // set once the loop exists
  hooks.round_done = [&](int) {
    if (talk) {
      const double left = progress.remaining_seconds();
      fmt::print(stderr, "{} |{}{}\n", line, std::isfinite(left) && left > 0 ? "  ETA " + clock_text(left) : "", notes);
    }
    line.clear();
    notes.clear();
    if (write_live) write_live();
  };
  // Every rank builds its trainers on rank 0's data before any rank takes a step.
  const uint64_t rank0_data = world.distributed() ? std::stoull(world.broadcast(std::to_string(data_fingerprint(data)))) : 0;
  std::unique_ptr<RunLoop> built;
  world.setup([&] {
    if (world.distributed()) check_same_data(data, rank0_data, f.dataset);
    built = std::make_unique<RunLoop>(jobs, data, std::move(hooks));
  });
  RunLoop& loop = *built;
  if (writes_outputs()) write_live = [&] { write_outputs(f.outputs, "compare", loop.records(), run_config, {}, /*live=*/true); };

  const TrainConfig& config = jobs.front().config;
  if (talk) {
    // Short lines: the settings fit 80 columns for the presets' names.
    fmt::print(stderr, "compare {} on {}\n  {} train / {} val / {} test rows, {}\n  {} lr {}, batch {}, {} epoch{}, seed {}{}\n",
               fmt::join(c.variants, " vs "), f.dataset, data.train.size(), data.val.size(), data.test.size(),
               jobs.front().spec.describe(), to_string(config.optimizer.kind), config.optimizer.lr, config.batch_size,
               config.epochs, config.epochs == 1 ? "" : "s", config.seed, parallel_note(parallel));
    std::string groups = fmt::format("{:>5}", ""), columns = fmt::format("{:>5}", "epoch");
    for (const RunJob& j : jobs) {
      groups += table.header(j.name);
      columns += table.columns();
    }
    fmt::print(stderr, "{} |\n{} |\n", groups, columns);
  }

  InterruptGuard guard;
  bool completed = false;
  try {
    completed = loop.run();
  } catch (const NonFiniteError&) {
    // The metrics say how far each variant got (the one that diverged: "status": "diverged").
    if (writes_outputs()) write_outputs(f.outputs, "compare", loop.records(), run_config);
    throw;
  }
  if (!completed) {
    if (writes_outputs()) save_interrupted(loop, c.checkpoint_dir, f, options);
    result.exit_code = interrupted_exit_status();
    return;
  }
  if (!writes_outputs()) return;
  const std::vector<RunRecord> runs = loop.records();
  fmt::print(stderr, "\n{}", compare_summary_text(compare_summary_table(runs, c.threshold)));
  write_outputs(f.outputs, "compare", runs, run_config);
}

}  // namespace

void register_compare(CLI::App& app, CommandResult& result) {
  CLI::App* cmd = app.add_subcommand(
      "compare", "train plain and batch-norm models from the same seed side by side, then compare their test scores");
  auto flags = std::make_shared<CompareFlags>();
  add_train_flags(*cmd, flags->train, {.model = false, .norm = false});
  add_parallel_flags(*cmd, flags->parallel);
  cmd->add_option("--model", flags->family,
                  "mlp (plain vs batchnorm, the default) or cnn (cnn-plain vs cnn-batchnorm): a family's two variants")
      ->type_name("FAMILY")
      ->group("Model");
  flags->variants_opt = add_list_option(*cmd, "--variants", flags->variants,
                                        "models to compare, comma-separated: " + fmt::format("{}", fmt::join(preset_names(), ", ")) +
                                            " or model files NAME.json; the first is the baseline")
                            ->type_name("NAME,NAME")
                            ->group("Model");
  add_number_option(*cmd, "--threshold", flags->threshold, "report the first epoch each model reaches this validation accuracy")
      ->capture_default_str()
      ->group("Output");
  cmd->add_option("--checkpoint-dir", flags->checkpoint_dir,
                  "save each variant after every epoch as DIR/<variant>.safetensors (resume one with bnlab train --resume)")
      ->type_name("DIR")
      ->group("Checkpoints");
  cmd->callback([flags, &result] { run_compare(*flags, result); });
}

}  // namespace bnlab::tool

// bnlab train: one model, trained and tested, with progress on stderr and the test score on stdout.
#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "tools/command.hpp"
#include "tools/numbers.hpp"
#include "tools/progress.hpp"
#include "tools/train_flags.hpp"

namespace bnlab::tool {

namespace {

void run_train(const TrainFlags& f) {
  check_preset("--model", f.model);
  check_before_loading(f, {f.model});
  const data::Splits data = load_data(f);
  const MlpSpec spec = model_spec(f, f.model, data);
  const TrainConfig config = train_config(f, f.model, data);

  const ProgressMode mode = progress_mode(f.quiet);
  if (mode != ProgressMode::quiet)
    fmt::print(stderr, "train {} {} on {}: {} train / {} val / {} test rows, {} lr {}, batch {}, {} epoch{}\n", f.model,
               spec.sizes(), f.dataset, data.train.size(), data.val.size(), data.test.size(), to_string(config.optimizer.kind),
               config.optimizer.lr, config.batch_size, config.epochs, config.epochs == 1 ? "" : "s");
  ProgressBar bar("", config.epochs);
  const TrainObserver observer = bar.observer();
  const auto on_epoch = [&](const EpochMetrics& m) {
    bar.clear();
    if (mode != ProgressMode::quiet) fmt::print(stderr, "{}\n", epoch_line(m, config.epochs));
  };
  const RunRecord run = train_run(f.model, spec, config, data, mode == ProgressMode::live ? &observer : nullptr, on_epoch);

  fmt::print("{} {}: test loss {} acc {}  ({:.1f}s)\n", run.name, spec.sizes(), fixed(run.test->loss, 4),
             fixed(run.test->acc, 4), run.total_seconds);
  std::fflush(stdout);
  write_outputs(f.outputs, "train", {run}, data_config(f));
}

}  // namespace

void register_train(CLI::App& app, CommandResult&) {
  CLI::App* cmd = app.add_subcommand("train", "train one model, evaluate it on the test split, write its metrics");
  auto flags = std::make_shared<TrainFlags>();
  add_train_flags(*cmd, *flags, {.model = true, .norm = true});
  cmd->callback([flags] { run_train(*flags); });
}

}  // namespace bnlab::tool

// bnlab compare: the lab's central experiment. Trains the variants (plain and batchnorm by default)
// from the same seed on the same data, stepping them alternately one epoch at a time so a single
// table row per epoch shows them side by side as training goes, then summarizes the difference.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "tools/command.hpp"
#include "tools/numbers.hpp"
#include "tools/progress.hpp"
#include "tools/train_flags.hpp"

namespace bnlab::tool {

namespace {

struct CompareFlags {
  TrainFlags train;
  std::vector<std::string> variants = {"plain", "batchnorm"};
  double threshold = 0.85;
};

// One variant: its trainer, the record its epochs accumulate into, and its progress bar.
struct Variant {
  std::unique_ptr<Trainer> trainer;
  RunRecord record;
  std::unique_ptr<ProgressBar> bar;
};

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

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

// Columns of one variant in the epoch table.
constexpr int kGroupWidth = 41;
std::string group_header(const std::string& name) {
  return fmt::format(" | {:-^{}}", " " + name + " ", kGroupWidth);
}
std::string group_columns() {
  return fmt::format(" | {:>8} {:>7}  {:>8} {:>7} {:>6}", "trn loss", "trn acc", "val loss", "val acc", "s");
}
std::string group_row(const EpochMetrics& m) {
  return fmt::format(" | {:>8} {:>7}  {:>8} {:>7} {:>6.2f}", fixed(m.train_loss, 4), fixed(m.train_acc, 4),
                     fixed(m.val_loss, 4), fixed(m.val_acc, 4), m.seconds);
}

std::optional<int> first_epoch_reaching(const RunRecord& r, double threshold) {
  for (const EpochMetrics& m : r.epochs)
    if (m.val_acc >= threshold) return m.epoch;  // false for NaN (no validation split)
  return std::nullopt;
}

double mean_epoch_seconds(const RunRecord& r) {
  double s = 0;
  for (const EpochMetrics& m : r.epochs) s += m.seconds;
  return r.epochs.empty() ? std::nan("") : s / static_cast<double>(r.epochs.size());
}

void print_summary(const std::vector<Variant>& variants, double threshold) {
  const RunRecord& base = variants.front().record;
  std::vector<std::string> heads;
  for (const Variant& v : variants) heads.push_back(v.record.name);
  for (size_t i = 1; i < variants.size(); ++i) heads.push_back(variants[i].record.name + " - " + base.name);
  std::vector<size_t> widths;
  for (const auto& h : heads) widths.push_back(std::max<size_t>(h.size(), 9));

  const std::string threshold_label = fmt::format("first epoch val acc >= {}", threshold);
  const size_t label_width = std::max<size_t>(threshold_label.size(), 16);
  auto row = [&](const std::string& label, const std::vector<std::string>& cells) {
    std::string line = fmt::format("{:<{}}", label, label_width);
    for (size_t i = 0; i < cells.size(); ++i) line += fmt::format("  {:>{}}", cells[i], widths[i]);
    fmt::print("{}\n", line);
  };
  // One row: each variant's value, then each variant's difference from the first.
  auto metric_row = [&](const std::string& label, auto value, int precision) {
    std::vector<std::string> cells;
    for (const Variant& v : variants) cells.push_back(fixed(value(v.record), precision));
    for (size_t i = 1; i < variants.size(); ++i)
      cells.push_back(signed_fixed(value(variants[i].record) - value(base), precision));
    row(label, cells);
  };

  fmt::print("\n");
  row("", heads);
  metric_row("test loss", [](const RunRecord& r) { return r.test->loss; }, 4);
  metric_row("test acc", [](const RunRecord& r) { return r.test->acc; }, 4);
  std::vector<std::string> reached;
  for (const Variant& v : variants) {
    const auto e = first_epoch_reaching(v.record, threshold);
    reached.push_back(e ? std::to_string(*e) : "never");
  }
  row(threshold_label, reached);
  metric_row("mean s/epoch", mean_epoch_seconds, 2);
}

void run_compare(const CompareFlags& c) {
  const TrainFlags& f = c.train;
  check_variants(c);
  check_before_loading(f, c.variants);
  const data::Splits data = load_data(f);

  std::vector<Variant> variants;
  for (const std::string& name : c.variants) {
    const auto start = Clock::now();
    Variant v;
    const MlpSpec spec = model_spec(f, name, data);
    const TrainConfig config = train_config(f, name, data);
    v.trainer = std::make_unique<Trainer>(spec, config, data);
    v.record.name = name;
    v.record.config = config;
    v.record.spec = spec;
    v.record.train_size = data.train.size();
    v.record.val_size = data.val.size();
    v.record.test_size = data.test.size();
    v.record.total_seconds = seconds_since(start);
    v.bar = std::make_unique<ProgressBar>(name, config.epochs);
    variants.push_back(std::move(v));
  }

  const ProgressMode mode = progress_mode(f.quiet);
  const TrainConfig& config = variants.front().record.config;
  fmt::print("compare {} on {}: {} train / {} val / {} test rows, {}, {} lr {}, batch {}, {} epoch{}, seed {}\n",
             fmt::join(c.variants, " vs "), f.dataset, data.train.size(), data.val.size(), data.test.size(),
             variants.front().record.spec.sizes(), to_string(config.optimizer.kind), config.optimizer.lr, config.batch_size,
             config.epochs, config.epochs == 1 ? "" : "s", config.seed);
  if (mode != ProgressMode::quiet) {
    std::string groups = fmt::format("{:>5}", ""), columns = fmt::format("{:>5}", "epoch");
    for (const Variant& v : variants) {
      groups += group_header(v.record.name);
      columns += group_columns();
    }
    fmt::print("{}\n{}\n", groups, columns);
  }
  std::fflush(stdout);

  for (int epoch = 1; epoch <= config.epochs; ++epoch) {
    std::string line = fmt::format("{:>5}", epoch), notes;
    for (Variant& v : variants) {
      const auto start = Clock::now();
      const TrainObserver observer = v.bar->observer();
      v.record.epochs.push_back(v.trainer->train_epoch(mode == ProgressMode::live ? &observer : nullptr));
      v.bar->clear();
      v.record.total_seconds += seconds_since(start);
      line += group_row(v.record.epochs.back());
      if (const int64_t skipped = v.record.epochs.back().skipped_steps; skipped > 0)
        notes += fmt::format("  ({}: {} non-finite steps skipped)", v.record.name, skipped);
    }
    if (mode != ProgressMode::quiet) {
      fmt::print("{}{}\n", line, notes);
      // Rows are the progress report: show each as soon as it exists, even through a pipe.
      std::fflush(stdout);
    }
  }
  for (Variant& v : variants) {
    const auto start = Clock::now();
    v.record.test = v.trainer->evaluate(data.test);
    v.record.total_seconds += seconds_since(start);
  }

  print_summary(variants, c.threshold);
  std::fflush(stdout);
  std::vector<RunRecord> runs;
  for (const Variant& v : variants) runs.push_back(v.record);
  write_outputs(f.outputs, "compare", runs, data_config(f));
}

}  // namespace

void register_compare(CLI::App& app, CommandResult&) {
  CLI::App* cmd = app.add_subcommand(
      "compare", "train plain and batch-norm models from the same seed side by side, then compare their test scores");
  auto flags = std::make_shared<CompareFlags>();
  add_train_flags(*cmd, flags->train, {.model = false, .norm = false});
  cmd->add_option("--variants", flags->variants, "models to compare, comma-separated: " +
                                                     fmt::format("{}", fmt::join(MlpSpec::preset_names(), ", ")) +
                                                     "; the first is the baseline")
      ->delimiter(',')
      ->type_name("NAME,NAME")
      ->capture_default_str()
      ->group("Model");
  cmd->add_option("--threshold", flags->threshold, "report the first epoch each model reaches this validation accuracy")
      ->capture_default_str()
      ->group("Output");
  cmd->callback([flags] { run_compare(*flags); });
}

}  // namespace bnlab::tool

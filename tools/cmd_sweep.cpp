// bnlab sweep: the variants (plain and batchnorm by default) over a grid of batch sizes and seeds,
// one run per (variant, batch size, seed) named like "batchnorm-bs64-seed1", then a summary table
// with mean ± std over the seeds. With --out DIR every finished run is kept as DIR/runs/<name>.json
// (run_store.hpp) with its checkpoint DIR/runs/<name>.safetensors: an interrupted or failed sweep
// keeps them, rerunning skips them, and rerunning with more --epochs continues each stored run from
// its checkpoint (the same result as a sweep of that many epochs from the start). DIR also gets
// metrics.json, the figures and report.md. Under mpirun the runs are spread over the ranks and
// gathered by rank 0 (lab/run_groups.hpp through tools/job_runners.hpp; docs/distributed.md).
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "dist/world.hpp"
#include "lab/metrics_csv.hpp"
#include "lab/metrics_json.hpp"
#include "lab/plots.hpp"
#include "lab/report.hpp"
#include "lab/run_groups.hpp"
#include "lab/run_job.hpp"
#include "lab/run_store.hpp"
#include "lab/sweep_summary.hpp"
#include "tools/command.hpp"
#include "tools/job_runners.hpp"
#include "tools/progress.hpp"
#include "tools/train_flags.hpp"
#include "train/atomic_file.hpp"

namespace bnlab::tool {

namespace {

struct SweepFlags {
  TrainFlags train;
  std::vector<std::string> variants = {"plain", "batchnorm"};
  std::vector<int64_t> batch_sizes = {16, 32, 64, 128, 256, 512};
  std::vector<uint64_t> seeds = {0};
  double threshold = 0.85;
  std::string out;
  bool force = false;
};

template <class T>
void check_unique(const std::string& flag, const std::vector<T>& values) {
  if (values.empty()) throw UsageError(flag + ": give at least one value");
  std::set<T> seen;
  for (const T& v : values)
    if (!seen.insert(v).second) throw UsageError(fmt::format("{} {}: {} is named twice", flag, fmt::join(values, ","), v));
}

void check_flags(const SweepFlags& s) {
  check_unique("--variants", s.variants);
  for (const std::string& v : s.variants) check_preset("--variants", v);
  check_unique("--batch-sizes", s.batch_sizes);
  for (int64_t b : s.batch_sizes)
    if (b < 1) throw UsageError(fmt::format("--batch-sizes: {} is not a batch size (must be >= 1)", b));
  check_unique("--seeds", s.seeds);
  if (!(s.threshold >= 0 && s.threshold <= 1))
    throw UsageError(fmt::format("--threshold {}: must be a validation accuracy in [0, 1]", s.threshold));
  for (int64_t b : s.batch_sizes) {
    TrainFlags g = s.train;
    g.config.batch_size = b;
    check_before_loading(g, s.variants);
  }
  if (!s.out.empty() && std::filesystem::exists(s.out) && !std::filesystem::is_directory(s.out))
    throw UsageError("--out " + s.out + ": exists and is not a directory");
}

std::string run_name(const std::string& variant, int64_t batch, uint64_t seed) {
  return fmt::format("{}-bs{}-seed{}", variant, batch, seed);
}

// `runs`: the entries as stored; `records`: the same runs read back (run_from_json), in order.
json sweep_document(const SweepFlags& s, const json& runs, const std::vector<RunRecord>& records) {
  const std::vector<SweepRow> rows = sweep_summary(records, s.threshold);
  return {{"tool", "bnlab"},
          {"version", BNLAB_VERSION},
          {"command", "sweep"},
          {"runs", runs},
          {"sweep",
           {{"variants", s.variants},
            {"batch_sizes", s.batch_sizes},
            {"seeds", s.seeds},
            {"threshold", s.threshold},
            {"summary", sweep_summary_table(rows, s.threshold)}}}};
}

void write_documents(const SweepFlags& s, const json& doc, const std::vector<RunRecord>& records) {
  const std::string text = doc.dump(2) + "\n";
  if (!s.train.outputs.json.empty()) write_file_atomically(s.train.outputs.json, text);
  if (!s.out.empty()) write_file_atomically((std::filesystem::path(s.out) / "metrics.json").string(), text);
  if (!s.train.outputs.csv.empty()) write_file_atomically(s.train.outputs.csv, metrics_csv(records));
}

// A failed sweep keeps what finished: the run files are written already; the combined documents
// say how far it got.
void write_partial_documents(const SweepFlags& s, const std::vector<std::optional<GroupOutcome>>& results) {
  json runs = json::array();
  std::vector<RunRecord> records;
  for (const auto& g : results)
    if (g)
      for (const json& r : g->runs) {
        records.push_back(run_from_json(r));
        runs.push_back(r);
      }
  if (runs.empty()) return;
  try {
    write_documents(s, sweep_document(s, runs, records), records);
  } catch (...) {
  }
}

// " on rank 1" for a run another rank (or rank 0 of several) trains; "" for a serial sweep.
std::string on(const std::string& where) { return where.empty() ? "" : " on " + where; }

void run_sweep(const SweepFlags& s) {
  dist::World& world = dist::World::get();
  const std::unique_ptr<JobRunner> runner = job_runner(world);
  const bool leader = runner->leader();
  std::optional<RunStore> store;
  // Only the leader prints progress; a bar per run only for a serial sweep (lines from other ranks
  // would tear it).
  const ProgressMode mode = leader ? progress_mode(s.train.quiet) : ProgressMode::quiet;

  // Every process loads the data of the seeds it trains; the first seed's data give the model's
  // input and class counts, which every run's config names.
  std::map<uint64_t, data::Splits> data;
  auto data_for = [&](uint64_t seed) -> const data::Splits& {
    auto it = data.find(seed);
    if (it == data.end()) {
      TrainFlags g = s.train;
      g.config.seed = seed;
      it = data.emplace(seed, load_data(g)).first;
    }
    return it->second;
  };
  const data::Splits* first = nullptr;
  std::vector<JobGroup> groups;
  // Under mpirun a failure here on any rank (a flag, a data file missing on one host, a stored run
  // of another configuration on rank 0) stops every rank with one message naming it.
  world.setup([&] {
    check_flags(s);
    if (leader && !s.out.empty()) store.emplace(s.out, s.force, "bnlab sweep");
    first = &data_for(s.seeds.front());
    const std::vector<int64_t> sample_shape = first->train.sample_shape();
    const int64_t classes = first->train.num_classes;
    for (int64_t b : s.batch_sizes)
      if (b > first->train.size())
        throw UsageError(fmt::format("--batch-sizes: {} is larger than the training split ({} rows)", b, first->train.size()));
    for (uint64_t seed : s.seeds)
      for (int64_t batch : s.batch_sizes)
        for (const std::string& variant : s.variants) {
          TrainFlags g = s.train;
          g.config.seed = seed;
          g.config.batch_size = batch;
          RunJob job;
          job.name = run_name(model_label(variant), batch, seed);
          job.spec = model_spec(g, variant, sample_shape, classes);
          job.config = train_config(g, variant);
          job.extra_config = data_config(g);
          groups.push_back({seed, {std::move(job)}});
        }
    // A stored run made with another configuration is refused before anything trains (one of fewer
    // epochs is continued instead, but for a distributed sweep). Sizes are not
    // compared (run_store.hpp), so no data is needed to recognise a finished run.
    if (store)
      for (const JobGroup& g : groups) store->cached(g.runs.front().name, job_config(g.runs.front(), *first), !world.distributed());
  });

  const size_t total = groups.size();
  if (mode != ProgressMode::quiet)
    fmt::print(stderr, "sweep {} over batch sizes {} and seeds {} on {}: {} runs{}{}\n", fmt::join(s.variants, ", "),
               fmt::join(s.batch_sizes, ","), fmt::join(s.seeds, ","), s.train.dataset, total,
               store ? " (finished runs kept in " + s.out + "/runs)" : "",
               world.distributed() ? fmt::format(", spread over {} ranks", world.size()) : "");
  auto label = [&](size_t i) { return fmt::format("[{}/{}] {}", i + 1, total, groups[i].runs.front().name); };
  GroupEvents events;
  if (mode != ProgressMode::quiet) {
    events.reused = [&](size_t i, const GroupOutcome&) {
      fmt::print(stderr, "{}: reused {}\n", label(i), store->path(groups[i].runs.front().name));
    };
    events.started = [&](size_t i, const std::string& where) { fmt::print(stderr, "{}: training{}\n", label(i), on(where)); };
    events.extending = [&](size_t i, int epoch) {
      fmt::print(stderr, "{}: continuing from epoch {} ({}) to epoch {}\n", label(i), epoch,
                 store->checkpoint_path(groups[i].runs.front().name), groups[i].runs.front().config.epochs);
    };
    events.retraining = [&](size_t i, const std::string& why) {
      fmt::print(stderr, "{}: {}: retraining it from the start\n", label(i), why);
    };
    events.trained = [&](size_t i, const GroupOutcome& g) {
      const RunRecord record = run_from_json(g.runs.front());
      fmt::print(stderr, "{}: {} val acc {:.4f} test acc {:.4f}, {:.1f}s{}\n", label(i), diverged(record) ? "DIVERGED," : "finished,",
                 final_value(record, EpochMetric::val_acc), test_value(record, Score::acc), record.total_seconds, on(g.where));
    };
  }
  GroupSource source;
  source.store = store ? &*store : nullptr;
  source.reference = first;
  source.data = data_for;
  source.progress = world.distributed() ? ProgressFactory{} : progress_factory(mode);
  // Each run's checkpoint is kept beside its file, so a later sweep with more --epochs continues it;
  // under mpirun the runs are trained on other hosts, whose checkpoints the leader's store cannot hold.
  source.keep_checkpoints = store.has_value() && !world.distributed();
  std::vector<std::optional<GroupOutcome>> results;
  try {
    run_groups(groups, source, *runner, events, results);
  } catch (...) {
    if (leader) write_partial_documents(s, results);
    throw;
  }
  if (!leader) return;

  json runs = json::array();
  std::vector<RunRecord> records;
  size_t trained = 0, reused = 0, continued = 0;
  for (const auto& g : results) {
    (g->reused ? reused : trained) += g->runs.size();
    if (g->extended_from > 0) continued += g->runs.size();
    for (const json& r : g->runs) {
      records.push_back(run_from_json(r));
      runs.push_back(r);
    }
  }
  const json doc = sweep_document(s, runs, records);
  write_documents(s, doc, records);
  fmt::print(stderr, "{}", sweep_summary_text(sweep_summary(records, s.threshold), s.threshold));
  fmt::print(stderr, "sweep: {} runs ({} trained, {} reused{})\n", runs.size(), trained, reused,
             continued ? fmt::format("; {} of the trained continued from their checkpoints", continued) : "");
  if (store) {
    const ReportOutput r = write_report(doc, s.out, "metrics.json", gnuplot_available());
    fmt::print(stderr, "report: {}\n{}\n", r.path, r.figures.note);
  }
}

}  // namespace

void register_sweep(CLI::App& app, CommandResult&) {
  CLI::App* cmd = app.add_subcommand(
      "sweep", "train the variants over a grid of batch sizes and seeds; summary with mean ± std over seeds; resumable with --out");
  auto flags = std::make_shared<SweepFlags>();
  add_train_flags(*cmd, flags->train, {.model = false, .norm = false});
  // The grid replaces the single values.
  cmd->remove_option(cmd->get_option("--batch-size"));
  cmd->remove_option(cmd->get_option("--seed"));
  add_list_option(*cmd, "--variants", flags->variants,
                  "models, comma-separated: " + fmt::format("{}", fmt::join(preset_names(), ", ")) + " or model files NAME.json")
      ->type_name("NAME,NAME")
      ->group("Model");
  add_list_option(*cmd, "--batch-sizes", flags->batch_sizes, "batch sizes, comma-separated")->type_name("N,N")->group("Training");
  add_list_option(*cmd, "--seeds", flags->seeds,
                  "seeds, comma-separated (each seeds the split, the initial weights and the batch order, as --seed does "
                  "for train); three seeds: 0,1,2")
      ->type_name("S,S")
      ->group("Training");
  add_number_option(*cmd, "--threshold", flags->threshold, "report the first epoch each run reaches this validation accuracy")
      ->capture_default_str()
      ->group("Output");
  cmd->add_option("--out", flags->out,
                  "directory for one JSON file and one checkpoint per finished run (DIR/runs; rerunning skips them, or "
                  "continues them to more --epochs), metrics.json, figures and report.md")
      ->type_name("DIR")
      ->group("Output");
  cmd->add_flag("--force", flags->force, "retrain runs whose file in --out was made with a different configuration")->group("Output");
  cmd->callback([flags] { run_sweep(*flags); });
}

}  // namespace bnlab::tool

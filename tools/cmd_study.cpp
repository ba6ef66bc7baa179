// bnlab study: the controlled experiments that test what is usually claimed about batch
// normalization, one item each (study_items.hpp: the registry of items, lab/study/: one file per
// item; study_plan.hpp: what is trained; study_criteria.hpp: the verdict rules, fixed in advance;
// study_analysis.hpp: numbers and verdicts). Every run is kept as OUT/runs/<name>.json, so
// an interrupted study resumes where it stopped; OUT also gets metrics.json (all runs and the
// "study" section), the figures and report.md. Under mpirun the runs are spread over the ranks and
// gathered by rank 0 (lab/run_groups.hpp through tools/job_runners.hpp; docs/distributed.md).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "data/registry.hpp"
#include "dist/world.hpp"
#include "graph/errors.hpp"
#include "graph/suggest.hpp"
#include "lab/plots.hpp"
#include "lab/metrics_json.hpp"
#include "lab/report.hpp"
#include "lab/run_groups.hpp"
#include "lab/run_job.hpp"
#include "lab/run_stats.hpp"
#include "lab/run_store.hpp"
#include "lab/study_analysis.hpp"
#include "lab/study_criteria.hpp"
#include "lab/study_items.hpp"
#include "lab/study_plan.hpp"
#include "lab/utc_time.hpp"
#include "tools/command.hpp"
#include "tools/job_runners.hpp"
#include "tools/train_flags.hpp"
#include "tools/progress.hpp"
#include "train/atomic_file.hpp"

namespace bnlab::tool {

namespace {

using Clock = std::chrono::steady_clock;

struct StudyFlags {
  std::string budget = "quick";
  std::vector<uint64_t> seeds;
  std::vector<int> items = study_item_ids();
  std::string dataset = "fashion-mnist";
  std::string data_dir;
  int64_t limit_train = -1;  // -1: the budget's
  int64_t limit_test = -1;
  int epochs = 0;
  int threads = 1;
  double threshold = 0.85;
  std::string out;
  std::string json_path;
  bool force = false;
  bool quiet = false;
  CLI::Option* seeds_opt = nullptr;
  CLI::Option* items_opt = nullptr;
};

std::string machine_description() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, model = "unknown CPU";
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) model = line.substr(colon + 2);
      break;
    }
  return fmt::format("{}, {} logical CPUs", model, std::thread::hardware_concurrency());
}

// The command line that reproduces this study (the flags that matter for the results).
std::string command_line(const StudyFlags& f, const Budget& b) {
  std::string s = "bnlab study --budget " + f.budget;
  if (f.seeds_opt && f.seeds_opt->count()) s += fmt::format(" --seeds {}", fmt::join(b.seeds, ","));
  if (f.items_opt && f.items_opt->count()) s += fmt::format(" --items {}", fmt::join(f.items, ","));
  if (f.dataset != "fashion-mnist") s += " --dataset " + f.dataset;
  if (!f.data_dir.empty()) s += " --data-dir " + f.data_dir;
  if (f.limit_train >= 0) s += fmt::format(" --limit-train {}", f.limit_train);
  if (f.limit_test >= 0) s += fmt::format(" --limit-test {}", f.limit_test);
  if (f.epochs > 0) s += fmt::format(" --epochs {}", f.epochs);
  if (f.threads != 1) s += fmt::format(" --threads {}", f.threads);
  if (f.threshold != 0.85) s += fmt::format(" --threshold {}", f.threshold);
  s += " --out " + f.out;
  if (!f.json_path.empty()) s += " --json " + f.json_path;
  return s;
}

void check_flags(const StudyFlags& f) {
  const auto names = data::dataset_names();
  if (std::find(names.begin(), names.end(), f.dataset) == names.end())
    throw UsageError("--dataset " + f.dataset + ": unknown dataset" + known_names_hint(f.dataset, names));
  if (f.items.empty()) throw UsageError(fmt::format("--items: name at least one item ({})", study_item_range()));
  for (int i : f.items)
    if (!find_study_item(i)) throw UsageError(fmt::format("--items: {} is not a study item ({})", i, study_item_range()));
  if (f.seeds_opt && f.seeds_opt->count() && f.seeds.empty()) throw UsageError("--seeds: give at least one seed");
  std::set<uint64_t> seen;
  for (uint64_t s : f.seeds)
    if (!seen.insert(s).second) throw UsageError(fmt::format("--seeds: {} is named twice", s));
  if (f.epochs < 0) throw UsageError(fmt::format("--epochs {}: must be >= 1 (or 0 for the budget's)", f.epochs));
  if (f.threads < 1) throw UsageError(fmt::format("--threads {}: must be >= 1", f.threads));
  if (!(f.threshold >= 0 && f.threshold <= 1))
    throw UsageError(fmt::format("--threshold {}: must be a validation accuracy in [0, 1]", f.threshold));
  if (f.limit_train < -1 || f.limit_test < -1) throw UsageError("--limit-train / --limit-test: must be >= 0 (0 = all rows)");
}

std::string verdict_table(const json& items) {
  std::string s = fmt::format("{:>2}  {:<36} {:<14} {}\n", "#", "claim", "verdict", "key numbers");
  for (const json& i : items)
    s += fmt::format("{:>2}  {:<36} {:<14} {}\n", i["id"].get<int>(), i["title"].get<std::string>(), i["verdict"].get<std::string>(),
                     i["summary"].get<std::string>());
  return s;
}

std::string on(const std::string& where) { return where.empty() ? "" : " on " + where; }

void run_study(StudyFlags& f) {
  const auto start = Clock::now();
  const std::string started = utc_now(true);
  dist::World& world = dist::World::get();
  const std::unique_ptr<JobRunner> runner = job_runner(world);
  const bool leader = runner->leader();
  // Only the leader prints and writes; the other ranks train what it hands them.
  const ProgressMode mode = leader ? progress_mode(f.quiet) : ProgressMode::quiet;
  Budget budget;
  std::optional<RunStore> store;
  StudyOptions options;
  std::map<uint64_t, data::Splits> data;
  auto data_for = [&](uint64_t seed) -> const data::Splits& {
    auto it = data.find(seed);
    if (it == data.end()) {
      data::LoadOptions o;
      o.data_dir = f.data_dir;
      o.val_fraction = 0.2;
      o.seed = seed;
      o.limit_train = budget.limit_train;
      o.limit_test = budget.limit_test;
      auto [train, test] = data::read(f.dataset, o);
      // A budget's limits are "at most" (a smaller dataset is used whole); --limit-train and
      // --limit-test, as everywhere, must not ask for more rows than there are.
      if (f.limit_train < 0) o.limit_train = std::min(o.limit_train, train.size());
      if (f.limit_test < 0) o.limit_test = std::min(o.limit_test, test.size());
      it = data.emplace(seed, data::prepare_splits(std::move(train), std::move(test), f.dataset, o)).first;
    }
    return it->second;
  };
  const data::Splits* first = nullptr;
  std::vector<StudyJob> jobs;
  // Under mpirun a failure here on any rank (a flag, a data file missing on one host, a stored run
  // of another configuration on rank 0) stops every rank with one message naming it.
  world.setup([&] {
    budget = with_flag("--budget", [&] { return study_budget(f.budget); });
    check_flags(f);
    if (f.out.empty()) f.out = "study-" + f.budget;
    if (!f.seeds.empty()) budget.seeds = f.seeds;
    if (f.limit_train >= 0) budget.limit_train = f.limit_train;
    if (f.limit_test >= 0) budget.limit_test = f.limit_test;
    if (f.epochs > 0) budget.epochs_reference = budget.epochs_grid = budget.epochs_small_batch = budget.epochs_cost = f.epochs;
    if (leader) {
      store.emplace(f.out, f.force, "bnlab study");
      // After the store made OUT: --json may point into it.
      if (!f.json_path.empty()) check_output_path("--json", f.json_path);
    }
    options.budget = budget;
    options.dataset = f.dataset;
    options.data_dir = f.data_dir;
    options.threads = f.threads;
    options.items = f.items;
    first = &data_for(budget.seeds.front());
    jobs = study_jobs(options, first->train.feature_count, first->train.num_classes);
    // A stored run made with another configuration is refused before anything trains.
    if (store)
      for (const StudyJob& j : jobs)
        for (const RunJob& r : j.runs) store->cached(r.name, job_config(r, *first));
  });

  std::vector<JobGroup> groups;
  std::vector<size_t> first_run;  // the study-wide number of each group's first run
  size_t total_runs = 0;
  for (const StudyJob& j : jobs) {
    groups.push_back({j.seed, j.runs});
    first_run.push_back(total_runs);
    total_runs += j.runs.size();
  }
  if (mode != ProgressMode::quiet)
    fmt::print(stderr, "study ({} budget, items {}, seeds {}) on {}: {} train / {} val / {} test rows; {} runs, kept in {}/runs{}\n",
               budget.name, fmt::join(f.items, ","), fmt::join(budget.seeds, ","), f.dataset, first->train.size(), first->val.size(),
               first->test.size(), total_runs, f.out, world.distributed() ? fmt::format(", spread over {} ranks", world.size()) : "");

  auto label = [&](size_t group, size_t run) {
    return fmt::format("[{}/{}] item {}: {}", first_run[group] + run + 1, total_runs, jobs[group].item, groups[group].runs[run].name);
  };
  GroupEvents events;
  if (mode != ProgressMode::quiet) {
    events.reused = [&](size_t g, const GroupOutcome&) {
      for (size_t i = 0; i < groups[g].runs.size(); ++i) fmt::print(stderr, "{} reused\n", label(g, i));
    };
    events.started = [&](size_t g, const std::string& where) {
      for (size_t i = 0; i < groups[g].runs.size(); ++i)
        fmt::print(stderr, "{} training ({} epochs){}\n", label(g, i), groups[g].runs[i].config.epochs, on(where));
    };
    events.trained = [&](size_t g, const GroupOutcome& outcome) {
      for (size_t i = 0; i < outcome.runs.size(); ++i) {
        const RunRecord record = run_from_json(outcome.runs[i]);
        if (diverged(record))
          fmt::print(stderr, "{} DIVERGED after {} epoch(s): {}{}\n", label(g, i), record.epochs.size(), record.error, on(outcome.where));
        else
          fmt::print(stderr, "{} val acc {:.4f}, {:.1f} s{}\n", label(g, i), final_value(record, EpochMetric::val_acc),
                     record.total_seconds, on(outcome.where));
      }
    };
  }
  GroupSource source;
  source.store = store ? &*store : nullptr;
  source.reference = first;
  source.data = data_for;
  source.progress = world.distributed() ? ProgressFactory{} : progress_factory(mode);
  std::vector<std::optional<GroupOutcome>> results;
  run_groups(groups, source, *runner, events, results);
  if (!leader) return;

  // The document lists each run's entry as stored (the same bytes a RunStore file holds); the
  // analysis reads each as a record, converted once here.
  std::map<std::string, RunRecord> runs;
  json run_list = json::array();
  double run_seconds = 0;
  size_t trained = 0, reused = 0;
  for (const auto& g : results) {
    (g->reused ? reused : trained) += g->runs.size();
    for (const json& r : g->runs) {
      RunRecord record = run_from_json(r);
      run_seconds += record.total_seconds;
      std::string name = record.name;
      runs[std::move(name)] = std::move(record);
      run_list.push_back(r);
    }
  }

  const StudyContext ctx{budget, f.threshold, first->train.num_classes, f.items};
  const json items = analyze_study(ctx, runs);
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  json study = {{"command_line", command_line(f, budget)},
                {"budget", budget.to_json()},
                {"items_selected", f.items},
                {"dataset", f.dataset},
                {"train_size", first->train.size()},
                {"val_size", first->val.size()},
                {"test_size", first->test.size()},
                {"threshold", f.threshold},
                {"started", started},
                {"machine", machine_description()},
                {"wall_seconds", wall},
                {"run_seconds", run_seconds},
                {"runs_trained", trained},
                {"runs_reused", reused},
                {"items", items}};
  const json doc = {{"tool", "bnlab"}, {"version", BNLAB_VERSION}, {"command", "study"}, {"runs", run_list}, {"study", study}};
  const std::string text = doc.dump(2) + "\n";
  write_file_atomically((std::filesystem::path(f.out) / "metrics.json").string(), text);
  if (!f.json_path.empty()) write_file_atomically(f.json_path, text);
  const ReportOutput report = write_report(doc, f.out, "metrics.json", gnuplot_available());

  fmt::print(stderr, "study: {} budget, seeds {}, {} on {} ({} train / {} val / {} test rows), {} runs ({} trained, {} reused), {:.1f} min\n\n",
             budget.name, fmt::join(budget.seeds, ","), command_line(f, budget), f.dataset, first->train.size(), first->val.size(),
             first->test.size(), run_list.size(), trained, reused, wall / 60);
  fmt::print(stderr, "{}\n", verdict_table(items));
  fmt::print(stderr, "report: {}\n{}\n", report.path, report.figures.note);
}

// "eight": a count in words for the help text (digits past twelve).
std::string count_in_words(size_t n) {
  static const char* words[] = {"no",    "one",   "two", "three", "four", "five",   "six",
                                "seven", "eight", "nine", "ten",  "eleven", "twelve"};
  return n < std::size(words) ? words[n] : std::to_string(n);
}

}  // namespace

void register_study(CLI::App& app, CommandResult&) {
  CLI::App* cmd = app.add_subcommand(
      "study", "test " + count_in_words(study_items().size()) +
                   " common claims about batch normalization with controlled experiments; verdicts, figures, report");
  auto f = std::make_shared<StudyFlags>();
  cmd->add_option("--budget", f->budget,
                  "quick: a seeded subset (8000 train / 2000 val / 2000 test rows), few epochs, 2 seeds; full: the whole "
                  "dataset, 3 seeds")
      ->capture_default_str();
  f->seeds_opt =
      add_list_option(*cmd, "--seeds", f->seeds, "seeds, comma-separated (default: the budget's; quick 0,1, full 0,1,2)")->type_name("S,S");
  f->items_opt = add_list_option(*cmd, "--items", f->items, "items to run, comma-separated: " + study_items_help())->type_name("N,N");
  cmd->add_option("--dataset", f->dataset, "dataset (see bnlab train --help)")->capture_default_str();
  cmd->add_option("--data-dir", f->data_dir, "folder holding the dataset's files")->type_name("DIR");
  add_number_option(*cmd, "--limit-train", f->limit_train, "override the budget's training-row limit (0 = all)")->type_name("N");
  add_number_option(*cmd, "--limit-test", f->limit_test, "override the budget's test-row limit (0 = all)")->type_name("N");
  add_number_option(*cmd, "--epochs", f->epochs, "train every item this many epochs instead of the budget's (smoke tests)")->type_name("N");
  add_number_option(*cmd, "--threads", f->threads, "threads for the matrix products")->capture_default_str();
  add_number_option(*cmd, "--threshold", f->threshold, "validation accuracy that item 1 measures the time to")->capture_default_str();
  cmd->add_option("--out", f->out, "directory for runs/, metrics.json, figures and report.md (default: study-BUDGET)")->type_name("DIR");
  cmd->add_option("--json", f->json_path, "also write the metrics document (all runs and the study section) to PATH")
      ->type_name("PATH");
  cmd->add_flag("--force", f->force, "retrain runs whose file in --out was made with a different configuration");
  cmd->add_flag("--quiet", f->quiet, "no progress lines");
  cmd->callback([f] { run_study(*f); });
}

}  // namespace bnlab::tool

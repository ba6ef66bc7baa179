#include "lab/report.hpp"
#include "lab/utc_time.hpp"

#include <cctype>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>

#include <fmt/format.h>

#include "graph/errors.hpp"
#include "lab/assignment_claims.hpp"
#include "lab/compare_summary.hpp"
#include "lab/figures.hpp"
#include "lab/metrics_json.hpp"
#include "lab/numbers.hpp"
#include "lab/run_stats.hpp"
#include "lab/study_items.hpp"
#include "lab/sweep_summary.hpp"
#include "train/atomic_file.hpp"

namespace bnlab::lab {

namespace fs = std::filesystem;

namespace {

// The first line of every report.md: an HTML comment (invisible when the Markdown is shown) naming
// the document it was made from, relative to the report's folder.
constexpr const char* kMarkerStart = "<!-- bnlab report of: ";
constexpr const char* kMarkerEnd = " -->";

std::string cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else if (c == '\n') out += ' ';
    else out += c;
  }
  return out;
}

std::string text_of(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "-";
  return v.dump();
}

std::vector<RunRecord> records_of(const std::vector<StoredRun>& runs) {
  std::vector<RunRecord> out;
  for (const StoredRun& s : runs) out.push_back(s.record);
  return out;
}

// A Markdown table from {columns: [...], rows: [[...]]}.
std::string table(const json& t) {
  if (!t.contains("columns") || !t.contains("rows")) return "";
  std::string s = "|";
  for (const json& c : t["columns"]) s += " " + cell(text_of(c)) + " |";
  s += "\n|";
  // Right-align the columns whose every cell reads as a number ("0.8512 ± 0.0031", "+0.01", "3/3", "never").
  for (size_t i = 0; i < t["columns"].size(); ++i) {
    bool numeric = !t["rows"].empty();
    for (const json& r : t["rows"]) {
      // A row without this cell (compare's epoch row has no difference) does not decide.
      if (i >= r.size()) continue;
      const std::string v = text_of(r[i]);
      const bool looks = !v.empty() && (std::isdigit(static_cast<unsigned char>(v[0])) || v[0] == '+' || v[0] == '-' || v[0] == '.' ||
                                        v == "never" || v.rfind("×", 0) == 0);
      numeric = numeric && looks;
    }
    s += numeric ? "---:|" : "---|";
  }
  s += "\n";
  for (const json& r : t["rows"]) {
    s += "|";
    for (const json& c : r) s += " " + cell(text_of(c)) + " |";
    s += "\n";
  }
  return s + "\n";
}

std::string figure_block(const Figure& f, const FigureOutput& out) {
  std::string s = fmt::format("**Figure `{}`** — {}\n\n", f.name, f.title);
  if (!f.caption.empty()) s += f.caption + "\n\n";
  if (out.rendered)
    s += fmt::format("![{}]({}.png)\n\n[SVG]({}.svg) · data [{}.dat]({}.dat) · script [{}.gp]({}.gp)\n\n", f.title, f.name, f.name,
                     f.name, f.name, f.name, f.name);
  else
    s += fmt::format("Not rendered (gnuplot was not available): data [{}.dat]({}.dat), script [{}.gp]({}.gp); render with "
                     "`gnuplot {}.gp` in this directory.\n\n",
                     f.name, f.name, f.name, f.name, f.name);
  return s;
}

const Figure* find_figure(const std::vector<Figure>& figs, const std::string& name) {
  for (const Figure& f : figs)
    if (f.name == name) return &f;
  return nullptr;
}

// A config value as the report prints it: strings as written, numbers as JSON has them, "?" when the
// document does not say (a metrics CSV has no config).
std::string config_text(const json& config, const std::string& key) {
  const auto it = config.find(key);
  if (it == config.end()) return "?";
  if (it->is_number_float()) return fmt::format("{}", it->get<double>());
  return text_of(*it);
}

// Columns from the stored config rather than the record's TrainConfig, whose defaults would stand in
// for what a document does not say.
std::string runs_table(const std::vector<StoredRun>& runs, ReportInputKind kind) {
  json t = {{"columns", {"run", "model", "norm", "optimizer", "lr", "batch", "epochs", "train acc", "val acc", "test acc",
                         "test loss", "s/epoch", "status"}},
            {"rows", json::array()}};
  for (const StoredRun& s : runs) {
    const RunRecord& r = s.record;
    const json& c = s.config;
    const std::string status = kind == ReportInputKind::csv ? "-" : status_name(r.status);
    t["rows"].push_back({r.name, config_text(c, "model"), config_text(c, "norm"), config_text(c, "optimizer"), config_text(c, "lr"),
                         config_text(c, "batch_size"), std::to_string(r.epochs.size()), fixed(final_value(r, EpochMetric::train_acc), 4),
                         fixed(final_value(r, EpochMetric::val_acc), 4), fixed(test_value(r, Score::acc), 4),
                         fixed(test_value(r, Score::loss), 4), fixed(mean_epoch_seconds(r), 2), status});
  }
  return table(t);
}

// The settings every report states: the command (and its command line where the document records
// it), the dataset and its split sizes, and each run's config — the fields all runs share once, the
// fields that differ per run (or, for many runs, by name: the runs table and the run files have them).
std::string settings_section(const json& doc, const std::vector<StoredRun>& runs, ReportInputKind kind) {
  std::string s = "## Settings\n\n";
  if (doc.contains("command") && doc["command"].is_string()) s += fmt::format("- command: `bnlab {}`\n", doc["command"].get<std::string>());
  if (doc.contains("command_line") && doc["command_line"].is_string())
    s += fmt::format("- command line: `{}`\n", doc["command_line"].get<std::string>());
  if (doc.contains("status") && doc["status"].is_string()) s += fmt::format("- status: {}\n", doc["status"].get<std::string>());
  if (kind == ReportInputKind::csv)
    return s + "- dataset, split sizes and settings: not in a metrics CSV, which holds per-epoch numbers only (the `--json` document "
               "of the same command has them, and test scores and layer statistics)\n\n";
  if (runs.empty()) return s + "\n";
  std::set<std::string> datasets;
  for (const StoredRun& r : runs)
    datasets.insert(fmt::format("{} ({} train / {} validation / {} test rows)", config_text(r.config, "dataset"),
                                config_text(r.config, "train_size"), config_text(r.config, "val_size"), config_text(r.config, "test_size")));
  if (datasets.size() == 1) s += "- dataset: " + *datasets.begin() + "\n";
  else s += fmt::format("- datasets: {}\n", fmt::join(datasets, "; "));
  // Keys in the order the first run that has them lists them.
  std::vector<std::string> keys;
  for (const StoredRun& r : runs)
    for (const auto& [k, v] : r.config.items())
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  json common = {{"columns", {"setting", "value"}}, {"rows", json::array()}};
  json differing = {{"columns", json::array({"setting"})}, {"rows", json::array()}};
  for (const StoredRun& r : runs) differing["columns"].push_back(r.record.name);
  std::vector<std::string> varying;
  for (const std::string& k : keys) {
    std::vector<std::string> values;
    for (const StoredRun& r : runs) values.push_back(r.config.contains(k) ? r.config[k].dump() : "?");
    const bool same = std::all_of(values.begin(), values.end(), [&](const std::string& v) { return v == values.front(); });
    if (same) {
      common["rows"].push_back({k, config_text(runs.front().config, k)});
      continue;
    }
    varying.push_back(k);
    json row = json::array({k});
    for (const StoredRun& r : runs) row.push_back(config_text(r.config, k));
    differing["rows"].push_back(std::move(row));
  }
  s += "\n";
  if (!common["rows"].empty()) s += (runs.size() > 1 ? "Settings of every run:\n\n" : "") + table(common);
  constexpr size_t kRunColumns = 8;  // wider tables do not read
  if (!varying.empty() && runs.size() <= kRunColumns) s += "Settings that differ between the runs:\n\n" + table(differing);
  else if (!varying.empty())
    s += fmt::format("Settings that differ between the runs (each run's value is in its entry of the document): {}.\n\n",
                     fmt::join(varying, ", "));
  return s;
}

// What compare prints when its runs end (lab/compare_summary.hpp), and the same per epoch.
std::string compare_section(const std::vector<StoredRun>& runs) {
  const std::vector<RunRecord> records = records_of(runs);
  const std::string base = records.front().name;
  constexpr double kThreshold = kCompareThreshold;
  std::string s = fmt::format("## Differences: each variant − {} (the baseline)\n\n", base);
  s += fmt::format("The table `bnlab compare` prints at its end. The threshold row uses compare's default {} (the metrics "
                   "document does not record `--threshold`); epochs are shown without a difference.\n\n",
                   kThreshold);
  s += table(compare_summary_table(records, kThreshold));
  s += "Validation loss and accuracy after each epoch (eval mode), and each variant's difference from the baseline:\n\n";
  s += table(compare_epoch_table(records));
  return s;
}

// The assignment's claims (assignment_claims.hpp), each with the verdicts this study gave the items
// that test it: an item is found in the document by name (by the registry's id in documents written
// before items had names), "not in this study" when --items left it out.
std::string claims_section(const json& study_items_json) {
  const auto find_item = [&](const std::string& name) -> const json* {
    for (const json& item : study_items_json)
      if (item.value("name", std::string()) == name) return &item;
    for (const StudyItem& known : study_items())
      if (known.name == name)
        for (const json& item : study_items_json)
          if (!item.contains("name") && item.value("id", 0) == known.id) return &item;
    return nullptr;
  };
  json t = {{"columns", {"#", "the assignment claims", "where", "tested by", "verdict here"}}, {"rows", json::array()}};
  for (const AssignmentClaim& c : assignment_claims()) {
    std::vector<std::string> by, verdicts;
    for (const std::string& name : c.items) {
      const json* item = find_item(name);
      by.push_back(item ? fmt::format("{} {}", item->value("id", 0), name) : name);
      verdicts.push_back(item ? "**" + item->value("verdict", std::string()) + "**" : "not in this study");
    }
    if (c.items.empty()) verdicts.push_back(c.untested);
    t["rows"].push_back({c.number, c.claim, c.sections, by.empty() ? "—" : fmt::format("{}", fmt::join(by, ", ")),
                         fmt::format("{}", fmt::join(verdicts, "; "))});
  }
  return "## The assignment's claims\n\n"
         "Every distinct claim of the assignment bnlab grew from, the items that test it and their verdicts in this study "
         "(docs/claims.md says which claims were merged and why the others are not tested).\n\n" +
         table(t);
}

std::string study_body(const json& doc, const std::vector<StoredRun>& runs, const std::vector<Figure>& figs, const FigureOutput& out) {
  const json& st = doc["study"];
  std::string s;
  s += "## Verdicts\n\n";
  s += "Each claim is tested against the plain model with the same seeds; the criterion of each item was fixed in the code "
       "(lab/study_criteria.cpp) before any run and is quoted below. A verdict is **inconclusive** when the item's noise "
       "tolerance is at least the effect its claim is about (0.05 of accuracy, 25% of time per step): the seeds disagreed "
       "more than the effect, so the data cannot decide.\n\n";
  json t = {{"columns", {"#", "claim", "verdict", "key numbers"}}, {"rows", json::array()}};
  for (const json& item : st["items"])
    t["rows"].push_back({std::to_string(item.value("id", 0)), item.value("title", std::string()),
                         "**" + item.value("verdict", std::string()) + "**", item.value("summary", std::string())});
  s += table(t);
  s += claims_section(st["items"]);

  s += "## Settings\n\n";
  const json& b = st.value("budget", json::object());
  s += fmt::format("- command: `{}`\n", st.value("command_line", std::string("bnlab study")));
  s += fmt::format("- dataset: {} ({} train / {} validation / {} test rows per seed)\n", st.value("dataset", std::string("?")),
                   st.value("train_size", int64_t{0}), st.value("val_size", int64_t{0}), st.value("test_size", int64_t{0}));
  s += fmt::format("- budget: {} — seeds {}, epochs: {} (items 1, 6, 7), {} (items 2–4), {} (item 5), {} (item 8)\n",
                   b.value("name", std::string("?")), b.value("seeds", json::array()).dump(), b.value("epochs_reference", 0),
                   b.value("epochs_grid", 0), b.value("epochs_small_batch", 0), b.value("epochs_cost", 0));
  s += fmt::format("- grids: learning rates {} (SGD and Adam), weight scales {}, depths {} × {} units, small batches {}, cost "
                   "batches {}\n",
                   b.value("learning_rates", json::array()).dump(), b.value("weight_scales", json::array()).dump(),
                   b.value("depths", json::array()).dump(), b.value("depth_width", 0), b.value("small_batches", json::array()).dump(),
                   b.value("cost_batches", json::array()).dump());
  s += fmt::format("- validation-accuracy threshold (item 1): {}\n", st.value("threshold", 0.0));
  s += "- common settings: Adam (lr 1e-3, β 0.9/0.999, ε 1e-7), batch 32, Glorot-uniform weights, zero biases, ReLU, batch "
       "norm after each hidden ReLU with PyTorch's momentum 0.1 and ε 1e-5, unless the item varies it\n";
  if (st.contains("machine")) s += fmt::format("- machine: {}\n", st["machine"].get<std::string>());
  if (st.contains("started")) s += fmt::format("- started: {}\n", st["started"].get<std::string>());
  if (st.contains("wall_seconds"))
    s += fmt::format("- wall time of this invocation: {:.0f} s ({:.1f} min); training time of all runs (including runs reused from "
                     "an earlier invocation): {:.0f} s\n",
                     st["wall_seconds"].get<double>(), st["wall_seconds"].get<double>() / 60, st.value("run_seconds", 0.0));
  s += fmt::format("- runs: {} ({} trained by this invocation, {} reused from runs/ of an earlier one)\n", runs.size(),
                   st.value("runs_trained", 0), st.value("runs_reused", 0));
  s += "\n";

  for (const json& item : st["items"]) {
    const int id = item.value("id", 0);
    s += fmt::format("## {}. {}\n\n", id, item.value("title", std::string()));
    s += "**Claim.** " + item.value("claim", std::string()) + "\n\n";
    s += "**Criterion (fixed in advance).** " + item.value("criterion", std::string()) + "\n\n";
    s += fmt::format("**Verdict: {}.** {}\n\n", item.value("verdict", std::string()), item.value("summary", std::string()));
    if (item.contains("numbers")) s += table(item["numbers"]);
    if (const Figure* f = find_figure(figs, fmt::format("study-item{}", id))) s += figure_block(*f, out);
  }
  s += "## Reference runs\n\n";
  for (const char* name : {"study-curves", "study-layers"})
    if (const Figure* f = find_figure(figs, name)) s += figure_block(*f, out);
  s += "## All runs\n\n" + runs_table(runs, ReportInputKind::document);
  return s;
}

std::string sweep_body(const json& doc, const std::vector<StoredRun>& runs, const std::vector<Figure>& figs, const FigureOutput& out) {
  const double threshold = doc.contains("sweep") ? doc["sweep"].value("threshold", 0.85) : 0.85;
  std::string s = settings_section(doc, runs, ReportInputKind::document);
  s += "## Summary (" + seeds_note(seed_count(records_of(runs))) + ")\n\n";
  if (doc.contains("sweep")) {
    const json& sw = doc["sweep"];
    s += fmt::format("Variants {}, batch sizes {}, seeds {}; threshold {}.\n\n", sw.value("variants", json::array()).dump(),
                     sw.value("batch_sizes", json::array()).dump(), sw.value("seeds", json::array()).dump(), threshold);
  }
  s += table(sweep_summary_table(sweep_summary(records_of(runs), threshold), threshold));
  s += "## Figures\n\n";
  for (const Figure& f : figs) s += figure_block(f, out);
  s += "## All runs\n\n" + runs_table(runs, ReportInputKind::document);
  return s;
}

std::string runs_body(const json& doc, const std::vector<StoredRun>& runs, const std::vector<Figure>& figs, const FigureOutput& out,
                      ReportInputKind kind) {
  std::string s = settings_section(doc, runs, kind);
  s += "## Runs\n\n" + runs_table(runs, kind);
  if (doc.value("command", std::string()) == "compare" && runs.size() >= 2) s += compare_section(runs);
  s += "## Figures\n\n";
  for (const Figure& f : figs) s += figure_block(f, out);
  return s;
}

}  // namespace

std::string report_markdown(const json& doc, const std::vector<StoredRun>& runs, const std::vector<Figure>& figs, const FigureOutput& out,
                            const std::string& source, ReportInputKind kind) {
  const std::string command = doc.value("command", std::string());
  // The first line names the source, for the next report into this folder (check_report_destination).
  std::string s = report_marker(source) + "\n";
  if (kind == ReportInputKind::run_file && runs.size() == 1)
    s += fmt::format("# bnlab report of run {}\n\n", runs.front().record.name);
  else if (kind == ReportInputKind::csv)
    s += "# bnlab report of a metrics CSV\n\n";
  else
    s += fmt::format("# bnlab {} report\n\n", command.empty() ? "runs" : command);
  s += fmt::format("From `{}` (a {}{}, {} run{}); report generated {}.\n\n", source, describe_input(kind),
                   doc.contains("version") ? " of bnlab " + doc.value("version", std::string("?")) : std::string(), runs.size(),
                   runs.size() == 1 ? "" : "s", utc_now());
  s += "Accuracies are fractions; losses are mean cross-entropy in nats; times are seconds of training steps (validation "
       "passes excluded). Training accuracy is the running average over an epoch (train mode); validation metrics are an "
       "eval-mode pass after each epoch; the test split is used once, at the end.\n\n";
  if (!out.rendered && !figs.empty()) s += "> " + out.note + "\n\n";
  if (command == "study" && doc.contains("study")) return s + study_body(doc, runs, figs, out);
  if (command == "sweep") return s + sweep_body(doc, runs, figs, out);
  return s + runs_body(doc, runs, figs, out, kind);
}

std::string report_marker(const std::string& source) {
  std::string one_line = source;
  for (char& c : one_line)
    if (c == '\n' || c == '\r') c = ' ';
  return std::string(kMarkerStart) + one_line + kMarkerEnd;
}

std::optional<std::string> report_source(const std::string& dir) {
  const fs::path path = fs::path(dir) / "report.md";
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(path, ec))) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  std::string first;
  std::getline(in, first);
  const std::string start = kMarkerStart, end = kMarkerEnd;
  if (first.size() < start.size() + end.size() || first.compare(0, start.size(), start) != 0 ||
      first.compare(first.size() - end.size(), end.size(), end) != 0)
    return std::string();
  return first.substr(start.size(), first.size() - start.size() - end.size());
}

void check_report_destination(const std::string& dir, const std::string& source) {
  const std::optional<std::string> existing = report_source(dir);
  if (!existing) return;
  // Paths relative to DIR, resolved (so "../a.json" from two spellings of DIR is one file).
  const auto resolved = [&](const std::string& p) {
    std::error_code ec;
    const fs::path full = fs::path(p).is_absolute() ? fs::path(p) : fs::path(dir) / p;
    const fs::path canonical = fs::weakly_canonical(full, ec);
    return ec ? full.lexically_normal() : canonical;
  };
  const auto shown = [&](const std::string& p) {
    return (fs::path(p).is_absolute() ? fs::path(p) : fs::path(dir) / p).lexically_normal().string();
  };
  const std::string report = (fs::path(dir) / "report.md").string();
  if (existing->empty()) {
    // An earlier bnlab's report names no source; it was the report of the folder's own metrics.json
    // (sweep, study, `bnlab report DIR`), which may replace it.
    if (resolved(source) == resolved("metrics.json")) return;
    throw UsageError(fmt::format("report of {}: {} exists and does not say which run it reports on; give another --out, or "
                                 "remove {} to replace it",
                                 shown(source), report, report));
  }
  if (resolved(*existing) == resolved(source)) return;
  throw UsageError(fmt::format("report of {}: {} is the report of {}; give another --out, or remove {} to replace it", shown(source),
                               report, shown(*existing), report));
}

ReportOutput write_report(const json& doc, const std::string& dir, const std::string& source, bool render, ReportInputKind kind) {
  std::vector<StoredRun> runs;
  std::vector<Figure> figs;
  // A document edited by hand may hold a field of another type than bnlab writes ("command": 5):
  // nlohmann's type_error becomes an InputError, found before anything is written (the text is
  // made once without the figures for that).
  try {
    runs = runs_from_json(doc.value("runs", json::array()));
    figs = document_figures(doc, records_of(runs));
    (void)report_markdown(doc, runs, figs, FigureOutput{}, source, kind);
  } catch (const json::exception& e) {
    throw InputError(std::string("not a bnlab metrics document: a field has another type than bnlab writes (") + e.what() + ")");
  }
  check_report_destination(dir, source);
  ReportOutput r;
  r.figures = write_figures(dir, figs, render);
  r.path = (fs::path(dir) / "report.md").string();
  write_file_atomically(r.path, report_markdown(doc, runs, figs, r.figures, source, kind));
  return r;
}

}  // namespace bnlab::lab

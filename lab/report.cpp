#include "lab/report.hpp"
#include "lab/utc_time.hpp"

#include <cctype>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>

#include <fmt/format.h>

#include "graph/errors.hpp"
#include "lab/figures.hpp"
#include "lab/run_stats.hpp"
#include "lab/sweep_summary.hpp"
#include "train/atomic_file.hpp"

namespace bnlab::lab {

namespace {

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
      const std::string v = i < r.size() ? text_of(r[i]) : "";
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

std::string runs_table(const std::vector<StoredRun>& runs) {
  json t = {{"columns", {"run", "model", "norm", "optimizer", "lr", "batch", "epochs", "train acc", "val acc", "test acc",
                         "test loss", "s/epoch", "status"}},
            {"rows", json::array()}};
  for (const StoredRun& s : runs) {
    const RunRecord& r = s.record;
    // The model as its config block describes it (the record keeps no spec: metrics_json.hpp).
    const json& c = s.config;
    t["rows"].push_back({r.name, c.value("model", std::string("?")), c.value("norm", std::string("?")),
                         to_string(r.config.optimizer.kind), fmt::format("{}", r.config.optimizer.lr),
                         std::to_string(r.config.batch_size), std::to_string(r.epochs.size()),
                         fmt::format("{:.4f}", final_value(r, EpochMetric::train_acc)),
                         fmt::format("{:.4f}", final_value(r, EpochMetric::val_acc)), fmt::format("{:.4f}", test_value(r, Score::acc)),
                         fmt::format("{:.4f}", test_value(r, Score::loss)), fmt::format("{:.2f}", mean_epoch_seconds(r)),
                         diverged(r) ? "diverged" : "finished"});
  }
  return table(t);
}

std::vector<RunRecord> records_of(const std::vector<StoredRun>& runs) {
  std::vector<RunRecord> out;
  for (const StoredRun& s : runs) out.push_back(s.record);
  return out;
}

std::string study_body(const json& doc, const std::vector<StoredRun>& runs, const std::vector<Figure>& figs, const FigureOutput& out) {
  const json& st = doc["study"];
  std::string s;
  s += "## Verdicts\n\n";
  s += "Each claim is tested against the plain model with the same seeds; the criterion of each item was fixed in the code "
       "(lab/study_criteria.cpp) before any run and is quoted below.\n\n";
  json t = {{"columns", {"#", "claim", "verdict", "key numbers"}}, {"rows", json::array()}};
  for (const json& item : st["items"])
    t["rows"].push_back({std::to_string(item.value("id", 0)), item.value("title", std::string()),
                         "**" + item.value("verdict", std::string()) + "**", item.value("summary", std::string())});
  s += table(t);

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
  s += "## All runs\n\n" + runs_table(runs);
  return s;
}

std::string sweep_body(const json& doc, const std::vector<StoredRun>& runs, const std::vector<Figure>& figs, const FigureOutput& out) {
  const double threshold = doc.contains("sweep") ? doc["sweep"].value("threshold", 0.85) : 0.85;
  std::string s = "## Summary (mean ± std over seeds)\n\n";
  if (doc.contains("sweep")) {
    const json& sw = doc["sweep"];
    s += fmt::format("Variants {}, batch sizes {}, seeds {}; threshold {}.\n\n", sw.value("variants", json::array()).dump(),
                     sw.value("batch_sizes", json::array()).dump(), sw.value("seeds", json::array()).dump(), threshold);
  }
  s += table(sweep_summary_table(sweep_summary(records_of(runs), threshold), threshold));
  s += "## Figures\n\n";
  for (const Figure& f : figs) s += figure_block(f, out);
  s += "## All runs\n\n" + runs_table(runs);
  return s;
}

std::string runs_body(const std::vector<StoredRun>& runs, const std::vector<Figure>& figs, const FigureOutput& out) {
  std::string s = "## Runs\n\n" + runs_table(runs);
  s += "## Figures\n\n";
  for (const Figure& f : figs) s += figure_block(f, out);
  return s;
}

}  // namespace

std::string report_markdown(const json& doc, const std::vector<StoredRun>& runs, const std::vector<Figure>& figs, const FigureOutput& out,
                            const std::string& source) {
  const std::string command = doc.value("command", std::string("?"));
  std::string s = fmt::format("# bnlab {} report\n\n", command);
  s += fmt::format("From `{}` (bnlab {}, {} run{}); report generated {}.\n\n", source, doc.value("version", std::string("?")),
                   runs.size(), runs.size() == 1 ? "" : "s", utc_now());
  s += "Accuracies are fractions; losses are mean cross-entropy in nats; times are seconds of training steps (validation "
       "passes excluded). Training accuracy is the running average over an epoch (train mode); validation metrics are an "
       "eval-mode pass after each epoch; the test split is used once, at the end.\n\n";
  if (!out.rendered && !figs.empty()) s += "> " + out.note + "\n\n";
  if (command == "study" && doc.contains("study")) return s + study_body(doc, runs, figs, out);
  if (command == "sweep") return s + sweep_body(doc, runs, figs, out);
  return s + runs_body(runs, figs, out);
}

ReportOutput write_report(const json& doc, const std::string& dir, const std::string& source, bool render) {
  std::vector<StoredRun> runs;
  std::vector<Figure> figs;
  // A document edited by hand may hold a field of another type than bnlab writes ("command": 5):
  // nlohmann's type_error becomes an InputError, found before anything is written (the text is
  // made once without the figures for that).
  try {
    runs = runs_from_json(doc.value("runs", json::array()));
    figs = document_figures(doc, records_of(runs));
    (void)report_markdown(doc, runs, figs, FigureOutput{}, source);
  } catch (const json::exception& e) {
    throw InputError(std::string("not a bnlab metrics document: a field has another type than bnlab writes (") + e.what() + ")");
  }
  ReportOutput r;
  r.figures = write_figures(dir, figs, render);
  r.path = (std::filesystem::path(dir) / "report.md").string();
  write_file_atomically(r.path, report_markdown(doc, runs, figs, r.figures, source));
  return r;
}

}  // namespace bnlab::lab

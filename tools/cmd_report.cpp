// bnlab report: the Markdown report (tables and figures) of a run directory or metrics document —
// what sweep and study write at their end, rebuilt from metrics.json alone; for train and compare,
// give their --json file. A directory a sweep or study is still running in is read (its
// metrics.json is always a whole document: the last one written), but the report is written there
// only when no other process holds the directory (lab/dir_lock.hpp): both would write report.md and
// the figures. --out elsewhere reports on it at any time.
//
//   bnlab report runs/study                      # reads runs/study/metrics.json, writes report.md there
//   bnlab report runs/compare.json --out runs/compare-report
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include <fmt/format.h>

#include "data/file_kind.hpp"
#include "graph/errors.hpp"
#include "tools/command.hpp"
#include "lab/dir_lock.hpp"
#include "lab/plots.hpp"
#include "lab/report.hpp"
#include "train/atomic_file.hpp"

namespace bnlab::tool {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

struct ReportFlags {
  std::string path;
  std::string out;
};

void run_report(const ReportFlags& f) {
  std::error_code ec;
  const bool is_dir = fs::is_directory(f.path, ec);
  const fs::path source = is_dir ? fs::path(f.path) / "metrics.json" : fs::path(f.path);
  if (!fs::exists(source, ec))
    throw UsageError(is_dir ? "report " + f.path + ": the directory holds no metrics.json (give a metrics document instead)"
                            : "report " + f.path + ": no such file or directory");
  data::refuse_file_kind(source.string(), {data::FileKind::json}, "a metrics document",
                         "give the --json file a command wrote, or a sweep or study directory");
  std::ifstream in(source, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  json doc;
  try {
    doc = json::parse(text.str());
  } catch (const json::exception& e) {
    throw InputError(source.string() + ": not a JSON document: " + e.what());
  }
  if (!doc.is_object() || !doc.contains("runs") || !doc["runs"].is_array())
    throw InputError(source.string() + ": not a bnlab metrics document (no \"runs\" list)");
  const fs::path dir = !f.out.empty() ? fs::path(f.out) : (source.has_parent_path() ? source.parent_path() : fs::path("."));
  prepare_output_dir("--out", dir.string());
  // Links in the report are relative to its directory.
  const std::string name = fs::relative(fs::absolute(source), fs::absolute(dir), ec).string();
  std::optional<DirLock> lock;
  if (is_dir && f.out.empty()) lock.emplace(f.path, "bnlab report");
  ReportOutput r;
  try {
    r = write_report(doc, dir.string(), ec || name.empty() ? source.string() : name, gnuplot_available());
  } catch (const InputError& e) {
    // An entry of "runs" that is not a run (metrics_json.hpp stored_run_from_json).
    throw InputError(source.string() + ": " + e.what());
  }
  fmt::print("report: {}\n{}\n", r.path, r.figures.note);
  std::fflush(stdout);
}

}  // namespace

void register_report(CLI::App& app, CommandResult&) {
  CLI::App* cmd = app.add_subcommand("report", "write a Markdown report with figures for a sweep or study directory, or a metrics document");
  auto f = std::make_shared<ReportFlags>();
  cmd->add_option("PATH", f->path, "a run directory holding metrics.json (sweep, study), or a metrics document (--json of any command)")
      ->required();
  cmd->add_option("--out", f->out, "where report.md and the figures go (default: beside the metrics document)")->type_name("DIR");
  cmd->callback([f] { run_report(*f); });
}

}  // namespace bnlab::tool

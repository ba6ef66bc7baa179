// bnlab report: the Markdown report (tables and figures) of a run directory, a metrics document, a
// run file of a sweep's or study's store, or a --csv file (lab/report_input.hpp) — what sweep and
// study write at their end, rebuilt from metrics.json alone.
//
// Where it goes (each input its own folder, so two reports never share one): a directory, or a
// file named metrics.json, gets DIR/report.md beside its metrics.json (the sweep's and study's own
// report); any other file F.json gets F.report/ beside it, and a file of another extension
// (a.csv) NAME.report/ (a.csv.report/), so a run's --json and --csv reports differ; --out DIR
// chooses. A folder holding the report of another document is refused (lab/report.hpp).
//
// A directory a sweep or study is still running in is read (its metrics.json is always a whole
// document: the last one written), but the report is written there only when no other process
// holds the directory (lab/dir_lock.hpp): both would write report.md and the figures.
//
//   bnlab report runs/study                      # reads runs/study/metrics.json, writes report.md there
//   bnlab report runs/compare.json               # runs/compare.report/report.md
//   bnlab report runs/sweep/runs/plain-bs32-seed0.json --out plain-report
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
#include "lab/report_input.hpp"
#include "train/atomic_file.hpp"

namespace bnlab::tool {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

struct ReportFlags {
  std::string path;
  std::string out;
  bool quiet = false;
};

// The default folder of a report of `source` (see the top of this file).
fs::path default_report_dir(const fs::path& source) {
  const fs::path folder = source.has_parent_path() ? source.parent_path() : fs::path(".");
  if (source.filename() == "metrics.json") return folder;
  const fs::path name = source.extension() == ".json" ? source.stem() : source.filename();
  return folder / (name.string() + ".report");
}

void run_report(const ReportFlags& f) {
  std::error_code ec;
  const bool is_dir = fs::is_directory(f.path, ec);
  const fs::path source = is_dir ? fs::path(f.path) / "metrics.json" : fs::path(f.path);
  if (!fs::exists(source, ec))
    throw UsageError(is_dir ? "report " + f.path + ": the directory holds no metrics.json (give a metrics document instead)"
                            : "report " + f.path + ": no such file or directory");
  // What report_input_from_text reads: JSON (a metrics document or a run file) and CSV (--csv).
  data::refuse_file_kind(source.string(), {data::FileKind::json, data::FileKind::csv, data::FileKind::text},
                         "a file bnlab can report on",
                         "give a metrics document (--json of train, compare, sweep or study), a run file of a sweep or study "
                         "(DIR/runs/NAME.json), a --csv file, or a sweep or study directory");
  std::ifstream in(source, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in && !in.eof()) throw InputError(source.string() + ": cannot be read");
  const ReportInput input = report_input_from_text(source.string(), text.str());
  const fs::path dir = !f.out.empty() ? fs::path(f.out) : default_report_dir(source);
  prepare_output_dir("--out", dir.string());
  // Links in the report are relative to its directory.
  const std::string name = fs::relative(fs::absolute(source), fs::absolute(dir), ec).string();
  // Writing into the folder of a sweep's or study's metrics.json: not while that sweep or study runs.
  std::optional<DirLock> lock;
  if (source.filename() == "metrics.json" && fs::equivalent(dir, source.has_parent_path() ? source.parent_path() : fs::path("."), ec))
    lock.emplace(dir.string(), "bnlab report");
  ReportOutput r;
  try {
    r = write_report(input.doc, dir.string(), ec || name.empty() ? fs::absolute(source).string() : name, gnuplot_available(), input.kind);
  } catch (const InputError& e) {
    // An entry of "runs" that is not a run (metrics_json.hpp stored_run_from_json).
    throw InputError(source.string() + ": " + e.what());
  }
  if (!f.quiet) fmt::print(stderr, "report: {}\n{}\n", r.path, r.figures.note);
}

}  // namespace

void register_report(CLI::App& app, CommandResult&) {
  CLI::App* cmd = app.add_subcommand("report", "write a Markdown report with figures for a sweep or study directory, a metrics document, a run file or a --csv file");
  auto f = std::make_shared<ReportFlags>();
  cmd->add_option("PATH", f->path,
                  "a run directory holding metrics.json (sweep, study), a metrics document (--json of any command), a run file "
                  "(DIR/runs/NAME.json of a sweep or study) or a --csv file")
      ->required();
  cmd->add_option("--out", f->out,
                  "where report.md and the figures go (default: a directory's own folder; F.report/ beside any other file F.json; "
                  "refused if it holds the report of another document)")
      ->type_name("DIR");
  cmd->add_flag("--quiet", f->quiet, "print nothing (not where the report went or whether figures were drawn)");
  cmd->callback([f] { run_report(*f); });
}

}  // namespace bnlab::tool

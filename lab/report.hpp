// The Markdown report of a run directory: tables and figure links built from a metrics document
// (any command: train, compare, sweep, study; or what report_input.hpp makes of a run file or a
// metrics CSV). `bnlab report` and the end of `sweep` and `study` use it, so a report can always be
// rebuilt from metrics.json alone.
//
//   ReportOutput r = write_report(doc, "runs/study", "metrics.json", gnuplot_available());
//   // runs/study/report.md, runs/study/<figure>.{dat,gp,svg,png}
//
// Every report states the command (and command line where the document has it), the dataset and
// its split sizes, and the runs' settings; a compare's adds the difference rows compare prints
// (compare_summary.hpp). A report never replaces another document's: report.md's first line names
// its source (an HTML comment), and writing a report of another source into that folder is refused
// (check_report_destination); the report of the same source replaces it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lab/metrics_json.hpp"
#include "lab/plots.hpp"
#include "lab/report_input.hpp"

namespace bnlab::lab {

struct ReportOutput {
  std::string path;      // DIR/report.md
  FigureOutput figures;  // what was written and rendered
};

// The Markdown text. `runs` are doc["runs"] read back (runs_from_json), in order; `source` names the
// document the report is made from, relative to the report's directory (or absolute), in the text
// and in the first line (report_marker); `kind` what that file is. Figure links are relative to the
// report's directory.
std::string report_markdown(const nlohmann::ordered_json& doc, const std::vector<StoredRun>& runs, const std::vector<Figure>& figures,
                            const FigureOutput& out, const std::string& source, ReportInputKind kind = ReportInputKind::document);

// The first line of a report of `source`: "<!-- bnlab report of: SOURCE -->".
std::string report_marker(const std::string& source);

// The source DIR/report.md names in its first line; "" when it names none (an earlier bnlab's
// report, or a file bnlab did not write); nullopt when there is no DIR/report.md.
std::optional<std::string> report_source(const std::string& dir);

// Throws UsageError, naming both documents, when DIR/report.md is the report of another document
// than `source` (relative to DIR, or absolute; compared as resolved paths):
//   "report of b.json: out/report.md is the report of a.json; give another --out, or remove
//    out/report.md to replace it"
// A report.md that names no source may be replaced only by the report of DIR/metrics.json (what
// sweep, study and `bnlab report DIR` always wrote there).
void check_report_destination(const std::string& dir, const std::string& source);

// Writes the figures (rendering them with `render`) and DIR/report.md. Throws, before writing
// anything, InputError for a field of the document of another type than bnlab writes and for an
// entry of doc["runs"] that is not a run, and check_report_destination's UsageError.
ReportOutput write_report(const nlohmann::ordered_json& doc, const std::string& dir, const std::string& source, bool render,
                          ReportInputKind kind = ReportInputKind::document);

}  // namespace bnlab::lab

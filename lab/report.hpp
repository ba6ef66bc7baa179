// The Markdown report of a run directory: tables and figure links built from a metrics document
// (any command: train, compare, sweep, study). `bnlab report` and the end of `sweep` and `study`
// use it, so a report can always be rebuilt from metrics.json alone.
//
//   ReportOutput r = write_report(doc, "runs/study", "metrics.json", gnuplot_available());
//   // runs/study/report.md, runs/study/<figure>.{dat,gp,svg,png}
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lab/metrics_json.hpp"
#include "lab/plots.hpp"

namespace bnlab::lab {

struct ReportOutput {
  std::string path;      // DIR/report.md
  FigureOutput figures;  // what was written and rendered
};

// The Markdown text. `runs` are doc["runs"] read back (runs_from_json), in order; `source` names the
// metrics document in the text; figure links are relative to the report's directory.
std::string report_markdown(const nlohmann::ordered_json& doc, const std::vector<StoredRun>& runs, const std::vector<Figure>& figures,
                            const FigureOutput& out, const std::string& source);

// Writes the figures (rendering them with `render`) and DIR/report.md. Throws InputError, before
// writing anything, for a field of the document of another type than bnlab writes, and for an
// entry of doc["runs"] that is not a run.
ReportOutput write_report(const nlohmann::ordered_json& doc, const std::string& dir, const std::string& source, bool render);

}  // namespace bnlab::lab

// What `bnlab report` can read, turned into the one thing a report is made from: a metrics document
// (docs/metrics.md). bnlab writes three files a report can be made of:
//   a metrics document   --json of train, compare, sweep, study, and DIR/metrics.json of sweep and
//                        study: {"tool": "bnlab", "command": …, "runs": [...]}, taken as it is;
//   a run file           DIR/runs/NAME.json of a sweep's or study's run store (run_store.hpp): one
//                        entry of "runs", made the document {"tool": "bnlab", "runs": [entry]};
//   a metrics CSV        --csv (metrics_csv.hpp): per-epoch numbers only, made a document whose
//                        runs have those epochs and an empty config (the CSV has no settings, no
//                        test score and no layer statistics: the report says so).
// Anything else (a checkpoint, a dataset, other JSON) is refused with one line naming the file.
//
//   ReportInput in = read_report_input("runs/sweep/runs/batchnorm-bs32-seed0.json");
//   // in.kind == ReportInputKind::run_file; in.doc["runs"][0]["name"] == "batchnorm-bs32-seed0"
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace bnlab::lab {

enum class ReportInputKind { document, run_file, csv };

struct ReportInput {
  ReportInputKind kind = ReportInputKind::document;
  nlohmann::ordered_json doc;  // a metrics document, whatever the kind
};

// Reads `text`, the contents of the file `path` (named in messages). Throws InputError
// "PATH: …" for text that is none of the three kinds, or a torn one (JSON that does not parse, a
// CSV row with too few fields or a number that is not one).
ReportInput report_input_from_text(const std::string& path, const std::string& text);

// The runs of a --csv file as metrics-document entries (name, empty config, epochs with the CSV's
// numbers; every other epoch field at its default). Throws InputError "PATH: line N: …".
nlohmann::ordered_json runs_from_metrics_csv(const std::string& path, const std::string& text);

// The words the report uses for where its runs came from: "metrics document", "run file" ("one
// run of a sweep's or study's run store"), "metrics CSV".
std::string describe_input(ReportInputKind kind);

}  // namespace bnlab::lab

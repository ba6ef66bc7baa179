// The files a training command writes (--json, --csv): checked before any work starts, rewritten
// atomically after every epoch while the runs train (so a long run can be followed and plotted),
// and once more when they end.
//
//   check_outputs(paths);                                              // before training
//   write_outputs(paths, "train", {run}, data_config, extras, /*live=*/true);  // after each epoch: "status": "running"
//   write_outputs(paths, "train", {run}, data_config, extras);             // at the end: "finished"
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/trainer.hpp"

namespace bnlab::lab {

struct OutputPaths {
  std::string json;  // "" = not requested
  std::string csv;
};

// What a command adds to its document besides the runs' records.
struct DocumentExtras {
  std::vector<nlohmann::ordered_json> run_fields;  // objects merged into runs[i] ("best_checkpoint"); may be shorter
  nlohmann::ordered_json top = nlohmann::ordered_json::object();  // merged into the document ("interrupted")
};

// UsageError naming the flag and path when a requested file could not be written.
void check_outputs(const OutputPaths& paths);

// The document of train and compare: metrics_document with each run's "status" (and "error" when it
// diverged), then `extras`.
nlohmann::ordered_json training_document(const std::string& command, const std::vector<RunRecord>& runs,
                                         const nlohmann::ordered_json& extra_config, const DocumentExtras& extras = {});

// Writes the metrics document and the CSV (whichever were requested). `live` (after an epoch, the
// runs still training) writes only destinations that can be replaced whole: a pipe, a terminal or
// /dev/stdout gets one document, the last.
void write_outputs(const OutputPaths& paths, const std::string& command, const std::vector<RunRecord>& runs,
                   const nlohmann::ordered_json& extra_config = nullptr, const DocumentExtras& extras = {}, bool live = false);

}  // namespace bnlab::lab

// The metrics document of docs/metrics.md, built from finished runs. The schema is a contract with the
// scripts and notebooks that read these files: fields may be added, never renamed.
//
//   nlohmann::ordered_json doc = bnlab::tool::metrics_document("compare", {plain_run, bn_run}, data_config);
//   std::string text = doc.dump(2);
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/trainer.hpp"

namespace bnlab::lab {

// A JSON number, or null where the value is not finite (an empty validation split gives NaN, which
// JSON cannot represent).
nlohmann::ordered_json json_number(double v);

// One entry of "runs". `extra_config` (an object, may be null) is merged into "config": the data
// options (val_fraction, standardize, limits) that are not part of the RunRecord.
nlohmann::ordered_json run_json(const RunRecord& run, const nlohmann::ordered_json& extra_config = nullptr);

// "running", "finished", "interrupted", "diverged" — and back (InputError naming the value otherwise).
const char* status_name(RunStatus status);
RunStatus status_from_name(const std::string& name);

// The form the sweep and study store a run in (job_json in run_job.hpp), and train and compare
// write: run_json plus "status", and "error" (diverged) or "evals" (when it has any).
void add_job_fields(nlohmann::ordered_json& run_entry, const RunRecord& run);

// A run read back from an entry of "runs" (a metrics document's, or a RunStore file), so analysis
// reads one typed record whether the run was trained a moment ago or long before:
//
//   StoredRun s = stored_run_from_json(doc["runs"][0]);
//   double acc = s.record.epochs.back().val_acc;        // NaN where the document has null
//   stored_run_json(s).dump() == doc["runs"][0].dump()  // for every entry run_json / job_json wrote
//
// NOTE: the config block is kept as the raw JSON object beside the record, rather than read back
// into RunRecord::spec. The TrainConfig fields and the split sizes map one to one and are read
// into the record; the model is written as a description and its recipe (a preset's parameters,
// named by the family), which only models/ could turn back into a ModelSpec, and the data options
// (extra_config) are not part of the record at all. The RunStore compares the raw object
// (config_difference), and the report shows its model and norm fields as written.
struct StoredRun {
  RunRecord record;          // spec left empty (see above)
  nlohmann::ordered_json config = nlohmann::ordered_json::object();  // the run's "config", as stored
  bool job_form = false;     // it has "status" (the sweep and study form, job_json)
};

// ensures: every field of `entry` that run_json / job_json write is in the result; null numbers
// are NaN; fields the entry does not have keep RunRecord's and TrainConfig's defaults.
// Throws InputError naming the run and the field for an entry that is not a run.
StoredRun stored_run_from_json(const nlohmann::ordered_json& entry);
// The record alone (stored_run_from_json(entry).record).
RunRecord run_from_json(const nlohmann::ordered_json& entry);
// Each entry of a "runs" array; [] for anything else.
std::vector<StoredRun> runs_from_json(const nlohmann::ordered_json& runs);

// The entry again: run_json with the stored config, plus the job fields if job_form.
nlohmann::ordered_json stored_run_json(const StoredRun& run);

// {"tool": "bnlab", "version": …, "command": command, "runs": [...]}.
nlohmann::ordered_json metrics_document(const std::string& command, const std::vector<RunRecord>& runs,
                                const nlohmann::ordered_json& extra_config = nullptr);

}  // namespace bnlab::lab

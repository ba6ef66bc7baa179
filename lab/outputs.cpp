#include "lab/outputs.hpp"

#include <filesystem>

#include "graph/errors.hpp"
#include "lab/metrics_csv.hpp"
#include "lab/metrics_json.hpp"
#include "train/atomic_file.hpp"

namespace bnlab::lab {

void check_outputs(const OutputPaths& paths) {
  if (!paths.json.empty()) check_output_path("--json", paths.json);
  if (!paths.csv.empty()) check_output_path("--csv", paths.csv);
  // The second write would silently replace the first .
  if (!paths.json.empty() && !paths.csv.empty() &&
      std::filesystem::weakly_canonical(paths.json) == std::filesystem::weakly_canonical(paths.csv))
    throw UsageError("--json and --csv name the same file: " + paths.json);
}

nlohmann::ordered_json training_document(const std::string& command, const std::vector<RunRecord>& runs,
                                         const nlohmann::ordered_json& extra_config, const DocumentExtras& extras) {
  nlohmann::ordered_json doc = metrics_document(command, runs, extra_config);
  for (size_t i = 0; i < runs.size(); ++i) {
    nlohmann::ordered_json& entry = doc["runs"][i];
    add_job_fields(entry, runs[i]);
    if (i < extras.run_fields.size() && extras.run_fields[i].is_object()) entry.update(extras.run_fields[i]);
  }
  doc.update(extras.top);
  return doc;
}

void write_outputs(const OutputPaths& paths, const std::string& command, const std::vector<RunRecord>& runs,
                   const nlohmann::ordered_json& extra_config, const DocumentExtras& extras, bool live) {
  const auto wanted = [live](const std::string& path) { return !path.empty() && !(live && written_in_place(path)); };
  // The CSV first: a reader that saw N epochs in the JSON finds at least N in the CSV.
  if (wanted(paths.csv)) write_file_atomically(paths.csv, metrics_csv(runs));
  if (wanted(paths.json))
    write_file_atomically(paths.json, training_document(command, runs, extra_config, extras).dump(2) + "\n");
}

}  // namespace bnlab::lab

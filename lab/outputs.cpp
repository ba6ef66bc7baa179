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
  // The second write would silently replace the first.
  if (!paths.json.empty() && !paths.csv.empty() &&
      std::filesystem::weakly_canonical(paths.json) == std::filesystem::weakly_canonical(paths.csv))
    throw UsageError("--json and --csv name the same file: " + paths.json);
}

void write_outputs(const OutputPaths& paths, const std::string& command, const std::vector<RunRecord>& runs,
                   const nlohmann::ordered_json& extra_config) {
  if (!paths.json.empty())
    write_file_atomically(paths.json, metrics_document(command, runs, extra_config).dump(2) + "\n");
  if (!paths.csv.empty()) write_file_atomically(paths.csv, metrics_csv(runs));
}

}  // namespace bnlab::lab

// The files a training command writes (--json, --csv): checked before any work starts, written
// atomically once the runs are done.
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

// UsageError naming the flag and path when a requested file could not be written.
void check_outputs(const OutputPaths& paths);

// Writes the metrics document and the CSV (whichever were requested).
void write_outputs(const OutputPaths& paths, const std::string& command, const std::vector<RunRecord>& runs,
                   const nlohmann::ordered_json& extra_config = nullptr);

}  // namespace bnlab::lab

// The metrics document of METRICS.md, built from finished runs. The schema is a contract with the
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

// {"tool": "bnlab", "version": …, "command": command, "runs": [...]}.
nlohmann::ordered_json metrics_document(const std::string& command, const std::vector<RunRecord>& runs,
                                const nlohmann::ordered_json& extra_config = nullptr);

}  // namespace bnlab::lab

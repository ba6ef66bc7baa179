// What `compare` concludes, as both the terminal and the report show it: each variant's final
// numbers beside each variant's difference from the first (the baseline), "batchnorm - plain", and
// the same per epoch. Read from finished runs (RunRecord), so the report of a compare rebuilds from
// its metrics document exactly the rows the terminal printed.
//
//   json t = compare_summary_table(runs, 0.85);
//   // t["columns"]: ["", "plain", "batchnorm", "batchnorm - plain"]
//   // t["rows"]:    [["test loss", "0.4102", "0.3861", "-0.0241"], ["test acc", …],
//   //                ["first epoch val acc >= 0.85", "3", "never"],   // epochs: no difference cell
//   //                ["mean s/epoch", "0.51", "0.62", "+0.11"]]
//   fmt::print("\n{}", compare_summary_text(t));   // aligned columns, as compare prints it
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/trainer.hpp"

namespace bnlab::lab {

// compare's --threshold by default: the validation accuracy whose first epoch the summary names. The
// report of a compare uses it too (the metrics document does not record the threshold).
inline constexpr double kCompareThreshold = 0.85;

// requires: `variants` non-empty; the first is the baseline.
// ensures: {columns, rows} of strings. Rows: test loss and test acc (4 decimals), the first epoch
// whose validation accuracy reaches `threshold` ("never" when none; no difference cell), mean
// seconds per epoch (2 decimals). A difference is "+0.0123" / "-0.0123"; a missing value is "-".
nlohmann::ordered_json compare_summary_table(const std::vector<RunRecord>& variants, double threshold);

// The table as aligned text, one line per row with its header first: the label column as wide as
// its longest label (at least 16), each other column right-aligned to its header (at least 9).
std::string compare_summary_text(const nlohmann::ordered_json& table);

// Per epoch: "epoch", then each variant's validation loss and accuracy, then each variant's
// differences from the first (val loss, val acc), 4 decimals. Rows run to the longest run; a run
// without that epoch shows "-".
nlohmann::ordered_json compare_epoch_table(const std::vector<RunRecord>& variants);

}  // namespace bnlab::lab

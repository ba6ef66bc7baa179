// Numbers read back from finished runs in the metrics document (METRICS.md), and mean ± std over
// seeds. The sweep summary, the study's verdicts and the report all read runs as JSON, so a run
// loaded from a cached file and a run trained a moment ago are summarized by the same code.
//
//   const json& run = doc["runs"][0];
//   double acc = final_value(run, "val_acc");                 // the last epoch's value, NaN if absent
//   std::optional<int> e = first_epoch_reaching(run, 0.85);  // nullopt: never
//   MeanStd m = mean_std({0.85, 0.86, 0.84});                 // mean 0.85, std 0.01 (sample std, n-1)
//   std::string s = format_mean_std(m, 4);                    // "0.8500 ± 0.0100"
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bnlab::lab {

using json = nlohmann::ordered_json;

// Mean and sample standard deviation (divided by n − 1) of the finite values; NaN where undefined
// (no values; std with fewer than two). `n` counts the finite values used.
struct MeanStd {
  double mean;
  double std;
  int n = 0;
};
MeanStd mean_std(const std::vector<double>& values);

// "0.8512 ± 0.0031"; one value: "0.8512"; none: "-".
std::string format_mean_std(const MeanStd& m, int precision);

// A number field of a JSON object, NaN when absent or null.
double number_or_nan(const json& object, const std::string& key);

// The last epoch's `key` ("val_acc", "train_loss", …), NaN when there are no epochs.
double final_value(const json& run, const std::string& key);
// The value of `key` at epoch `epoch` (1-based), NaN when the run has no such epoch.
double epoch_value(const json& run, int epoch, const std::string& key);
// run["test"][key] ("loss", "acc"), NaN when the run has no test score.
double test_value(const json& run, const std::string& key);
// run["evals"][which][key]: the extra evaluations a study run records (train, val_batch_stats).
double eval_value(const json& run, const std::string& which, const std::string& key);

// The first epoch whose validation accuracy is >= threshold; nullopt if none.
std::optional<int> first_epoch_reaching(const json& run, double threshold);
// Training seconds of epochs 1..epoch (the wall time to reach that epoch's end, validation passes excluded).
double seconds_through_epoch(const json& run, int epoch);
double mean_epoch_seconds(const json& run);
// Total training seconds over total steps: the cost of one training step.
double seconds_per_step(const json& run);

// True when the run stopped on a non-finite loss or gradient ("status": "diverged").
bool diverged(const json& run);

}  // namespace bnlab::lab

// Numbers read back from finished runs (RunRecord, as metrics_json.hpp reads them from a metrics
// document or a stored run file), and mean ± std over seeds. The sweep summary, the study's verdicts
// and the report all read runs through these, so a run loaded from a cached file and a run trained
// a moment ago are summarized by the same code.
//
//   const RunRecord run = run_from_json(doc["runs"][0]);
//   double acc = final_value(run, EpochMetric::val_acc);     // the last epoch's value, NaN if none
//   double test = test_value(run, Score::acc);               // NaN without a test score
//   std::optional<int> e = first_epoch_reaching(run, 0.85);  // nullopt: never
//   MeanStd m = mean_std({0.85, 0.86, 0.84});                 // mean 0.85, std 0.01 (sample std, n-1)
//   std::string s = format_mean_std(m, 4);                    // "0.8500 ± 0.0100"
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/trainer.hpp"

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

// A number field of a JSON object, NaN when absent or null (for the config block, which stays JSON).
double number_or_nan(const json& object, const std::string& key);

// The per-epoch numbers of EpochMetrics that analysis reads by kind.
enum class EpochMetric { train_loss, train_acc, val_loss, val_acc, seconds, samples_per_second, train_loss_std };
double value_of(const EpochMetrics& m, EpochMetric k);

// The numbers of an evaluation (the test split, or one of a study run's extra evaluations).
enum class Score { loss, acc };
// NaN when the evaluation is absent.
double score(const std::optional<EvalMetrics>& e, Score s);

// The last epoch's value, NaN when there are no epochs.
double final_value(const RunRecord& run, EpochMetric k);
// The value at epoch `epoch` (1-based), NaN when the run has no such epoch.
double epoch_value(const RunRecord& run, int epoch, EpochMetric k);
// score(run.test, s): NaN when the run has no test score.
double test_value(const RunRecord& run, Score s);

// The first epoch whose validation accuracy is >= threshold; nullopt if none.
std::optional<int> first_epoch_reaching(const RunRecord& run, double threshold);
// Training seconds of epochs 1..epoch (the wall time to reach that epoch's end, validation passes
// excluded); NaN when the run has no such epoch.
double seconds_through_epoch(const RunRecord& run, int epoch);
double mean_epoch_seconds(const RunRecord& run);
// Total training seconds over total steps: the cost of one training step.
double seconds_per_step(const RunRecord& run);

// True when the run stopped on a non-finite loss or gradient (RunStatus::diverged).
bool diverged(const RunRecord& run);

}  // namespace bnlab::lab

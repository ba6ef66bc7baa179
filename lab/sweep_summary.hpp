// The summary of a sweep: one row per (variant, batch size), with mean ± std over the seeds of the
// final accuracies and losses, the seconds per epoch, and the epoch at which validation accuracy
// first reached the threshold. Read from the runs' records, so `bnlab report` rebuilds it from a
// metrics document alone (run_from_json).
//
//   std::vector<SweepRow> rows = sweep_summary(records, 0.85);
//   fmt::print("{}", sweep_summary_text(rows, 0.85));
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lab/run_stats.hpp"

namespace bnlab::lab {

struct SweepRow {
  std::string variant;  // the run's config.model (the preset; "preset" in the document)
  int64_t batch_size = 0;
  int runs = 0;
  int diverged = 0;
  MeanStd train_acc, val_acc, test_acc;
  MeanStd train_loss, val_loss, test_loss;
  MeanStd epoch_seconds;
  MeanStd threshold_epoch;  // over the seeds that reached the threshold
  int reached = 0;          // how many seeds reached it
};

// Rows in order of first appearance of each (variant, batch size) in `runs`.
std::vector<SweepRow> sweep_summary(const std::vector<RunRecord>& runs, double threshold);

// Two plain-text tables (accuracy; loss and time), for the terminal.
std::string sweep_summary_text(const std::vector<SweepRow>& rows, double threshold);

// {columns: [...], rows: [[...]]} of strings, for the report and the metrics document.
nlohmann::ordered_json sweep_summary_table(const std::vector<SweepRow>& rows, double threshold);

}  // namespace bnlab::lab

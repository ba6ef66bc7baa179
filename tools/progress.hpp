// Progress while training: a live bar on a terminal, one plain line per epoch in a log, nothing
// with --quiet. The bar goes to stderr so stdout stays clean for tables and results.
//
//   ProgressBar bar("plain", cfg.epochs);
//   TrainObserver obs = bar.observer();
//   EpochMetrics m = trainer.train_epoch(mode == ProgressMode::live ? &obs : nullptr);
//   bar.clear();                       // erase the bar before printing the epoch's line
#pragma once

#include <string>

#include "lab/run_job.hpp"
#include "train/trainer.hpp"

namespace bnlab::tool {

enum class ProgressMode {
  quiet,  // nothing
  lines,  // one line per epoch (stderr is not a terminal: a log file, a pipe, a test)
  live,   // a bar redrawn in place while the epoch runs, then the epoch's line
};

// live when stderr is a terminal, else lines; quiet wins.
ProgressMode progress_mode(bool quiet);

class ProgressBar : public lab::RunProgress {
 public:
  // `label` names the run on the bar (the variant in compare); empty shows "epoch".
  ProgressBar(std::string label, int epochs);
  // Erases the bar, so an error message after a failed epoch starts on a clean line.
  ~ProgressBar() { clear(); }
  ProgressBar(const ProgressBar&) = delete;  // the observer hooks point at this object
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Hooks for Trainer::train_epoch; they refer to this bar, which must outlive them.
  TrainObserver observer() override;
  void epoch_done() override { clear(); }
  // Erases the bar line if one is drawn.
  void clear();

 private:
  void draw(int64_t step, int64_t steps, int64_t samples, double seconds, double loss);

  std::string label_;
  int epochs_ = 0;
  int epoch_ = 0;
  int width_ = 80;           // terminal columns: a line longer than this would wrap and defeat \r
  double last_draw_ = -1;    // seconds into the epoch of the last redraw
  bool drawn_ = false;
};

// "epoch 3/10  train loss 0.4123 acc 0.8512  val loss 0.4021 acc 0.8560  12.3s  3900 samples/s"
std::string epoch_line(const EpochMetrics& m, int epochs);

// For the run loop: a bar per job when `mode` is live, none otherwise.
lab::ProgressFactory progress_factory(ProgressMode mode);

}  // namespace bnlab::tool

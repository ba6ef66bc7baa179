// Progress while training, on stderr (the stream of everything bnlab prints for people; stdout
// carries only machine output such as `--json -`): a live bar on a terminal, one plain line per
// epoch in a log, nothing with --quiet.
//
//   Progress progress(progress_mode(quiet));        // one per command: the clock of the whole run
//   RunHooks hooks;
//   hooks.progress = progress.factory();            // a bar per job (live), a clock only (lines)
//   hooks.epoch_done = [&](RunState& r) {
//     fmt::print(stderr, "{}\n", epoch_line(r.record.epochs.back(), r.job->config.epochs, progress.remaining_seconds()));
//   };
//
// The live bar, redrawn at most every 0.1 s and cut to the terminal's width (the least useful parts
// go first: the bar, then samples/s, then ms/step):
//
//   batchnorm 2/10 1200/1500 [############....] loss 0.4123 acc 0.8512 2.1 ms/step 15230 samples/s ETA 0:01 (all 0:52)
//
// "ETA" is the epoch's, "all" the whole command's (every epoch of every run it trains, the
// validation passes included): wall time so far per step taken, times the steps still to take.
#pragma once

#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "lab/run_loop.hpp"
#include "train/trainer.hpp"

namespace bnlab::tool {

enum class ProgressMode {
  quiet,  // nothing
  lines,  // one line per epoch (stderr is not a terminal: a log file, a pipe, a test)
  live,   // a bar redrawn in place while the epoch runs, then the epoch's line
};

// live when stderr is a terminal, else lines; quiet wins.
ProgressMode progress_mode(bool quiet);

// Columns of the terminal on stderr, or `fallback` when stderr is not a terminal.
int terminal_columns(int fallback);

// "0:07", "12:34", "1:02:03"; "?" for a negative or non-finite time.
std::string clock_text(double seconds);

// The steps a command will take, and how long the ones taken took: for the ETA of the whole run.
class RunClock {
 public:
  // A run that will train `epochs` epochs; returns its index.
  size_t add_run(int epochs);
  // Run `run` starts epoch `epoch` (1-based) of `steps` steps.
  void epoch_start(size_t run, int epoch, int64_t steps);
  // Run `run` has taken `step` steps of its current epoch.
  void step(size_t run, int64_t step);
  // Seconds until every run has trained all its epochs; NaN before the first step. A run that has
  // not started yet is counted with the steps per epoch of one that has (the runs of a command
  // share their data and batch size).
  double remaining_seconds() const;

 private:
  struct Run {
    int epochs = 0;
    int epoch = 0;          // the current epoch, 0 = not started
    int64_t steps = 0;      // per epoch, once known
    int64_t step = 0;       // in the current epoch
  };
  std::vector<Run> runs_;
  int64_t taken_ = 0;       // steps taken in this process, over every run
  std::chrono::steady_clock::time_point start_;
};

// The bar of one run (the variant in compare).
class ProgressBar : public lab::RunProgress {
 public:
  // `label` names the run on the bar; empty shows "epoch". `clock` (shared by the bars of one
  // command) adds the whole run's ETA; `live` draws, otherwise the bar only keeps the clock.
  ProgressBar(std::string label, int epochs, std::shared_ptr<RunClock> clock, bool live);
  // Erases the bar, so an error message after a failed epoch starts on a clean line.
  ~ProgressBar() override { clear(); }
  ProgressBar(const ProgressBar&) = delete;  // the observer hooks point at this object
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Hooks for Trainer::train_epoch; they refer to this bar, which must outlive them.
  TrainObserver observer() override;
  void epoch_done() override { clear(); }
  // Erases the bar line if one is drawn.
  void clear();

 private:
  void draw(const StepProgress& p);

  std::string label_;
  int epochs_ = 0;
  int epoch_ = 0;
  std::shared_ptr<RunClock> clock_;
  size_t run_ = 0;           // this run in clock_
  bool live_ = false;
  int width_ = 80;           // terminal columns: a line longer than this would wrap and defeat \r
  double last_draw_ = -1;    // seconds into the epoch of the last redraw
  bool drawn_ = false;
};

// The live line itself (without \r), cut to `width` columns by leaving out the least useful parts;
// `all_eta` NaN leaves out "(all …)". Exposed for the tests.
std::string bar_line(const std::string& label, int epoch, int epochs, const StepProgress& p, double all_eta, int width);

// "epoch 3/10  train loss 0.4123 acc 0.8512  val loss 0.4021 acc 0.8560  12.3s 8.21 ms/step 3900 samples/s  ETA 1:02"
// (`remaining` NaN or 0 leaves out the whole run's ETA). Cut to `width` columns (0: no limit) by
// leaving out samples/s, then ms/step.
std::string epoch_line(const EpochMetrics& m, int epochs, double remaining = std::nan(""), int width = 0);

// The progress of one command: its clock, and a bar per job for the run loop.
class Progress {
 public:
  explicit Progress(ProgressMode mode) : mode_(mode) {}
  ProgressMode mode() const { return mode_; }
  // Bars named after the jobs, or all labelled "epoch" (train, one job) when !named; {} when quiet.
  lab::ProgressFactory factory(bool named = true);
  // The whole command's ETA (RunClock::remaining_seconds).
  double remaining_seconds() const { return clock_->remaining_seconds(); }
  // The width epoch lines are cut to: the terminal's when live, none in a log.
  int line_width() const { return mode_ == ProgressMode::live ? terminal_columns(80) : 0; }

 private:
  ProgressMode mode_;
  std::shared_ptr<RunClock> clock_ = std::make_shared<RunClock>();
};

// For the run loops of sweep and study: a bar per job when `mode` is live, none otherwise; without
// "(all …)", as a sweep learns its runs group by group.
lab::ProgressFactory progress_factory(ProgressMode mode);

}  // namespace bnlab::tool

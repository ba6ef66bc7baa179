#include "tools/progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <limits>

#include <fmt/format.h>

#include "lab/numbers.hpp"

namespace bnlab::tool {

using lab::fixed;

namespace {

// Redrawing more often than this only costs time (each redraw is a write to the terminal).
constexpr double kRedrawInterval = 0.1;
constexpr int kBarCells = 16;

std::string rate_text(double samples_per_second) { return fmt::format("{:.0f} samples/s", samples_per_second); }

// "2.1 ms/step", "41 ms/step": three significant digits are plenty.
std::string step_time_text(double seconds_per_step) {
  const double ms = 1000 * seconds_per_step;
  return fmt::format("{:.{}f} ms/step", ms, ms < 10 ? 2 : ms < 100 ? 1 : 0);
}

// A line made of parts, each with the rank at which it is left out when the line is too wide
// (0: never); `width` 0 is no limit.
struct Part {
  std::string text;
  int drop = 0;
};

std::string fitted(std::vector<Part> parts, int width, const char* separator = " ") {
  const auto joined = [&] {
    std::string line;
    for (const Part& part : parts) line += (line.empty() ? "" : separator) + part.text;
    return line;
  };
  std::string line = joined();
  if (width <= 0) return line;
  // One column short of the width: a line that fills the last column wraps on some terminals.
  const size_t fits = static_cast<size_t>(width - 1);
  int last = 0;
  for (const Part& part : parts) last = std::max(last, part.drop);
  for (int rank = 1; line.size() > fits && rank <= last; ++rank) {
    std::erase_if(parts, [&](const Part& part) { return part.drop == rank; });
    line = joined();
  }
  if (line.size() > fits) line.resize(fits);
  return line;
}

}  // namespace

ProgressMode progress_mode(bool quiet) {
  if (quiet) return ProgressMode::quiet;
  return isatty(STDERR_FILENO) ? ProgressMode::live : ProgressMode::lines;
}

int terminal_columns(int fallback) {
  winsize ws{};
  if (isatty(STDERR_FILENO) && ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return fallback;
}

std::string clock_text(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<long>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

// ---- RunClock -----------------------------------------------------------------------------------

size_t RunClock::add_run(int epochs) {
  runs_.push_back({.epochs = epochs});
  return runs_.size() - 1;
}

void RunClock::epoch_start(size_t run, int epoch, int64_t steps) {
  if (taken_ == 0) start_ = std::chrono::steady_clock::now();
  Run& r = runs_.at(run);
  r.epoch = epoch;
  r.steps = steps;
  r.step = 0;
}

void RunClock::step(size_t run, int64_t step) {
  Run& r = runs_.at(run);
  taken_ += step - r.step;
  r.step = step;
}

double RunClock::remaining_seconds() const {
  if (taken_ == 0) return std::numeric_limits<double>::quiet_NaN();
  int64_t known_steps = 0;  // steps per epoch of a run that has started
  for (const Run& r : runs_)
    if (r.steps > 0) known_steps = r.steps;
  int64_t left = 0;
  for (const Run& r : runs_) {
    if (r.epoch == 0)
      left += static_cast<int64_t>(r.epochs) * known_steps;
    else
      left += static_cast<int64_t>(r.epochs - r.epoch) * r.steps + (r.steps - r.step);
  }
  // Wall time, not the steps' own: it includes the validation passes and the other runs' epochs.
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return elapsed / static_cast<double>(taken_) * static_cast<double>(left);
}

// ---- the bar --------------------------------------------------------------------------------------

std::string bar_line(const std::string& label, int epoch, int epochs, const StepProgress& p, double all_eta, int width) {
  const double done = p.steps > 0 ? static_cast<double>(p.step) / static_cast<double>(p.steps) : 1.0;
  const int cells = std::clamp(static_cast<int>(done * kBarCells), 0, kBarCells);
  const double per_step = p.step > 0 ? p.seconds / static_cast<double>(p.step) : 0;
  const double eta = per_step * static_cast<double>(p.steps - p.step);
  std::vector<Part> parts = {
      {fmt::format("{} {}/{} {}/{}", label.empty() ? "epoch" : label, epoch, epochs, p.step, p.steps), 0},
      {fmt::format("[{}{}]", std::string(static_cast<size_t>(cells), '#'), std::string(static_cast<size_t>(kBarCells - cells), '.')), 1},
      {fmt::format("loss {} acc {}", fixed(p.loss, 4), fixed(p.acc, 4)), 0},
      {step_time_text(per_step), 3},
      {rate_text(p.seconds > 0 ? static_cast<double>(p.samples) / p.seconds : 0), 2},
      {"ETA " + clock_text(eta), 0},
  };
  if (std::isfinite(all_eta)) parts.push_back({"(all " + clock_text(all_eta) + ")", 4});
  return fitted(std::move(parts), std::max(width, 1));
}

ProgressBar::ProgressBar(std::string label, int epochs, std::shared_ptr<RunClock> clock, bool live)
    : label_(std::move(label)), epochs_(epochs), clock_(std::move(clock)), live_(live), width_(terminal_columns(80)) {
  if (clock_) run_ = clock_->add_run(epochs);
}

TrainObserver ProgressBar::observer() {
  TrainObserver o;
  o.epoch_start = [this](int epoch, int64_t steps) {
    epoch_ = epoch;
    last_draw_ = -1;
    if (clock_) clock_->epoch_start(run_, epoch, steps);
  };
  o.step = [this](const StepProgress& p) {
    if (clock_) clock_->step(run_, p.step);
    if (live_ && (p.step == p.steps || last_draw_ < 0 || p.seconds - last_draw_ >= kRedrawInterval)) {
      last_draw_ = p.seconds;
      draw(p);
    }
  };
  return o;
}

void ProgressBar::draw(const StepProgress& p) {
  const double all = clock_ ? clock_->remaining_seconds() : std::numeric_limits<double>::quiet_NaN();
  const std::string line = bar_line(label_, epoch_, epochs_, p, all, width_);
  // \r and erase-to-end-of-line: the new text may be shorter than the old.
  std::fprintf(stderr, "\r%s\033[K", line.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::clear() {
  if (!drawn_) return;
  std::fputs("\r\033[K", stderr);
  std::fflush(stderr);
  drawn_ = false;
}

std::string epoch_line(const EpochMetrics& m, int epochs, double remaining, int width) {
  std::vector<Part> parts = {
      {fmt::format("epoch {}/{}", m.epoch, epochs)},
      {fmt::format("train loss {} acc {}", fixed(m.train_loss, 4), fixed(m.train_acc, 4))},
      {fmt::format("val loss {} acc {}", fixed(m.val_loss, 4), fixed(m.val_acc, 4))},
      // Short epochs (small data) would all read "0.0s" with one decimal.
      {fmt::format("{}s", fixed(m.seconds, m.seconds < 10 ? 2 : 1))},
      {step_time_text(m.steps > 0 ? m.seconds / static_cast<double>(m.steps) : 0), 2},
      {rate_text(m.samples_per_second), 1},
  };
  if (std::isfinite(remaining) && remaining > 0) parts.push_back({"ETA " + clock_text(remaining)});
  if (m.skipped_steps > 0) parts.push_back({fmt::format("{} non-finite steps skipped", m.skipped_steps)});
  // Seconds, time per step and rate read as one group: "2.68s 53.5 ms/step 598 samples/s".
  for (size_t i = 0; i < parts.size(); ++i) {
    const bool grouped = i >= 4 && i <= 5;
    parts[i].text = (i == 0 ? "" : grouped ? " " : "  ") + parts[i].text;
  }
  return fitted(std::move(parts), width, "");
}

lab::ProgressFactory Progress::factory(bool named) {
  if (mode_ == ProgressMode::quiet) return {};
  return [clock = clock_, live = mode_ == ProgressMode::live, named](const std::string& name, int epochs) -> std::unique_ptr<lab::RunProgress> {
    return std::make_unique<ProgressBar>(named ? name : "", epochs, clock, live);
  };
}

lab::ProgressFactory progress_factory(ProgressMode mode) {
  if (mode != ProgressMode::live) return {};
  return [](const std::string& name, int epochs) -> std::unique_ptr<lab::RunProgress> {
    return std::make_unique<ProgressBar>(name, epochs, nullptr, true);
  };
}

}  // namespace bnlab::tool

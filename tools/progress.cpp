#include "tools/progress.hpp"

#include <memory>

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

#include "lab/numbers.hpp"

namespace bnlab::tool {

using lab::fixed;

namespace {

// Redrawing more often than this only costs time (each redraw is a write to the terminal).
constexpr double kRedrawInterval = 0.1;
constexpr int kBarCells = 16;

std::string clock_text(double seconds) {
  const auto s = static_cast<long>(std::max(0.0, seconds) + 0.5);
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

int terminal_width() {
  winsize ws{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

}  // namespace

ProgressMode progress_mode(bool quiet) {
  if (quiet) return ProgressMode::quiet;
  return isatty(STDERR_FILENO) ? ProgressMode::live : ProgressMode::lines;
}

ProgressBar::ProgressBar(std::string label, int epochs)
    : label_(std::move(label)), epochs_(epochs), width_(terminal_width()) {}

TrainObserver ProgressBar::observer() {
  TrainObserver o;
  o.epoch_start = [this](int epoch, int64_t) {
    epoch_ = epoch;
    last_draw_ = -1;
  };
  o.step = [this](int64_t step, int64_t steps, int64_t samples, double seconds, double loss) {
    if (step == steps || last_draw_ < 0 || seconds - last_draw_ >= kRedrawInterval) {
      last_draw_ = seconds;
      draw(step, steps, samples, seconds, loss);
    }
  };
  return o;
}

void ProgressBar::draw(int64_t step, int64_t steps, int64_t samples, double seconds, double loss) {
  const double done = steps > 0 ? static_cast<double>(step) / static_cast<double>(steps) : 1.0;
  const int cells = static_cast<int>(done * kBarCells);
  const double rate = seconds > 0 ? static_cast<double>(samples) / seconds : 0;
  const double eta = step > 0 ? seconds / static_cast<double>(step) * static_cast<double>(steps - step) : 0;
  // Kept under 80 columns for the longest preset name: "batchnorm 10/10 [####…] 100% 25263 samples/s …".
  std::string line = fmt::format("{} {}/{} [{}{}] {:3.0f}% {:.0f} samples/s ETA {} loss {}", label_.empty() ? "epoch" : label_,
                                 epoch_, epochs_, std::string(static_cast<size_t>(cells), '#'),
                                 std::string(static_cast<size_t>(kBarCells - cells), '.'), 100 * done, rate, clock_text(eta),
                                 fixed(loss, 4));
  if (static_cast<int>(line.size()) >= width_) line.resize(static_cast<size_t>(std::max(width_ - 1, 0)));
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

std::string epoch_line(const EpochMetrics& m, int epochs) {
  // Short epochs (small data) would all read "0.0s" with one decimal.
  std::string line = fmt::format("epoch {}/{}  train loss {} acc {}  val loss {} acc {}  {}s  {:.0f} samples/s", m.epoch,
                                 epochs, fixed(m.train_loss, 4), fixed(m.train_acc, 4), fixed(m.val_loss, 4),
                                 fixed(m.val_acc, 4), fixed(m.seconds, m.seconds < 10 ? 2 : 1), m.samples_per_second);
  if (m.skipped_steps > 0) line += fmt::format("  {} non-finite steps skipped", m.skipped_steps);
  return line;
}

lab::ProgressFactory progress_factory(ProgressMode mode) {
  if (mode != ProgressMode::live) return {};
  return [](const std::string& name, int epochs) -> std::unique_ptr<lab::RunProgress> {
    return std::make_unique<ProgressBar>(name, epochs);
  };
}

}  // namespace bnlab::tool

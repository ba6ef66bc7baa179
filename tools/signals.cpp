#include "tools/signals.hpp"

#include <csignal>
#include <cstdio>

namespace bnlab::tool {

namespace {

volatile std::sig_atomic_t g_signal = 0;

extern "C" void on_signal(int signal) {
  // Async-signal-safe: one store. SA_RESETHAND has already put the default action back, so a
  // second Ctrl-C ends the process at once.
  g_signal = signal;
}

struct sigaction g_old_int {}, g_old_term {};

}  // namespace

InterruptGuard::InterruptGuard() {
  g_signal = 0;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND | SA_RESTART;
  sigaction(SIGINT, &sa, &g_old_int);
  sigaction(SIGTERM, &sa, &g_old_term);
}

InterruptGuard::~InterruptGuard() {
  sigaction(SIGINT, &g_old_int, nullptr);
  sigaction(SIGTERM, &g_old_term, nullptr);
}

int interrupt_signal() { return g_signal; }
bool interrupt_requested() { return g_signal != 0; }

std::string signal_name(int signal) {
  if (signal == SIGINT) return "SIGINT";
  if (signal == SIGTERM) return "SIGTERM";
  return "signal " + std::to_string(signal);
}

int interrupted_exit_status() { return 128 + (g_signal != 0 ? static_cast<int>(g_signal) : SIGINT); }

void warn(const std::string& message) {
  std::fprintf(stderr, "bnlab: warning: %s\n", message.c_str());
  std::fflush(stderr);
}

}  // namespace bnlab::tool

// Ctrl-C and kill while a command trains: the first SIGINT or SIGTERM only sets a flag that the
// trainer polls before each step (TrainObserver::should_stop), so the command can save the last
// completed epoch and exit with the shell's status for that signal. And the warning line.
#pragma once

#include <string>

namespace bnlab::tool {

// While one exists, the first SIGINT or SIGTERM sets a flag instead of ending the process; a second
// one ends it at once (the handler resets itself). The destructor restores the previous handlers.
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
};

// The signal that arrived while a guard was installed (0 if none).
int interrupt_signal();
bool interrupt_requested();
// "SIGINT", "SIGTERM".
std::string signal_name(int signal);
// The shell's convention for a process ended by a signal: 128 + the signal number (130, 143).
int interrupted_exit_status();

// One line on stderr, "bnlab: warning: …".
void warn(const std::string& message);

}  // namespace bnlab::tool

#include "lab/dir_lock.hpp"
#include "lab/utc_time.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "graph/errors.hpp"

namespace bnlab::lab {

namespace {

using json = nlohmann::ordered_json;

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

std::string read_all(int fd) {
  std::string text;
  char buf[4096];
  for (off_t at = 0;;) {
    const ssize_t n = pread(fd, buf, sizeof buf, at);
    if (n <= 0) return text;
    text.append(buf, static_cast<size_t>(n));
    at += n;
  }
}

// "bnlab sweep, pid 1234 on host h, started …", or "" when the file does not (yet) describe its
// holder.
std::string holder_of(int fd) {
  // The holder writes its description just after it takes the lock: a reader that comes in
  // between sees an empty file, so it looks again for a moment.
  for (int attempt = 0; attempt < 10; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const json d = json::parse(read_all(fd), nullptr, false);
    if (!d.is_object() || !d.contains("pid")) continue;
    return fmt::format("{}, pid {} on host {}, started {}", d.value("command", std::string("another process")),
                       d["pid"].is_number() ? d["pid"].dump() : std::string("?"), d.value("host", std::string("?")),
                       d.value("started", std::string("?")));
  }
  return "";
}

}  // namespace

DirLock::DirLock(const std::string& dir, const std::string& command)
    : path_((std::filesystem::path(dir) / ".lock").string()) {
  // O_CLOEXEC: a child process (gnuplot) must not inherit the lock and keep it after we exit.
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw UsageError(path_ + ": cannot create the lock file of " + dir + ": " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    std::string holder = err == EWOULDBLOCK ? holder_of(fd_) : "";
    ::close(fd_);
    fd_ = -1;
    if (err != EWOULDBLOCK) throw UsageError(path_ + ": cannot lock the run directory " + dir + ": " + std::strerror(err));
    if (holder.empty()) holder = "another process (" + path_ + " is locked)";
    throw UsageError(dir + " is in use by " + holder + "; wait for it or choose another --out");
  }
  // Written in place, not through the atomic writer: a rename would put a new, unlocked file at the
  // path, which a third process could lock while this one holds the old one. Only this process
  // writes it while it holds the lock; a failure to describe ourselves leaves the lock valid.
  const std::string text = json{{"pid", static_cast<long long>(::getpid())},
                                {"host", host_name()},
                                {"command", command},
                                {"started", utc_now()}}
                               .dump() +
                           "\n";
  if (::ftruncate(fd_, 0) == 0) {
    [[maybe_unused]] const ssize_t n = ::pwrite(fd_, text.data(), text.size(), 0);
  }
}

DirLock::~DirLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace bnlab::lab

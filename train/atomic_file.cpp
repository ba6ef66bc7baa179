#include "train/atomic_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

#include "graph/errors.hpp"

namespace bnlab {

namespace fs = std::filesystem;

namespace {

std::string errno_text() { return std::strerror(errno); }

// Makes a rename in `path`'s directory durable. NOTE: best effort — some file systems refuse fsync
// on a directory, and the new file is in place by now either way.
void sync_directory_of(const std::string& path) {
  std::string dir = fs::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

}  // namespace

void check_output_path(const std::string& flag, const std::string& path) {
  if (path.empty()) throw UsageError(flag + ": the path is empty");
  const fs::path p(path);
  const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw UsageError(flag + " " + path + ": directory " + dir.string() + " does not exist");
  if (fs::is_directory(p, ec)) throw UsageError(flag + " " + path + ": is a directory");
  // Probe with the temporary name the final write will use, so permission problems show up now
  // rather than after a long training run.
  const std::string probe = path + ".tmp";
  std::FILE* f = std::fopen(probe.c_str(), "wb");
  if (!f) throw UsageError(flag + " " + path + ": cannot create " + probe + ": " + errno_text());
  std::fclose(f);
  fs::remove(probe, ec);
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp") {
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd_ < 0) throw RuntimeError("cannot write " + path_ + ": cannot create " + tmp_ + ": " + errno_text());
}

AtomicFile::~AtomicFile() {
  if (committed_ || fd_ < 0) return;
  ::close(fd_);
  ::unlink(tmp_.c_str());
}

void AtomicFile::fail(const std::string& why) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(tmp_.c_str());
  throw RuntimeError("cannot write " + path_ + ": " + why);
}

void AtomicFile::write(std::string_view bytes) {
  const char* p = bytes.data();
  size_t n = bytes.size();
  while (n > 0) {
    const ssize_t w = ::write(fd_, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) fail(errno_text());  // a full disk shows up here (or at fsync)
    p += w;
    n -= static_cast<size_t>(w);
  }
}

void AtomicFile::commit() {
  if (::fsync(fd_) != 0) fail("cannot fsync " + tmp_ + ": " + errno_text());
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail(errno_text());
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) fail("renaming " + tmp_ + " failed: " + errno_text());
  committed_ = true;
  sync_directory_of(path_);
}

void write_file_atomically(const std::string& path, std::string_view content) {
  AtomicFile f(path);
  f.write(content);
  f.commit();
}

}  // namespace bnlab

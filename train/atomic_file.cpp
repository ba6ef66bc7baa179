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

// The descriptor `path` names — /dev/stdout 1, /dev/stderr 2, /dev/fd/N and /proc/self/fd/N N — or -1.
int own_descriptor(const std::string& path) {
  const std::string p = fs::path(path).lexically_normal().string();
  if (p == "/dev/stdout") return 1;
  if (p == "/dev/stderr") return 2;
  for (const char* prefix : {"/dev/fd/", "/proc/self/fd/"}) {
    const std::string pre = prefix;
    if (p.rfind(pre, 0) != 0 || p.size() == pre.size()) continue;
    const std::string n = p.substr(pre.size());
    if (n.find_first_not_of("0123456789") != std::string::npos || n.size() > 6) return -1;
    return std::stoi(n);
  }
  return -1;
}

// What `path` names once its symbolic links are followed: the file a rename must replace (a link is
// kept and the file it points to replaced), or a destination that is written in place.
struct Destination {
  std::string file;     // where the bytes go: `path`, or the end of its chain of links
  bool direct = false;  // a pipe, a terminal, a character device, a socket: opened and written as is
};

Destination destination_of(const std::string& path) {
  // A process's own descriptors (/dev/stdout → /proc/self/fd/1): written in place even when the
  // descriptor is a regular file — renaming over that file would detach it from the descriptor,
  // and whatever else the process prints there would go to a deleted file.
  const std::string normal = fs::path(path).lexically_normal().string();
  for (const char* prefix : {"/dev/stdout", "/dev/stderr", "/dev/fd/", "/proc/"})
    if (normal.rfind(prefix, 0) == 0) return {path, true};
  std::error_code ec;
  const fs::file_status followed = fs::status(path, ec);  // follows links
  if (!ec && fs::exists(followed) && !fs::is_regular_file(followed) && !fs::is_directory(followed))
    return {path, true};  // /dev/stdout, a FIFO, /dev/null: never renamed over
  if (!fs::is_symlink(fs::symlink_status(path, ec))) return {path, false};
  // A link to a file (or a dangling one): replace the file it points to, keep the link. Followed
  // hop by hop: canonical() needs the target to exist, and weakly_canonical() stops at a dangling
  // link and would return the link itself.
  fs::path at = fs::absolute(path);
  for (int hop = 0; hop < 40 && fs::is_symlink(fs::symlink_status(at, ec)); ++hop) {
    const fs::path next = fs::read_symlink(at, ec);
    if (ec) return {path, false};
    at = next.is_absolute() ? next : at.parent_path() / next;
  }
  const fs::path resolved = fs::weakly_canonical(at, ec);
  return {ec ? at.lexically_normal().string() : resolved.string(), false};
}

}  // namespace

bool written_in_place(const std::string& path) { return destination_of(path).direct; }

void check_output_path(const std::string& flag, const std::string& path) {
  if (path.empty()) throw UsageError(flag + ": the path is empty");
  const fs::path p(path);
  const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw UsageError(flag + " " + path + ": directory " + dir.string() + " does not exist");
  if (fs::is_directory(p, ec)) throw UsageError(flag + " " + path + ": is a directory");
  const Destination d = destination_of(path);
  if (d.direct) {
    if (::access(path.c_str(), W_OK) != 0) throw UsageError(flag + " " + path + ": not writable: " + errno_text());
    return;
  }
  const fs::path target_dir = fs::path(d.file).parent_path().empty() ? fs::path(".") : fs::path(d.file).parent_path();
  if (!fs::is_directory(target_dir, ec))
    throw UsageError(flag + " " + path + ": it links to " + d.file + ", whose directory does not exist");
  // Probe with the temporary name the final write will use, so permission problems show up now
  // rather than after a long training run.
  const std::string probe = d.file + ".tmp";
  std::FILE* f = std::fopen(probe.c_str(), "wb");
  if (!f) throw UsageError(flag + " " + path + ": cannot create " + probe + ": " + errno_text());
  std::fclose(f);
  fs::remove(probe, ec);
}

void prepare_output_dir(const std::string& flag, const std::string& dir) {
  if (dir.empty()) throw UsageError(flag + ": the path is empty");
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return;
  if (fs::exists(fs::symlink_status(dir, ec))) throw UsageError(flag + " " + dir + ": is not a directory");
  std::string trimmed = dir;  // "out/" is the folder "out", whose parent is "."
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  const fs::path parent = fs::path(trimmed).parent_path();
  const fs::path above = parent.empty() ? fs::path(".") : parent;
  if (!fs::is_directory(above, ec))
    throw UsageError(flag + " " + dir + ": directory " + above.string() + " does not exist (bnlab creates " + trimmed +
                     ", not the folders above it)");
  if (!fs::create_directory(trimmed, ec) && !fs::is_directory(trimmed))
    throw UsageError(flag + " " + dir + ": cannot create the directory: " + ec.message());
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  const Destination d = destination_of(path_);
  if (d.direct) {
    // A pipe or a device is written in place: there is nothing to rename, and a rename would
    // replace the pipe or the device node itself with a regular file.
    direct_ = true;
    if (const int own = own_descriptor(path_); own >= 0) {
      // The process's own stdout or stderr: the same open file, at its current offset, after what
      // was printed there before (opening /proc/self/fd/1 anew would start a regular file at 0).
      std::fflush(nullptr);
      fd_ = ::dup(own);
      if (fd_ < 0) throw RuntimeError("cannot write " + path_ + ": " + errno_text());
      return;
    }
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd_ < 0) throw RuntimeError("cannot write " + path_ + ": " + errno_text());
    return;
  }
  target_ = d.file;
  tmp_ = target_ + ".tmp";
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd_ < 0) throw RuntimeError("cannot write " + path_ + ": cannot create " + tmp_ + ": " + errno_text());
}

AtomicFile::~AtomicFile() {
  if (committed_ || fd_ < 0) return;
  ::close(fd_);
  if (!direct_) ::unlink(tmp_.c_str());
}

void AtomicFile::fail(const std::string& why) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!direct_) ::unlink(tmp_.c_str());
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
  if (direct_) {
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail(errno_text());
    committed_ = true;
    return;
  }
  if (::fsync(fd_) != 0) fail("cannot fsync " + tmp_ + ": " + errno_text());
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail(errno_text());
  if (::rename(tmp_.c_str(), target_.c_str()) != 0) fail("renaming " + tmp_ + " failed: " + errno_text());
  committed_ = true;
  sync_directory_of(target_);
}

void publish_file(const std::string& written, const std::string& path) {
  const auto fail = [&](const std::string& why) {
    std::error_code ec;
    fs::remove(written, ec);
    throw RuntimeError("cannot write " + path + ": " + why);
  };
  const int fd = ::open(written.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("cannot open " + written + ": " + errno_text());
  const bool synced = ::fsync(fd) == 0;
  const std::string why = synced ? "" : "cannot fsync " + written + ": " + errno_text();
  ::close(fd);
  if (!synced) fail(why);
  const std::string target = destination_of(path).file;
  if (::rename(written.c_str(), target.c_str()) != 0) fail("renaming " + written + " failed: " + errno_text());
  sync_directory_of(target);
}

void write_file_atomically(const std::string& path, std::string_view content) {
  AtomicFile f(path);
  f.write(content);
  f.commit();
}

}  // namespace bnlab

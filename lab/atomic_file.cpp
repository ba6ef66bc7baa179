#include "lab/atomic_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "graph/errors.hpp"

namespace bnlab::lab {

namespace fs = std::filesystem;

namespace {

std::string errno_text() { return std::strerror(errno); }

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

void write_file_atomically(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw RuntimeError("cannot write " + path + ": cannot create " + tmp + ": " + errno_text());
  const bool written = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  const int write_errno = errno;
  // fclose flushes: a full disk may only show up here.
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed) {
    const std::string why = std::strerror(written ? errno : write_errno);
    std::error_code ec;
    fs::remove(tmp, ec);
    throw RuntimeError("cannot write " + path + ": " + why);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw RuntimeError("cannot write " + path + ": renaming " + tmp + " failed: " + ec.message());
  }
}

}  // namespace bnlab::lab

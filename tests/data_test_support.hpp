// Helpers for the data tests: a self-removing temp folder and writers for raw, gzipped and IDX
// files, so every test builds exactly the bytes it needs.
//
//   TempDir dir;                                            // removed at scope exit
//   write_bytes(dir / "x.idx", idx_bytes({2, 3}, {1, 2, 3, 4, 5, 6}));
//   write_gzip(dir / "x.idx.gz", idx_bytes({2}, {0, 1}));
#pragma once

#include <doctest/doctest.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

namespace bnlab::test {

using Bytes = std::vector<uint8_t>;

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    // pid + time + counter: suites run in parallel under ctest -j and must not share folders.
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    path_ = std::filesystem::temp_directory_path() /
            ("bnlab-data-test-" + std::to_string(::getpid()) + "-" + std::to_string(stamp) + "-" +
             std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline void write_bytes(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

inline void write_text(const std::string& path, const std::string& text) {
  write_bytes(path, Bytes(text.begin(), text.end()));
}

inline void write_gzip(const std::string& path, const Bytes& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot write " + path);
  if (!bytes.empty() && gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) <= 0)
    throw std::runtime_error("gzwrite failed for " + path);
  gzclose(f);
}

inline Bytes read_raw(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// An IDX ubyte file: magic 00 00 08 rank, big-endian dims, then the values.
inline Bytes idx_bytes(const std::vector<uint32_t>& dims, const Bytes& values) {
  Bytes out = {0, 0, 0x08, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(d >> shift));
  out.insert(out.end(), values.begin(), values.end());
  return out;
}

// The message of the E that f throws; another exception type propagates and fails the test.
template <class E, class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  FAIL_CHECK("no exception was thrown");
  return "";
}

// Every error is one line that names where it happened: check each expected part appears.
inline void check_mentions(const std::string& message, std::initializer_list<std::string> parts) {
  CHECK_MESSAGE(message.find('\n') == std::string::npos, message);
  for (const auto& part : parts) CHECK_MESSAGE(message.find(part) != std::string::npos, "'" << part << "' not in: " << message);
}

}  // namespace bnlab::test

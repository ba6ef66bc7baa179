// Helpers for the end-to-end suites that run the `bnlab` binary (test_cli, test_cli_errors,
// test_cli_checkpoint): run it with stdout and stderr captured, start it in the background (to
// signal it), read what it wrote, and write small IDX datasets to run it on.
//
//   bnlab::test::TempDir dir;
//   write_mnist_like(dir.path().string(), {.train = 60, .test = 20, .side = 4});
//   Run r = run_bnlab("train --dataset mnist --data-dir " + dir.path().string() + " --epochs 1", dir);
//   CHECK(r.status == 0);
#pragma once

#include <doctest/doctest.h>

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data_test_support.hpp"

extern char** environ;

namespace bnlab::test {

namespace fs = std::filesystem;
using nlohmann::json;

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

inline bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

struct Run {
  int status = -1;
  std::string out, err;
  std::vector<std::string> new_tmp_files;  // *.tmp files in the test's folder that the run left behind
};

inline std::vector<std::string> leftover_tmp_files(const fs::path& dir);

// The exit status the sanitizer build's runtime options give a sanitizer report (exitcode=99 in
// ASAN_OPTIONS and UBSAN_OPTIONS: scripts/test-sanitize, tests/CMakeLists.txt), distinct from every
// status bnlab itself uses (0, 1, 2, 130, 143). Every child this header runs is checked against it,
// so a test that expects a failing status cannot pass on a sanitizer's report instead.
constexpr int kSanitizerExitCode = 99;
inline void check_no_sanitizer_report(int status, const std::string& err) {
  if (status == kSanitizerExitCode) FAIL_CHECK("bnlab exited with the sanitizer's status " << status << ":\n" << err);
}

// Runs `command` through the shell with stdin from /dev/null and stdout and stderr captured in files
// of `dir` (the tests' commands are trusted strings; paths have no spaces).
inline Run run_shell(const std::string& command, const TempDir& dir) {
  const std::string out = dir / "stdout.txt", err = dir / "stderr.txt";
  const std::vector<std::string> tmp_before = leftover_tmp_files(dir.path());
  const int raw = std::system((command + " >" + out + " 2>" + err + " </dev/null").c_str());
  Run r;
  for (const std::string& f : leftover_tmp_files(dir.path()))
    if (std::find(tmp_before.begin(), tmp_before.end(), f) == tmp_before.end()) r.new_tmp_files.push_back(f);
  r.status = raw != -1 && WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = read_text(out);
  r.err = read_text(err);
  fs::remove(out);
  fs::remove(err);
  check_no_sanitizer_report(r.status, r.err);
  return r;
}

// `bnlab <args>`.
inline Run run_bnlab(const std::string& args, const TempDir& dir) { return run_shell(std::string(BNLAB_TOOL_PATH) + " " + args, dir); }

// Starts `bnlab <args...>` directly (no shell, so a signal reaches bnlab itself), stdout and stderr
// to the given files, in the folder `cwd` if given; with `own_group`, in a process group of its own
// whose id is the child's pid (kill(-pid, …) then reaches gnuplot too). Returns the child's pid.
inline pid_t spawn_bnlab(const std::vector<std::string>& args, const std::string& out, const std::string& err,
                         const std::string& cwd = "", bool own_group = false) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  if (own_group) {
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
  }
  std::vector<std::string> all = {BNLAB_TOOL_PATH};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, BNLAB_TOOL_PATH, &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  REQUIRE(rc == 0);
  return pid;
}

// The exit status of a finished child, -signal if a signal ended it.
inline int wait_status(pid_t pid) {
  int raw = 0;
  if (waitpid(pid, &raw, 0) != pid) return -1000;
  if (WIFEXITED(raw)) {
    check_no_sanitizer_report(WEXITSTATUS(raw), "(its stderr went to the file the test gave spawn_bnlab)");
    return WEXITSTATUS(raw);
  }
  if (WIFSIGNALED(raw)) return -WTERMSIG(raw);
  return -1000;
}

inline json read_json(const std::string& path) { return json::parse(read_text(path)); }

// The metrics with the fields that legitimately differ between identical runs (times) removed.
inline json without_times(json doc) {
  for (auto& run : doc["runs"]) {
    run.erase("total_seconds");
    for (auto& e : run["epochs"]) {
      e.erase("seconds");
      e.erase("samples_per_second");
    }
  }
  return doc;
}

// A sweep's metrics document without times: without_times, and the summary's seconds-per-epoch column.
inline json without_sweep_times(json doc) {
  json& summary = doc["sweep"]["summary"];
  const auto& columns = summary["columns"];
  for (size_t c = 0; c < columns.size(); ++c)
    if (columns[c] == "s/epoch") {
      summary["columns"].erase(c);
      for (auto& row : summary["rows"]) row.erase(c);
      break;
    }
  return without_times(doc);
}

// Files in `dir` whose name ends in ".tmp" (a write that was not completed).
inline std::vector<std::string> leftover_tmp_files(const fs::path& dir) {
  std::vector<std::string> found;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().extension() == ".tmp") found.push_back(e.path().string());
  return found;
}

// A copy of the dataset folder `from` at `to`, with `file` replaced by `bytes` (gzipped when asked:
// FILE.gz) — one broken file among good ones. Returns `to`.
inline std::string dataset_variant(const std::string& from, const std::string& to, const std::string& file, const Bytes& bytes,
                                   bool gzip) {
  fs::create_directories(to);
  for (const auto& e : fs::directory_iterator(from)) fs::copy_file(e.path(), to + "/" + e.path().filename().string());
  fs::remove(to + "/" + file);
  fs::remove(to + "/" + file + ".gz");
  if (gzip)
    write_gzip(to + "/" + file + ".gz", bytes);
  else
    write_bytes(to + "/" + file, bytes);
  return to;
}

// None of `outputs` exists, and no temporary file anywhere in `dir`.
inline void check_not_written(std::initializer_list<std::string> outputs, const fs::path& dir) {
  for (const std::string& o : outputs) CHECK_MESSAGE(!fs::exists(o), o << " was written");
  CHECK(leftover_tmp_files(dir).empty());
}

// The catalogue of bad inputs (scripts/test prints it): with BNLAB_BAD_INPUT_LOG set, each refused
// input appends "suite<TAB>status<TAB>message" to that file. One write(2) of one short line on an
// O_APPEND descriptor, so the suites that ctest runs side by side never interleave their lines.
inline void record_bad_input(const Run& r) {
  const char* log = std::getenv("BNLAB_BAD_INPUT_LOG");
  if (log == nullptr || *log == '\0') return;
  std::string line = std::string(program_invocation_short_name) + "\t" + std::to_string(r.status) + "\t" +
                     (lines_of(r.err).empty() ? std::string() : lines_of(r.err).front());
  for (char& c : line)
    if (c == '\n') c = ' ';
  line += "\n";
  const int fd = ::open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  (void)!::write(fd, line.data(), line.size());
  ::close(fd);
}

// Exit status `status`, exactly one line on stderr, starting "bnlab: error: " and naming each part,
// and no temporary file left behind (no output half-written); recorded in the catalogue.
inline void check_error(const Run& r, int status, std::initializer_list<std::string> parts) {
  CAPTURE(r.err);
  CHECK(r.status == status);
  CHECK_MESSAGE(r.new_tmp_files.empty(), "left behind: " << (r.new_tmp_files.empty() ? "" : r.new_tmp_files.front()));
  const auto lines = lines_of(r.err);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].rfind("bnlab: error: ", 0) == 0);
  for (const auto& part : parts) CHECK_MESSAGE(contains(lines[0], part), "'" << part << "' not in: " << lines[0]);
  record_bad_input(r);
}

// A checkpoint's header (the JSON after the 8-byte length) and its data section.
struct CheckpointParts {
  json header;
  std::string data;
};
inline CheckpointParts checkpoint_parts(const std::string& path) {
  const std::string bytes = read_text(path);
  REQUIRE(bytes.size() >= 8);
  uint64_t n = 0;
  for (int b = 0; b < 8; ++b) n |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[static_cast<size_t>(b)])) << (8 * b);
  REQUIRE(8 + n <= bytes.size());
  return {json::parse(bytes.substr(8, n)), bytes.substr(8 + n)};
}

// A small MNIST-shaped dataset (IDX files as the mnist dataset reads them): side x side images whose
// mean brightness encodes the label, so a small model learns it. Images gzipped, labels raw.
struct MnistLike {
  uint32_t train = 60;
  uint32_t test = 20;
  uint32_t side = 4;
};
inline void write_mnist_like(const std::string& dir, MnistLike m) {
  uint32_t state = 12345;
  auto next = [&state] {
    state = state * 1103515245u + 12345u;
    return (state >> 16) & 0x7fff;
  };
  auto write_set = [&](const std::string& prefix, uint32_t n) {
    Bytes pixels, labels;
    for (uint32_t i = 0; i < n; ++i) {
      const auto label = static_cast<uint8_t>(next() % 10);
      labels.push_back(label);
      for (uint32_t p = 0; p < m.side * m.side; ++p)
        pixels.push_back(static_cast<uint8_t>(std::min<uint32_t>(255, label * 20 + next() % 60)));
    }
    write_gzip(dir + "/" + prefix + "-images-idx3-ubyte.gz", idx_bytes({n, m.side, m.side}, pixels));
    write_bytes(dir + "/" + prefix + "-labels-idx1-ubyte", idx_bytes({n}, labels));
  };
  write_set("train", m.train);
  write_set("t10k", m.test);
}

}  // namespace bnlab::test

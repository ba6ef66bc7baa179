// Shared by the fuzz targets: the readers take paths, so each input is written to a temporary file
// of this process first; the errors a reader may throw for bad input are accepted, anything else
// aborts so libFuzzer records the input.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <typeinfo>
#include <vector>

#include "graph/errors.hpp"

namespace bnlab_fuzz {

// A file named after the target, this process and `slot`, in $TMPDIR (or /tmp); removed when the
// process exits normally (scripts/fuzz-smoke also runs the targets in a private folder it removes).
class TempFile {
 public:
  TempFile(const char* target, int slot) {
    const char* dir = std::getenv("TMPDIR");
    path_ = std::string(dir && *dir ? dir : "/tmp") + "/bnlab-fuzz-" + target + "-" +
            std::to_string(::getpid()) + "-" + std::to_string(slot);
  }
  ~TempFile() { std::remove(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  const std::string& write(const uint8_t* data, size_t size) {
    std::FILE* f = std::fopen(path_.c_str(), "wb");
    if (!f || (size > 0 && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
      std::perror(path_.c_str());
      std::abort();  // the harness itself failed, not the reader
    }
    return path_;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline bool verbose() {
  static const bool v = [] {
    const char* e = std::getenv("BNLAB_FUZZ_VERBOSE");
    return e && *e && *e != '0';
  }();
  return v;
}

// Calls `f`, catching the exception types Accepted… (printed with BNLAB_FUZZ_VERBOSE=1).
template <class F>
void call_accepting(const char*, F& f) {
  f();
}
template <class First, class... Rest, class F>
void call_accepting(const char* target, F& f) {
  try {
    call_accepting<Rest...>(target, f);
  } catch (const First& e) {
    if (verbose()) std::fprintf(stderr, "%s: %s: %s\n", target, typeid(e).name(), e.what());
  }
}

// Runs `read`; the error types Accepted… (the answers to bad input the reader documents) end the run
// normally, any other exception is a finding: it is printed and the process aborts (libFuzzer then
// saves the input as a crash). With BNLAB_FUZZ_VERBOSE=1 in the environment the accepted errors are
// printed too (to see what a saved input does: `BNLAB_FUZZ_VERBOSE=1 build-fuzz/fuzz_csv FILE`).
template <class... Accepted, class F>
void expect_errors(const char* target, F read) {
  try {
    call_accepting<Accepted...>(target, read);
    if (verbose()) std::fprintf(stderr, "%s: done without error\n", target);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\n==FINDING== %s: unexpected exception of type %s: %s\n", target, typeid(e).name(), e.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "\n==FINDING== %s: unexpected non-std exception\n", target);
    std::abort();
  }
}

// The file readers' answers to a bad file (graph/errors.hpp): InputError for bad input; UsageError
// and RuntimeError are tolerated too.
template <class F>
void expect_clean_errors(const char* target, F read) {
  expect_errors<bnlab::InputError, bnlab::UsageError, bnlab::RuntimeError>(target, read);
}

// A finding that is not an exception: a promise of the code under test that does not hold.
[[noreturn]] inline void finding(const char* target, const std::string& what) {
  std::fprintf(stderr, "\n==FINDING== %s: %s\n", target, what.c_str());
  std::abort();
}

}  // namespace bnlab_fuzz

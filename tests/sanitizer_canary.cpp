// A program with one deliberate bug per argument, built only in the sanitizer build: the
// sanitizer_exit_code tests run it and require the status that scripts/test-sanitize's options give
// a report (99), so a change of options that let reports exit 1 — the status of a diverged training
// run — or not at all would fail the suite.
//   sanitizer_canary heap|leak|ub
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  if (std::strcmp(argv[1], "heap") == 0) {
    volatile int* p = new int[4]{};
    const int i = argc + 2;                 // 4: one past the end
    const int v = p[i];                     // AddressSanitizer: heap-buffer-overflow
    delete[] p;
    return v == 12345 ? 3 : 0;
  }
  if (std::strcmp(argv[1], "leak") == 0) {
    static void* volatile kept;
    kept = std::malloc(64);
    kept = nullptr;                         // LeakSanitizer, at exit
    return 0;
  }
  if (std::strcmp(argv[1], "ub") == 0) {
    volatile int big = INT_MAX;
    const int sum = big + argc;             // UBSan: signed integer overflow
    return sum == 0 ? 3 : 0;
  }
  return 2;
}

// A small fixed pool of worker threads for splitting one kernel's work into contiguous parts.
//
//   bnlab::ThreadPool pool(2);                            // the caller plus one worker
//   bnlab::parallel_for(&pool, rows, 64, [&](int64_t begin, int64_t end) { … rows [begin, end) … });
//
// The split of [0, n) depends only on n, the grain and the pool size, so a kernel that gives every
// output element to exactly one part computes the same numbers on every run with the same thread
// count, whichever thread runs which part. The caller runs part 0 and then claims every part no
// worker has claimed yet, so a worker the OS has not scheduled never holds the caller up: on a busy
// machine the pool degrades to one thread instead of waiting a time slice per kernel. Workers poll
// briefly, then sleep (std::atomic::wait), so an idle pool costs no CPU — on a 2-core machine a
// spinning pool would steal the core the main thread needs.
// NOTE: parallel_for does not allocate; the task is passed as a pointer to the caller's callable.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace bnlab {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls task(part) for part in [0, parts), parts <= size(); the caller runs part 0.
  template <class F>
  void run(int parts, const F& task) {
    if (parts <= 1) { task(0); return; }
    run_erased(parts, [](const void* f, int part) { (*static_cast<const F*>(f))(part); }, &task);
  }

 private:
  using Trampoline = void (*)(const void*, int);
  void run_erased(int parts, Trampoline fn, const void* task);
  void worker_loop();
  // Claims and runs parts of run `run` until none is left.
  void run_parts(uint32_t run);

  std::vector<std::thread> workers_;
  // The current run's claim word: run number (high 32 bits), part count (next 16), next unclaimed
  // part (low 16). A thread claims a part by a compare-exchange that also checks the run number,
  // so a worker that wakes up late can never take a part of a later run.
  std::atomic<uint64_t> claim_{0};
  std::atomic<uint64_t> generation_{0};  // bumped once per run and at shutdown; workers sleep on it
  std::atomic<int> done_{0};             // parts 1.. of the current run finished, by any thread
  std::atomic<bool> stop_{false};
  std::atomic<Trampoline> fn_{nullptr};
  std::atomic<const void*> task_{nullptr};
  uint32_t run_ = 0;
};

// Splits [0, n) into at most pool->size() contiguous ranges of at least `grain` items (fewer parts
// when n is small; serially without a pool) and calls body(begin, end) for each.
template <class F>
void parallel_for(ThreadPool* pool, int64_t n, int64_t grain, const F& body) {
  const int64_t max_parts = pool ? pool->size() : 1;
  const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(max_parts, grain > 0 ? n / grain : max_parts));
  if (parts == 1) { body(int64_t{0}, n); return; }
  pool->run(static_cast<int>(parts), [&](int part) {
    const int64_t begin = n * part / parts, end = n * (part + 1) / parts;
    if (begin < end) body(begin, end);
  });
}

}  // namespace bnlab

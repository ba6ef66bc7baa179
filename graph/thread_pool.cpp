#include "graph/thread_pool.hpp"

namespace bnlab {

namespace {
// Polls (~0.4 ms: 20,000 PAUSEs of ~20 ns on this machine) before sleeping: long enough to span the
// gaps between the kernels of one step, so the worker is awake for the next split. Polling for a
// few µs, it fell asleep between kernels and every futex wake-up cost more than the split saved;
// an idle pool still sleeps.
constexpr int kSpins = 20000;

// Tells the core this is a wait loop (x86 PAUSE): it stops speculating on the polled load, which
// frees the core's resources for a sibling thread and lowers the cost of leaving the loop.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

constexpr uint64_t pack(uint32_t run, uint32_t parts, uint32_t next) {
  return (uint64_t{run} << 32) | (uint64_t{parts} << 16) | next;
}
}  // namespace

ThreadPool::ThreadPool(int threads) {
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  generation_.fetch_add(1);
  generation_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_parts(uint32_t run) {
  uint64_t c = claim_.load(std::memory_order_acquire);
  for (;;) {
    const auto claim_run = static_cast<uint32_t>(c >> 32);
    const auto parts = static_cast<uint32_t>((c >> 16) & 0xffff), next = static_cast<uint32_t>(c & 0xffff);
    if (claim_run != run || next >= parts) return;
    if (!claim_.compare_exchange_weak(c, pack(run, parts, next + 1), std::memory_order_acq_rel, std::memory_order_acquire))
      continue;
    // The run cannot end before this part is done, so fn_ and task_ are still this run's.
    fn_.load(std::memory_order_acquire)(task_.load(std::memory_order_acquire), static_cast<int>(next));
    if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == static_cast<int>(parts) - 1) done_.notify_one();
    c = claim_.load(std::memory_order_acquire);
  }
}

void ThreadPool::run_erased(int parts, Trampoline fn, const void* task) {
  const uint32_t run = ++run_;
  fn_.store(fn, std::memory_order_relaxed);
  task_.store(task, std::memory_order_relaxed);
  done_.store(0, std::memory_order_relaxed);
  // Part 0 is the caller's; workers claim from part 1.
  claim_.store(pack(run, static_cast<uint32_t>(parts), 1), std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  fn(task, 0);
  run_parts(run);
  // Parts a worker claimed may still be running.
  for (int spin = 0;; ++spin) {
    const int done = done_.load(std::memory_order_acquire);
    if (done >= parts - 1) break;
    if (spin < kSpins) cpu_relax(); else done_.wait(done, std::memory_order_acquire);
  }
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  for (;;) {
    uint64_t g = generation_.load(std::memory_order_acquire);
    for (int spin = 0; g == seen && spin < kSpins; ++spin) {
      cpu_relax();
      g = generation_.load(std::memory_order_acquire);
    }
    while (g == seen) {
      generation_.wait(seen, std::memory_order_acquire);
      g = generation_.load(std::memory_order_acquire);
    }
    seen = g;
    if (stop_.load()) return;
    run_parts(static_cast<uint32_t>(claim_.load(std::memory_order_acquire) >> 32));
  }
}

}  // namespace bnlab

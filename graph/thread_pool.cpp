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
}

ThreadPool::ThreadPool(int threads) {
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  generation_.fetch_add(1);
  generation_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_erased(int parts, Trampoline fn, const void* task) {
  fn_ = fn;
  task_ = task;
  parts_ = parts;
  // Every worker acknowledges every run (not only those with a part), so none can still be reading
  // this run's task when the next one is set up.
  pending_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  fn(task, 0);
  for (int spin = 0; pending_.load(std::memory_order_acquire) != 0; ++spin) {
    if (spin < kSpins) { cpu_relax(); continue; }
    const int left = pending_.load(std::memory_order_acquire);
    if (left != 0) pending_.wait(left, std::memory_order_acquire);
  }
}

void ThreadPool::worker_loop(int index) {
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
    if (index < parts_) fn_(task_, index);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
  }
}

}  // namespace bnlab

// After the first step, a training step (gather, forward, backward, optimizer update) allocates
// nothing on the heap. Counted by replacing the global operator new in this test binary and, where
// the build links it with -Wl,--wrap=malloc (BNLAB_WRAP_MALLOC), every call to malloc from bnlab's
// code too — Eigen's products take their buffers from malloc, not from operator new.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "data/batching.hpp"
#include "data/registry.hpp"
#include "graph/compile.hpp"
#include "graph/session.hpp"
#include "models/mlp.hpp"
#include "models/model.hpp"
#include "models/presets.hpp"
#include "ops/conv2d.hpp"
#include "train/optimizer.hpp"

namespace {
std::atomic<long> allocations{0};
std::atomic<bool> counting{false};
// A place to break in a debugger (`break allocation_while_counting`) to see what allocated.
[[gnu::noinline]] void allocation_while_counting() { asm volatile(""); }
void count_allocation() {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (counting.load(std::memory_order_relaxed)) allocation_while_counting();
}
}  // namespace

#ifdef BNLAB_WRAP_MALLOC
extern "C" void* __real_malloc(std::size_t n);
extern "C" void* __wrap_malloc(std::size_t n) {
  count_allocation();
  return __real_malloc(n);
}
#endif

// The whole replaceable set (plain, array, aligned, nothrow), so that every allocation is counted
// and every pointer is freed by the family that made it. NOTE: replacing only the throwing forms
// is enough for libstdc++ (its nothrow forms call them), but not under AddressSanitizer, whose own
// nothrow new (std::stable_sort's temporary buffer uses it) was then freed by our delete: an
// alloc-dealloc-mismatch report.
void* operator new(std::size_t n) {
  count_allocation();
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  count_allocation();
  const std::size_t align = static_cast<std::size_t>(a);
  if (void* p = std::aligned_alloc(align, (n + align - 1) / align * align)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return operator new(n);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return operator new(n, a);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t& t) noexcept { return operator new(n, a, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

using namespace bnlab;

TEST_CASE("a training step allocates nothing after the first, for both reference variants and a smaller last batch") {
  data::SyntheticOptions so;
  so.features = 784;
  so.classes = 10;
  so.train_rows = 600;
  so.test_rows = 10;
  const data::Splits d = data::load("synthetic", {.val_fraction = 0, .synthetic = so});
  for (const char* preset : {"plain", "batchnorm"}) {
    const Model m = build_model((MlpSpec::preset(preset)).model_spec());
    Session s(compile(m.graph, m.loss), {.seed = 0});
    Optimizer opt({.kind = OptimizerKind::adam}, s.parameters());
    data::BatchOrder order(d.train.size(), 64, false, 0);  // 600 = 9·64 + 24: a smaller last batch
    auto step = [&](int64_t b) {
      const auto rows = order.batch(b);
      s.set_batch(static_cast<int64_t>(rows.size()));
      d.train.gather(rows, s.input(m.input).data, s.labels(m.labels).data());
      s.forward(Mode::train);
      s.backward();
      opt.step(s.parameters(), s.gradients());
    };
    step(0);  // the first step plans the arena
    const long before = allocations.load();
    counting = true;
    for (int64_t b = 1; b < order.num_batches(); ++b) step(b);
    step(0);
    counting = false;
    const long during = allocations.load() - before;
    CAPTURE(preset);
    CHECK(during == 0);
  }
}

// The reference CNNs (conv, batch norm per channel, max-pool, flatten, dense) likewise, on images
// [28,28,1], with a smaller last batch, on one thread and two.
TEST_CASE("a CNN training step allocates nothing after the first, cnn-plain and cnn-batchnorm") {
  data::SyntheticOptions so;
  so.features = 784;
  so.classes = 10;
  so.train_rows = 40;
  so.test_rows = 10;
  data::Splits d = data::load("synthetic", {.val_fraction = 0, .synthetic = so});
  d.train.shape = {28, 28, 1};
  for (const char* preset : {"cnn-plain", "cnn-batchnorm"})
    for (int threads : {1, 2}) {
      const Model m = build_model(preset_spec(preset, d.train.sample_shape(), 10));
      Session s(compile(m.graph, m.loss), {.seed = 0, .threads = threads});
      Optimizer opt({.kind = OptimizerKind::adam}, s.parameters());
      data::BatchOrder order(d.train.size(), 16, false, 0);  // 40 = 2·16 + 8
      auto step = [&](int64_t b) {
        const auto rows = order.batch(b);
        s.set_batch(static_cast<int64_t>(rows.size()));
        d.train.gather(rows, s.input(m.input).data, s.labels(m.labels).data());
        s.forward(Mode::train);
        s.backward();
        opt.step(s.parameters(), s.gradients(), s.pool());
      };
      step(0);
      const long before = allocations.load();
      counting = true;
      for (int64_t b = 1; b < order.num_batches(); ++b) step(b);
      step(0);
      counting = false;
      const long during = allocations.load() - before;  // before CAPTURE, which allocates
      CAPTURE(preset);
      CAPTURE(threads);
      CHECK(during == 0);
    }
}

// conv2d's kernels (im2col, Eigen's products, col2im) allocate nothing either, at the reference
// CNN's shapes and a large batch, on one thread and two.
TEST_CASE("conv2d forward and backward allocate nothing after the first step") {
  Graph g;
  auto x = g.input("x", {batch, 28, 28, 1});
  auto h = conv2d(x, g.parameter("w1", {3, 3, 1, 32}, Init::he_normal(9)), "conv1", Conv2dOptions::same(3));
  auto y = conv2d(h, g.parameter("w2", {3, 3, 32, 64}, Init::he_normal(288)), "conv2",
                  {.stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1});
  for (int threads : {1, 2}) {
    Session s(compile(g, y.id), {.seed = 0, .threads = threads});
    s.set_batch(256);
    const std::vector<float> seed(static_cast<size_t>(s.value(y.id).size()), 1.0f);
    s.forward(Mode::train);
    s.backward(seed);
    const long before = allocations.load();
    counting = true;
    for (int step = 0; step < 2; ++step) {
      s.forward(Mode::train);
      s.backward(seed);
    }
    counting = false;
    CAPTURE(threads);
    CHECK(allocations.load() - before == 0);
  }
}

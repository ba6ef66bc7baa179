// A std::vector whose buffer starts on a 64-byte boundary (one cache line, one AVX-512 register).
//
//   bnlab::AlignedVector<float> buffer(1024);   // buffer.data() % 64 == 0
//
// Why: Eigen's vectorized reductions (sum, squaredNorm, maxCoeff) handle the elements before the
// first packet-aligned address one by one, so where a buffer happens to start changes the order of
// the additions, and with it the rounding. glibc's malloc only guarantees 16 bytes; with AVX or
// AVX-512 packets (32/64 bytes) two runs of the same training could then differ in the last bits
// (seen: exact resume failing in a -march=native build). Every session arena and tensor store uses
// this, so results depend only on the data, the seed and the thread count.
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace bnlab {

inline constexpr std::size_t kBufferAlignment = 64;

template <class T>
struct AlignedAllocator {
  using value_type = T;
  AlignedAllocator() noexcept = default;
  template <class U>
  AlignedAllocator(const AlignedAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{kBufferAlignment})); }
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, std::align_val_t{kBufferAlignment}); }
  template <class U>
  bool operator==(const AlignedAllocator<U>&) const noexcept { return true; }
};

template <class T>
using AlignedVector = std::vector<T, AlignedAllocator<T>>;

}  // namespace bnlab

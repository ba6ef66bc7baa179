// Helpers of the op tests that compare a kernel with a reference computed in double: seeded values,
// filling a session's view, and comparing a view with the reference.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "graph/random.hpp"
#include "graph/tensor.hpp"

namespace bnlab::test {

// n values uniform in [lo, hi) from Rng(seed).
inline std::vector<double> uniform_values(uint64_t seed, size_t n, double lo, double hi) {
  Rng rng(seed);
  std::vector<double> v(n);
  for (double& e : v) e = rng.uniform(lo, hi);
  return v;
}

template <class T>
void copy_into(TensorView<T> dst, const std::vector<double>& src) {
  REQUIRE(static_cast<size_t>(dst.size()) == src.size());
  for (size_t i = 0; i < src.size(); ++i) dst.data[i] = static_cast<T>(src[i]);
}

// Every element within `rel` of the reference (relative, with values near zero compared absolutely).
template <class T>
void check_close(TensorView<const T> got, const std::vector<double>& want, double rel) {
  REQUIRE(static_cast<size_t>(got.size()) == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    CAPTURE(i);
    CHECK(static_cast<double>(got.data[i]) == doctest::Approx(want[i]).epsilon(rel).scale(1.0));
  }
}

}  // namespace bnlab::test

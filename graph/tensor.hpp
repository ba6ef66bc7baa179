// Non-owning views of planned memory, seen by kernels as row-major Eigen matrices.
//
//   bnlab::TensorView<float> x{ptr, rows, cols};
//   x.mat().noalias() = a.mat() * b.mat();     // [B,K]·[K,N] → [B,N], written into x's slot
//   x.vec();                                   // the same memory as one flat array
//   bnlab::TensorView<const float> in = x;     // read-only: in.mat() = … does not compile
//
// A scalar is a 1×1 view, a vector [n] is 1×n, a batch of labels [B] is B×1.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <type_traits>

namespace bnlab {

template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using RowVector = Eigen::Matrix<T, 1, Eigen::Dynamic>;

// T is float or double (writable) or const float / const double (read-only: the Eigen maps are of
// const matrices, so assigning through them is a compile error).
template <class T>
struct TensorView {
  using Scalar = std::remove_const_t<T>;
  template <class M>
  using Map = Eigen::Map<std::conditional_t<std::is_const_v<T>, const M, M>>;

  T* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;

  int64_t size() const { return rows * cols; }
  bool empty() const { return data == nullptr; }
  Map<RowMatrix<Scalar>> mat() const { return {data, rows, cols}; }
  // The whole view as one row (for per-feature vectors such as a bias or gamma).
  Map<RowVector<Scalar>> row() const { return {data, size()}; }
  Map<Eigen::Array<Scalar, Eigen::Dynamic, 1>> vec() const { return {data, size()}; }
  T& operator()(int64_t r, int64_t c) const { return data[r * cols + c]; }
  // A writable view is also a read-only one.
  operator TensorView<const T>() const
    requires(!std::is_const_v<T>)
  {
    return {data, rows, cols};
  }
};

}  // namespace bnlab

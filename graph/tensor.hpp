// Non-owning views of planned memory, seen by kernels as row-major Eigen matrices.
//
//   bnlab::TensorView<float> x{ptr, rows, cols};
//   x.mat().noalias() = a.mat() * b.mat();     // [B,K]·[K,N] → [B,N], written into x's slot
//   x.vec();                                   // the same memory as one flat array
//
// A scalar is a 1×1 view, a vector [n] is 1×n, a batch of labels [B] is B×1.
#pragma once

#include <Eigen/Core>
#include <cstdint>

namespace bnlab {

template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using RowVector = Eigen::Matrix<T, 1, Eigen::Dynamic>;

template <class T>
struct TensorView {
  T* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;

  int64_t size() const { return rows * cols; }
  bool empty() const { return data == nullptr; }
  Eigen::Map<RowMatrix<T>> mat() const { return {data, rows, cols}; }
  // The whole view as one row (for per-feature vectors such as a bias or gamma).
  Eigen::Map<RowVector<T>> row() const { return {data, size()}; }
  Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>> vec() const { return {data, size()}; }
  T& operator()(int64_t r, int64_t c) const { return data[r * cols + c]; }
};

}  // namespace bnlab

// Shapes of rank 0–4 whose first dimension may be the symbolic batch size.
//
//   bnlab::Shape x{bnlab::batch, 784};         // [B,784]
//   bnlab::Shape image{bnlab::batch, 28, 28, 1};  // [B,H,W,C]: channels last (NHWC)
//   bnlab::Shape w{784, 128};                  // [784,128]
//   bnlab::Shape loss{};                       // scalar
//   x.to_string() == "[B,784]";  x.resolve(32) == Shape{32, 784};
//
// Kernels see every tensor as a row-major matrix whose columns are the last dimension and whose
// rows are all the others: [B,H,W,C] is (B·H·W) × C. NOTE: that is why bnlab is channels-last —
// a per-channel op (bias_add, batch_norm) is then the same kernel for [B,C] and [B,H,W,C], and a
// convolution is one product [B·H'·W', k·k·C]·[k·k·C, F] (docs/architecture.md, "Tensors").
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>

namespace bnlab {

// The symbolic batch dimension: a placeholder resolved when a batch is run.
inline constexpr int64_t batch = -1;

class Shape {
 public:
  static constexpr int max_rank = 4;

  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(std::span<const int64_t> dims);

  int rank() const { return rank_; }
  int64_t operator[](int i) const { return dims_[i]; }
  bool has_batch() const { return rank_ > 0 && dims_[0] == batch; }
  // Number of elements once the batch is resolved to `b` (b is ignored without a batch dimension).
  int64_t elements(int64_t b) const;
  // Rows × columns as a matrix view sees them: scalar → 1×1, [n] → 1×n, [B] → B×1, [r,c] → r×c,
  // [B,H,W,C] → (B·H·W)×C.
  int64_t rows(int64_t b) const;
  int64_t cols() const;
  Shape resolve(int64_t b) const;
  std::string to_string() const;

  friend bool operator==(const Shape&, const Shape&) = default;

 private:
  int rank_ = 0;
  std::array<int64_t, max_rank> dims_{};
};

}  // namespace bnlab

// Shapes of rank 0–2 whose first dimension may be the symbolic batch size.
//
//   bnlab::Shape x{bnlab::batch, 784};     // [B,784]
//   bnlab::Shape w{784, 128};              // [784,128]
//   bnlab::Shape loss{};                   // scalar
//   x.to_string() == "[B,784]";  x.resolve(32) == Shape{32, 784};
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>

namespace bnlab {

// The symbolic batch dimension: a placeholder resolved when a batch is run.
inline constexpr int64_t batch = -1;

class Shape {
 public:
  static constexpr int max_rank = 2;

  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);

  int rank() const { return rank_; }
  int64_t operator[](int i) const { return dims_[i]; }
  bool has_batch() const { return rank_ > 0 && dims_[0] == batch; }
  // Number of elements once the batch is resolved to `b` (b is ignored without a batch dimension).
  int64_t elements(int64_t b) const;
  // Rows × columns as a matrix view sees them: scalar → 1×1, [n] → 1×n, [r,c] → r×c.
  int64_t rows(int64_t b) const;
  int64_t cols() const;
  Shape resolve(int64_t b) const;
  std::string to_string() const;

  friend bool operator==(const Shape&, const Shape&) = default;

 private:
  int rank_ = 0;
  std::array<int64_t, max_rank> dims_{0, 0};
};

}  // namespace bnlab

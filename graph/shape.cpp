#include "graph/shape.hpp"

#include "graph/errors.hpp"

namespace bnlab {

Shape::Shape(std::initializer_list<int64_t> dims) : Shape(std::span<const int64_t>(dims.begin(), dims.size())) {}

Shape::Shape(std::span<const int64_t> dims) {
  if (dims.size() > max_rank)
    throw ShapeError("shape of rank " + std::to_string(dims.size()) + ": bnlab supports rank 0 to " + std::to_string(max_rank));
  int i = 0;
  for (int64_t d : dims) {
    if (d < 0 && !(d == batch && i == 0))
      throw ShapeError("dimension " + std::to_string(i) + " is " + std::to_string(d) +
                       ": only the first dimension may be the batch, and sizes must be >= 0");
    dims_[i++] = d;
  }
  rank_ = i;
}

int64_t Shape::elements(int64_t b) const { return rows(b) * cols(); }

int64_t Shape::rows(int64_t b) const {
  if (rank_ < 2) return rank_ == 1 && dims_[0] == batch ? b : 1;
  int64_t r = dims_[0] == batch ? b : dims_[0];
  for (int i = 1; i < rank_ - 1; ++i) r *= dims_[i];
  return r;
}

int64_t Shape::cols() const {
  if (rank_ == 0) return 1;
  if (rank_ == 1) return dims_[0] == batch ? 1 : dims_[0];
  return dims_[rank_ - 1];
}

Shape Shape::resolve(int64_t b) const {
  Shape s = *this;
  if (has_batch()) s.dims_[0] = b;
  return s;
}

std::string Shape::to_string() const {
  std::string s = "[";
  for (int i = 0; i < rank_; ++i) {
    if (i) s += ",";
    s += dims_[i] == batch ? std::string("B") : std::to_string(dims_[i]);
  }
  return s + "]";
}

}  // namespace bnlab

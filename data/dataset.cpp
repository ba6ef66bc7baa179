#include "data/dataset.hpp"

#include <algorithm>
#include <string>

#include "graph/errors.hpp"

namespace bnlab::data {

namespace {

// One compare per row is nothing next to copying the row, and an out-of-range index would
// otherwise read past the buffer silently.
void check_index(const Dataset& d, int64_t index, const char* what) {
  if (index < 0 || index >= d.size())
    throw UsageError(std::string(what) + ": row index " + std::to_string(index) + " is outside " +
                     (d.name.empty() ? std::string("dataset") : d.name) + " [0, " +
                     std::to_string(d.size()) + ")");
}

}  // namespace

void Dataset::gather(std::span<const int64_t> indices, float* x, int32_t* y, ThreadPool* pool) const {
  for (const int64_t i : indices) check_index(*this, i, "Dataset::gather");
  const auto width = static_cast<size_t>(feature_count);
  // ~64 rows of 784 floats (~10 µs) per part at least: below that a split costs more than it saves.
  const int64_t grain = std::max<int64_t>(1, 50'000 / std::max<int64_t>(1, feature_count));
  parallel_for(pool, static_cast<int64_t>(indices.size()), grain, [&](int64_t k0, int64_t k1) {
    for (auto k = static_cast<size_t>(k0); k < static_cast<size_t>(k1); ++k) {
      const int64_t i = indices[k];
      std::copy_n(row(i), width, x + k * width);
      y[k] = labels[static_cast<size_t>(i)];
    }
  });
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

Dataset Dataset::subset(std::span<const int64_t> indices, std::string new_name) const {
  Dataset out;
  out.feature_count = feature_count;
  out.shape = shape;
  out.num_classes = num_classes;
  out.name = std::move(new_name);
  out.source = source;
  out.divisor = divisor;
  out.features.resize(indices.size() * static_cast<size_t>(feature_count));
  out.labels.resize(indices.size());
  gather(indices, out.features.data(), out.labels.data());
  return out;
}

}  // namespace bnlab::data

// A trivial baseline that accuracy bars are set against: the nearest-class-mean classifier (each
// class's mean training row; a test row takes the class whose mean is closest in Euclidean
// distance, ties to the lower class). A test that trains a model requires the model to beat it by a
// stated margin — a bar below it (a fixed 0.8 where this baseline scores 0.87) lets through a bug
// that stops the hidden layers from learning.
//   const double floor = nearest_class_mean_accuracy(d.train, d.test);
//   CHECK(run.test->acc > floor + 0.03);
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "data/dataset.hpp"

namespace bnlab::test {

inline double nearest_class_mean_accuracy(const data::Dataset& train, const data::Dataset& test) {
  const int64_t f = train.feature_count;
  const auto classes = static_cast<size_t>(train.num_classes);
  std::vector<double> mean(classes * static_cast<size_t>(f), 0.0);
  std::vector<int64_t> count(classes, 0);
  for (int64_t r = 0; r < train.size(); ++r) {
    const auto c = static_cast<size_t>(train.labels[static_cast<size_t>(r)]);
    ++count[c];
    for (int64_t j = 0; j < f; ++j) mean[c * static_cast<size_t>(f) + static_cast<size_t>(j)] += train.row(r)[j];
  }
  for (size_t c = 0; c < classes; ++c)
    for (int64_t j = 0; j < f; ++j)
      if (count[c] > 0) mean[c * static_cast<size_t>(f) + static_cast<size_t>(j)] /= static_cast<double>(count[c]);
  int64_t right = 0;
  for (int64_t r = 0; r < test.size(); ++r) {
    size_t best = 0;
    double best_d = std::numeric_limits<double>::infinity();
    for (size_t c = 0; c < classes; ++c) {
      if (count[c] == 0) continue;
      double d = 0;
      for (int64_t j = 0; j < f; ++j) {
        const double diff = test.row(r)[j] - mean[c * static_cast<size_t>(f) + static_cast<size_t>(j)];
        d += diff * diff;
      }
      if (d < best_d) best_d = d, best = c;
    }
    right += static_cast<int32_t>(best) == test.labels[static_cast<size_t>(r)];
  }
  return static_cast<double>(right) / static_cast<double>(test.size());
}

}  // namespace bnlab::test

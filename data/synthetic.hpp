// Seeded synthetic classification data: a quick, download-free problem for tests and demos.
//
//   auto [train, test] = bnlab::data::make_synthetic({.train_rows = 4000, .test_rows = 1000, .seed = 7});
//   // train: 4000 x 20 features, 4 classes; test drawn from the same distribution
//
// Each class is a mixture of `clusters_per_class` spherical Gaussians (std `noise`) whose centers
// are drawn once per seed from N(0, separation²) in every feature. Two clusters per class bend the
// class boundaries, so a linear rule falls short (nearest class mean: 87% on the default test
// set) of the ideal (Bayes) classifier, which scores 92–97% depending on the seed (measured over
// seeds 0–5): a small MLP gets high but not perfect accuracy. Values are roughly N(0, 1.3²), so no
// preprocessing is needed. The same options give the same numbers on every platform (bnlab::Rng).
#pragma once

#include <cstdint>
#include <utility>

#include "data/dataset.hpp"

namespace bnlab::data {

struct SyntheticOptions {
  int64_t train_rows = 4000;
  int64_t test_rows = 1000;
  int64_t features = 20;
  int32_t classes = 4;
  int32_t clusters_per_class = 2;
  double separation = 0.8;  // std of the cluster centers around the origin
  double noise = 1.0;       // std of the points around their cluster center
  uint64_t seed = 0;        // the data's own seed, independent of split and training seeds
};

// {train, test}, named "synthetic/train" and "synthetic/test". Throws UsageError for a
// non-positive count or negative std.
std::pair<Dataset, Dataset> make_synthetic(const SyntheticOptions& options);

}  // namespace bnlab::data

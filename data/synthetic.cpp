#include "data/synthetic.hpp"

#include <string>
#include <vector>

#include "graph/errors.hpp"
#include "graph/random.hpp"

namespace bnlab::data {

namespace {

// Sub-streams of the data seed: centers, train points and test points never share numbers, and
// changing test_rows leaves the training set unchanged.
constexpr uint64_t kStreamCenters = 0x73796e2d63656e74ull;  // "syn-cent"
constexpr uint64_t kStreamTrain = 0x73796e2d74726e00ull;    // "syn-trn"
constexpr uint64_t kStreamTest = 0x73796e2d74737400ull;     // "syn-tst"

Dataset draw(const SyntheticOptions& o, const std::vector<double>& centers, int64_t rows, uint64_t stream,
             std::string name) {
  Rng rng = Rng::derived(o.seed, stream);
  Dataset d;
  d.name = std::move(name);
  d.feature_count = o.features;
  d.num_classes = o.classes;
  d.labels.resize(static_cast<size_t>(rows));
  d.features.resize(static_cast<size_t>(rows * o.features));
  for (int64_t i = 0; i < rows; ++i) {
    const auto label = static_cast<int32_t>(rng.below(static_cast<uint64_t>(o.classes)));
    const auto cluster = static_cast<int64_t>(rng.below(static_cast<uint64_t>(o.clusters_per_class)));
    const double* c = centers.data() + (int64_t{label} * o.clusters_per_class + cluster) * o.features;
    float* x = d.features.data() + i * o.features;
    for (int64_t f = 0; f < o.features; ++f) x[f] = static_cast<float>(c[f] + o.noise * rng.normal());
    d.labels[static_cast<size_t>(i)] = label;
  }
  return d;
}

}  // namespace

std::pair<Dataset, Dataset> make_synthetic(const SyntheticOptions& o) {
  auto bad = [](const std::string& what) { throw UsageError("synthetic data: " + what); };
  if (o.train_rows <= 0) bad("train_rows must be positive, got " + std::to_string(o.train_rows));
  if (o.test_rows <= 0) bad("test_rows must be positive, got " + std::to_string(o.test_rows));
  if (o.features <= 0) bad("features must be positive, got " + std::to_string(o.features));
  if (o.classes < 2) bad("classes must be at least 2, got " + std::to_string(o.classes));
  if (o.clusters_per_class <= 0)
    bad("clusters_per_class must be positive, got " + std::to_string(o.clusters_per_class));
  if (!(o.separation >= 0) || !(o.noise >= 0)) bad("separation and noise must be non-negative");

  Rng rng = Rng::derived(o.seed, kStreamCenters);
  std::vector<double> centers(static_cast<size_t>(int64_t{o.classes} * o.clusters_per_class * o.features));
  for (double& c : centers) c = o.separation * rng.normal();
  return {draw(o, centers, o.train_rows, kStreamTrain, "synthetic/train"),
          draw(o, centers, o.test_rows, kStreamTest, "synthetic/test")};
}

}  // namespace bnlab::data

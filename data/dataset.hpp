// bnlab data: an in-memory labelled dataset and the operations the trainer needs on it.
//
//   bnlab::data::Splits s = bnlab::data::load("fashion-mnist", {.data_dir = "", .val_fraction = 0.2, .seed = 0});
//   // s.train / s.val / s.test: features [N, F] row-major floats in [0,1], labels int32 in [0, classes);
//   // s.train.sample_shape() == {28, 28, 1}: each row is an image, channels last (H, W, C), F = 784
//   bnlab::data::BatchOrder order(s.train.size(), /*batch=*/32, /*drop_last=*/false, /*seed=*/0);
//   order.reshuffle(epoch);                      // seeded permutation for this epoch
//   for (int64_t b = 0; b < order.num_batches(); ++b) {
//     auto idx = order.batch(b);                 // row indices of batch b
//     s.train.gather(idx, x_slot, y_slot);       // copy rows straight into the caller's buffers
//   }
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "graph/thread_pool.hpp"

namespace bnlab::data {

// A labelled dataset held in memory. requires: labels.size() == rows; every label < num_classes.
struct Dataset {
  std::vector<float> features;   // [rows, feature_count], row-major
  std::vector<int32_t> labels;   // [rows]
  int64_t feature_count = 0;
  // One sample's shape, channels last ([28,28,1] for Fashion-MNIST, [32,32,3] for CIFAR-10); empty
  // means flat, [feature_count] (CSV, synthetic). Its product is feature_count.
  std::vector<int64_t> shape;
  int32_t num_classes = 0;
  std::string name;              // "fashion-mnist/train", … for messages
  // The file(s) the rows were read from ("…/t10k-images-idx3-ubyte.gz"), for messages; "" when
  // generated. Kept by subset().
  std::string source;
  // The files' values were divided by this: 255 for pixels scaled into [0, 1] (IDX, CIFAR-10, CSV
  // with csv_pixels), 1 for values taken as they are (CSV, synthetic).
  double divisor = 1;

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  std::vector<int64_t> sample_shape() const { return shape.empty() ? std::vector<int64_t>{feature_count} : shape; }
  const float* row(int64_t i) const { return features.data() + i * feature_count; }
  // "'mnist/test' (…/t10k-images-idx3-ubyte.gz)", or the name alone when there is no source.
  std::string described() const { return "'" + name + "'" + (source.empty() ? "" : " (" + source + ")"); }
  // Copies rows `indices` into x ([indices.size(), feature_count] row-major) and y, the rows split
  // over `pool`'s threads when there is one. An index outside [0, size()) is a UsageError naming
  // the dataset, thrown before anything is copied.
  void gather(std::span<const int64_t> indices, float* x, int32_t* y, ThreadPool* pool = nullptr) const;
  // The rows `indices` as a new dataset (used by splits and subsets).
  Dataset subset(std::span<const int64_t> indices, std::string new_name) const;
};

// "[28,28,1]"
std::string shape_text(const std::vector<int64_t>& shape);

// Per-feature statistics for standardization: x -> (x - mean) / scale.
struct Standardization {
  std::vector<float> mean;
  std::vector<float> scale;  // the std, or 1 where the std is below kMinStd (data/registry.hpp)
};

// How the splits' rows were made from the files' values, so that new inputs (eval on another
// dataset, predict) can be made the same way: divided by `divisor`, then standardized with the
// training split's statistics when `standardization` is set. Checkpoints record it.
struct Preparation {
  double divisor = 1;
  std::vector<int64_t> sample_shape;                // the training samples' shape
  std::optional<Standardization> standardization;  // --standardize: fitted on the training split
};

struct Splits {
  Dataset train, val, test;
  Preparation preparation;
  // What each class id means, [num_classes] ("T-shirt/top", …; data::class_names): for eval's
  // confusion matrix and, through checkpoints, predict. Empty for splits made by hand.
  std::vector<std::string> class_names;
};

}  // namespace bnlab::data

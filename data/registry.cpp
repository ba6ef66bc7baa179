#include "data/registry.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "data/batching.hpp"
#include "data/cifar10.hpp"
#include "data/csv.hpp"
#include "data/idx.hpp"
#include "graph/errors.hpp"
#include "graph/suggest.hpp"
#include "graph/random.hpp"

namespace bnlab::data {

namespace fs = std::filesystem;

namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

void validate(const LoadOptions& o) { validate_fields(o); }

// The dataset's folder: data_dir if given, else the default (only fashion-mnist has one).
std::string resolve_dir(const std::string& name, const LoadOptions& o, const std::string& files) {
  if (o.data_dir.empty() && name != "fashion-mnist")
    throw ConfigError::because("data_dir", "", "dataset " + name + " needs data_dir: a folder with " + files);
  const std::string dir = o.data_dir.empty() ? std::string(kFashionMnistDir) : o.data_dir;
  if (!fs::is_directory(dir)) {
    if (name == "fashion-mnist" && o.data_dir.empty())
      throw InputError("dataset fashion-mnist: folder " + dir +
                       " not found; apt-get install dataset-fashion-mnist, or pass --data-dir DIR with " + files);
    throw InputError("dataset " + name + ": data folder " + dir + " not found (expected " + files + ")");
  }
  return dir;
}

// Distributions ship the IDX files gzipped, some mirrors unpacked; take whichever is there.
std::string find_idx(const std::string& name, const std::string& dir, const std::string& base) {
  const fs::path raw = fs::path(dir) / base;
  if (fs::exists(raw)) return raw.string();
  const fs::path gz = fs::path(dir) / (base + ".gz");
  if (fs::exists(gz)) return gz.string();
  throw InputError("dataset " + name + ": neither " + raw.string() + " nor " + gz.string() + " exists");
}

std::pair<Dataset, Dataset> read_idx_pair(const std::string& name, const std::string& dir) {
  auto part = [&](const std::string& prefix, const std::string& split) {
    // Sequenced so a folder missing everything reports the images file first.
    const std::string images = find_idx(name, dir, prefix + "-images-idx3-ubyte");
    const std::string labels = find_idx(name, dir, prefix + "-labels-idx1-ubyte");
    return read_idx_dataset(images, labels, 10, name + "/" + split);
  };
  return {part("train", "train"), part("t10k", "test")};
}

std::pair<Dataset, Dataset> read_csv_pair(const std::string& dir, const LoadOptions& o) {
  const CsvOptions csv{.pixels = o.csv_pixels};
  const std::string train_path = (fs::path(dir) / "train.csv").string();
  const std::string test_path = (fs::path(dir) / "test.csv").string();
  Dataset train = read_csv(train_path, csv, "csv/train");
  Dataset test = read_csv(test_path, csv, "csv/test");
  if (train.size() > 0 && test.size() > 0 && train.feature_count != test.feature_count)
    throw InputError(test_path + ": " + std::to_string(test.feature_count + 1) + " fields per row (label and " +
                     std::to_string(test.feature_count) + " features), but " + train_path + " has " +
                     std::to_string(train.feature_count + 1) + " (label and " + std::to_string(train.feature_count) + ")");
  // Class ids are only known from the data; both sets must agree on the count.
  const int32_t classes = std::max(train.num_classes, test.num_classes);
  train.num_classes = test.num_classes = classes;
  return {std::move(train), std::move(test)};
}

// A seeded subset of `limit` rows (all when limit is 0 or the whole set), kept in file order.
Dataset limit_rows(Dataset d, int64_t limit, uint64_t seed, uint64_t stream) {
  if (limit <= 0 || limit >= d.size()) return d;
  Rng rng = Rng::derived(seed, stream);
  std::vector<int64_t> keep = random_permutation(d.size(), rng);
  keep.resize(static_cast<size_t>(limit));
  std::sort(keep.begin(), keep.end());
  std::string name = d.name;
  return d.subset(keep, std::move(name));
}

// Keeps rows `rows` (ascending) in place. Copying the training split out instead would allocate
// and page in another ~150 MB for Fashion-MNIST, which costs more than reading the file.
void keep_sorted_rows(Dataset& d, const std::vector<int64_t>& rows) {
  const auto width = static_cast<size_t>(d.feature_count);
  for (size_t j = 0; j < rows.size(); ++j) {
    const auto i = static_cast<size_t>(rows[j]);  // i >= j, so row i has not been overwritten yet
    if (i == j) continue;
    std::copy_n(d.features.begin() + static_cast<std::ptrdiff_t>(i * width), width,
                d.features.begin() + static_cast<std::ptrdiff_t>(j * width));
    d.labels[j] = d.labels[i];
  }
  d.features.resize(rows.size() * width);
  d.labels.resize(rows.size());
}

}  // namespace

const std::vector<DatasetInfo>& dataset_infos() {
  static const std::vector<DatasetInfo> infos = {
      {"fashion-mnist", "Fashion-MNIST, 60000+10000 28x28 grey clothing images, 10 classes (default folder "
                        "/usr/share/datasets/fashion-mnist, Debian package dataset-fashion-mnist)"},
      {"mnist", "MNIST handwritten digits, IDX files {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] in --data-dir"},
      {"kmnist", "Kuzushiji-MNIST cursive Japanese characters, IDX files as for mnist in --data-dir"},
      {"cifar10", "CIFAR-10 32x32 colour images (32x32x3, channels last), binary batches data_batch_1..5.bin and "
                  "test_batch.bin in --data-dir"},
      {"csv", "your own data: --data-dir holds train.csv and test.csv, label in the first column, then features"},
      {"synthetic", "generated Gaussian clusters: 4000 train / 1000 test rows, 20 features, 4 classes, no files"},
  };
  return infos;
}

std::vector<std::string> dataset_names() {
  std::vector<std::string> names;
  for (const auto& d : dataset_infos()) names.push_back(d.name);
  return names;
}

Splits load(const std::string& name, const LoadOptions& o) {
  std::pair<Dataset, Dataset> data = read(name, o);
  return prepare_splits(std::move(data.first), std::move(data.second), name, o);
}

std::pair<Dataset, Dataset> read(const std::string& name, const LoadOptions& o) {
  validate(o);
  std::pair<Dataset, Dataset> data;
  if (name == "fashion-mnist" || name == "mnist" || name == "kmnist") {
    data = read_idx_pair(name, resolve_dir(name, o, "{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]"));
  } else if (name == "cifar10") {
    data = read_cifar10_dir(resolve_dir(name, o, "data_batch_1..5.bin and test_batch.bin"));
  } else if (name == "csv") {
    data = read_csv_pair(resolve_dir(name, o, "train.csv and test.csv"), o);
  } else if (name == "synthetic") {
    data = make_synthetic(o.synthetic);
  } else {
    throw UsageError(unknown_name("dataset", name, dataset_names()));
  }
  return data;
}

Splits prepare_splits(Dataset train, Dataset test, const std::string& name, const LoadOptions& o) {
  validate(o);
  if (train.size() == 0) throw InputError("dataset " + name + ": the training set has no rows");
  if (test.size() == 0) throw InputError("dataset " + name + ": the test set has no rows");
  // The files when the readers said which they were, else the splits.
  const bool files = !train.source.empty() && !test.source.empty();
  if (train.sample_shape() != test.sample_shape())
    throw InputError(files ? test.source + ": samples are " + shape_text(test.sample_shape()) + ", but " + train.source + " has " +
                                 shape_text(train.sample_shape())
                           : "dataset " + name + ": the test samples are " + shape_text(test.sample_shape()) +
                                 " but the training samples are " + shape_text(train.sample_shape()));
  if (train.divisor != test.divisor)
    throw InputError((files ? test.source + ": " : "dataset " + name + ": the test ") + "values are divided by " + number(test.divisor) +
                     ", but " + (files ? train.source + "'s" : "the training values") + " by " + number(train.divisor));
  // A limit beyond the rows would quietly mean "all of them": a typo, or the wrong dataset.
  const auto check_limit = [](const char* field, int64_t limit, const Dataset& d) {
    if (limit > d.size())
      throw ConfigError::because(field, std::to_string(limit),
                                 std::string(field) + " " + std::to_string(limit) + " is more than the " + std::to_string(d.size()) +
                                     " rows of " + d.described() + "; 0 = all rows");
  };
  check_limit("limit_train", o.limit_train, train);
  check_limit("limit_test", o.limit_test, test);
  train = limit_rows(std::move(train), o.limit_train, o.seed, kLimitTrainStream);
  test = limit_rows(std::move(test), o.limit_test, o.seed, kLimitTestStream);

  const int64_t n = train.size();
  const auto n_val = static_cast<int64_t>(std::llround(o.val_fraction * static_cast<double>(n)));
  if (n_val >= n)
    throw InputError("dataset " + name + ": validation fraction " + number(o.val_fraction) + " of " +
                     std::to_string(n) + " training rows leaves no rows to train on");
  Rng rng = Rng::derived(o.seed, kSplitStream);
  std::vector<int64_t> perm = random_permutation(n, rng);
  std::vector<int64_t> val_rows(perm.begin(), perm.begin() + n_val);
  std::vector<int64_t> train_rows(perm.begin() + n_val, perm.end());
  std::sort(val_rows.begin(), val_rows.end());
  std::sort(train_rows.begin(), train_rows.end());

  Splits s;
  s.val = train.subset(val_rows, name + "/val");
  keep_sorted_rows(train, train_rows);
  s.train = std::move(train);
  s.train.name = name + "/train";
  s.test = std::move(test);
  s.test.name = name + "/test";
  s.class_names = class_names(name, o, s.train.num_classes);
  s.preparation.divisor = s.train.divisor;
  s.preparation.sample_shape = s.train.sample_shape();
  if (o.standardize) {
    const Standardization z = fit_standardization(s.train);
    apply_standardization(s.train, z);
    apply_standardization(s.val, z);
    apply_standardization(s.test, z);
    s.preparation.standardization = z;
  }
  return s;
}

std::vector<std::string> class_ids(int64_t classes) {
  std::vector<std::string> ids;
  for (int64_t k = 0; k < classes; ++k) ids.push_back(std::to_string(k));
  return ids;
}

std::vector<std::string> class_names(const std::string& name, const LoadOptions& o, int32_t classes) {
  std::vector<std::string> names;
  if (name == "fashion-mnist") {
    names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
  } else if (name == "kmnist") {
    names = {"o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"};
  } else if (name == "cifar10") {
    if (!o.data_dir.empty()) names = read_cifar10_class_names(o.data_dir);
    if (names.empty())
      names = {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
  }
  // mnist's names are its digits, csv's and synthetic's their ids.
  if (static_cast<int64_t>(names.size()) != classes) names = class_ids(classes);
  return names;
}

Standardization fit_standardization(const Dataset& d) {
  const auto width = static_cast<size_t>(d.feature_count);
  // Accumulate in double: 60000 rows of float sums would lose the low digits of the mean.
  std::vector<double> sum(width, 0.0), sum_sq(width, 0.0);
  for (int64_t i = 0; i < d.size(); ++i) {
    const float* x = d.row(i);
    for (size_t f = 0; f < width; ++f) sum[f] += x[f];
  }
  const double rows = static_cast<double>(std::max<int64_t>(d.size(), 1));
  std::vector<double> mean(width);
  for (size_t f = 0; f < width; ++f) mean[f] = sum[f] / rows;
  // Two passes (squares of centred values) so a large mean does not swamp a small variance.
  for (int64_t i = 0; i < d.size(); ++i) {
    const float* x = d.row(i);
    for (size_t f = 0; f < width; ++f) {
      const double c = x[f] - mean[f];
      sum_sq[f] += c * c;
    }
  }
  Standardization z;
  z.mean.resize(width);
  z.scale.resize(width);
  for (size_t f = 0; f < width; ++f) {
    const double sd = std::sqrt(sum_sq[f] / rows);
    z.mean[f] = static_cast<float>(mean[f]);
    z.scale[f] = sd < kMinStd ? 1.0f : static_cast<float>(sd);
  }
  return z;
}

void apply_standardization(std::span<float> rows, int64_t feature_count, const Standardization& z, const std::string& name) {
  const auto width = static_cast<size_t>(feature_count);
  if (z.mean.size() != width || z.scale.size() != width)
    throw UsageError("standardization fitted on " + std::to_string(z.mean.size()) + " features applied to " + name + " with " +
                     std::to_string(width));
  for (size_t at = 0; at + width <= rows.size(); at += width) {
    float* x = rows.data() + at;
    for (size_t f = 0; f < width; ++f) x[f] = (x[f] - z.mean[f]) / z.scale[f];
  }
}

void apply_standardization(Dataset& d, const Standardization& z) { apply_standardization(d.features, d.feature_count, z, d.name); }

}  // namespace bnlab::data

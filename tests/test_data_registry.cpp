// The dataset registry: names, option checks, seeded splits and subsets, standardization,
// synthetic data, IDX datasets from a folder, and real Fashion-MNIST when it is installed.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "data/registry.hpp"
#include "data_test_support.hpp"
#include "graph/errors.hpp"
#include "skip_support.hpp"

using namespace bnlab;
using namespace bnlab::test;

namespace {

// Row i has feature 0 = i and feature 1 = 2i, so every row can be traced through the splits.
data::Dataset numbered(int64_t n, std::string name = "n") {
  data::Dataset d;
  d.name = std::move(name);
  d.feature_count = 2;
  d.num_classes = 3;
  for (int64_t i = 0; i < n; ++i) {
    d.features.push_back(static_cast<float>(i));
    d.features.push_back(static_cast<float>(2 * i));
    d.labels.push_back(static_cast<int32_t>(i % 3));
  }
  return d;
}

std::vector<int64_t> ids(const data::Dataset& d) {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < d.size(); ++i) out.push_back(static_cast<int64_t>(d.row(i)[0]));
  return out;
}

void write_idx_folder(const std::string& dir, bool gz) {
  std::filesystem::create_directories(dir);
  auto put = [&](const std::string& name, const Bytes& b) {
    if (gz) write_gzip(dir + "/" + name + ".gz", b); else write_bytes(dir + "/" + name, b);
  };
  Bytes train_pixels(10 * 4), train_labels(10), test_pixels(3 * 4);
  for (size_t k = 0; k < train_pixels.size(); ++k) train_pixels[k] = static_cast<uint8_t>(k * 5);
  for (size_t k = 0; k < train_labels.size(); ++k) train_labels[k] = static_cast<uint8_t>(k);
  put("train-images-idx3-ubyte", idx_bytes({10, 2, 2}, train_pixels));
  put("train-labels-idx1-ubyte", idx_bytes({10}, train_labels));
  put("t10k-images-idx3-ubyte", idx_bytes({3, 2, 2}, test_pixels));
  put("t10k-labels-idx1-ubyte", idx_bytes({3}, {9, 0, 1}));
}

}  // namespace

TEST_CASE("names and one-line descriptions; an unknown name lists the known ones") {
  const auto names = data::dataset_names();
  CHECK(names == std::vector<std::string>{"fashion-mnist", "mnist", "kmnist", "cifar10", "csv", "synthetic"});
  for (const auto& info : data::dataset_infos()) {
    CHECK(!info.description.empty());
    CHECK(info.description.find('\n') == std::string::npos);
  }
  const std::string m = message_of<UsageError>([] { data::load("imagenet", {}); });
  check_mentions(m, {"unknown dataset 'imagenet'"});
  for (const auto& n : names) check_mentions(m, {n});
}

TEST_CASE("bad options are usage errors, checked before any file is read") {
  check_mentions(message_of<UsageError>([] { data::load("mnist", {.val_fraction = 1.0}); }),
                 {"val_fraction must be in [0, 1)", "got 1"});
  check_mentions(message_of<UsageError>([] { data::load("synthetic", {.val_fraction = -0.1}); }), {"got -0.1"});
  check_mentions(message_of<UsageError>([] { data::load("synthetic", {.val_fraction = std::nan("")}); }),
                 {"val_fraction must be in [0, 1), got nan"});
  check_mentions(message_of<UsageError>([] { data::load("synthetic", {.limit_train = -1}); }), {"limit_train must be >= 0, got -1"});
  check_mentions(message_of<UsageError>([] { data::load("synthetic", {.limit_test = -5}); }), {"limit_test must be >= 0, got -5"});
  check_mentions(message_of<UsageError>([] { data::load("mnist", {}); }), {"dataset mnist needs data_dir: a folder with"});
  check_mentions(message_of<UsageError>([] { data::load("csv", {}); }), {"dataset csv needs data_dir", "train.csv"});
}

TEST_CASE("validation split: sizes round(f*N), disjoint, covering, file order, seeded") {
  for (const auto& [n, f, expected_val] : std::vector<std::tuple<int64_t, double, int64_t>>{
           {10, 0.2, 2}, {7, 0.5, 4}, {100, 0.25, 25}, {3, 0.1, 0}, {60000, 0.2, 12000}}) {
    CAPTURE(n);
    CAPTURE(f);
    const auto s = data::prepare_splits(numbered(n), numbered(4), "n", {.val_fraction = f, .seed = 11});
    CHECK(s.val.size() == expected_val);
    CHECK(s.train.size() == n - expected_val);
    const auto t = ids(s.train), v = ids(s.val);
    CHECK(std::is_sorted(t.begin(), t.end()));
    CHECK(std::is_sorted(v.begin(), v.end()));
    std::vector<int64_t> all = t;
    all.insert(all.end(), v.begin(), v.end());
    std::sort(all.begin(), all.end());
    CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());  // disjoint
    CHECK(static_cast<int64_t>(all.size()) == n);
    CHECK((all.empty() || (all.front() == 0 && all.back() == n - 1)));  // covering
    bool rows_whole = true;  // features and label travel together
    for (int64_t i = 0; i < s.train.size(); ++i)
      rows_whole = rows_whole && s.train.row(i)[1] == 2 * s.train.row(i)[0] &&
                   s.train.labels[static_cast<size_t>(i)] == static_cast<int32_t>(t[static_cast<size_t>(i)] % 3);
    CHECK(rows_whole);
  }
  const auto a = data::prepare_splits(numbered(50), numbered(4), "n", {.seed = 1});
  const auto b = data::prepare_splits(numbered(50), numbered(4), "n", {.seed = 1});
  const auto c = data::prepare_splits(numbered(50), numbered(4), "n", {.seed = 2});
  CHECK(ids(a.val) == ids(b.val));
  CHECK(ids(a.val) != ids(c.val));
  CHECK(a.train.name == "n/train");
  CHECK(a.val.name == "n/val");
  CHECK(a.test.name == "n/test");
  CHECK(a.val.num_classes == 3);
  CHECK(ids(a.test) == std::vector<int64_t>{0, 1, 2, 3});  // test untouched
}

TEST_CASE("val_fraction 0 keeps every training row; empty data and empty train splits are input errors") {
  const auto s = data::prepare_splits(numbered(5), numbered(1), "n", {.val_fraction = 0.0});
  CHECK(s.val.size() == 0);
  CHECK(s.val.feature_count == 2);
  CHECK(ids(s.train) == std::vector<int64_t>{0, 1, 2, 3, 4});

  check_mentions(message_of<InputError>([] { data::prepare_splits(numbered(0), numbered(1), "e", {}); }),
                 {"dataset e", "training set has no rows"});
  check_mentions(message_of<InputError>([] { data::prepare_splits(numbered(3), numbered(0), "e", {}); }),
                 {"dataset e", "test set has no rows"});
  check_mentions(message_of<InputError>(
                     [] { data::prepare_splits(numbered(1), numbered(1), "e", {.val_fraction = 0.6}); }),
                 {"0.6", "1 training rows", "no rows to train on"});
}

TEST_CASE("limits take a seeded subset before splitting; a limit of the size keeps all, above it is an error") {
  const auto s = data::prepare_splits(numbered(100), numbered(30), "n",
                                      {.val_fraction = 0.2, .seed = 5, .limit_train = 20, .limit_test = 7});
  CHECK(s.train.size() == 16);
  CHECK(s.val.size() == 4);
  CHECK(s.test.size() == 7);
  const auto t = ids(s.test);
  CHECK(std::is_sorted(t.begin(), t.end()));
  CHECK(t != std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6});  // a random subset, not the head
  const auto again = data::prepare_splits(numbered(100), numbered(30), "n",
                                          {.val_fraction = 0.2, .seed = 5, .limit_train = 20, .limit_test = 7});
  CHECK(ids(again.train) == ids(s.train));
  CHECK(ids(again.test) == t);
  const auto all = data::prepare_splits(numbered(10), numbered(3), "n", {.limit_train = 10, .limit_test = 3});
  CHECK(all.train.size() + all.val.size() == 10);
  CHECK(all.test.size() == 3);
  // The library names the field (the command line says the flag: tests/test_cli_agreement.cpp).
  const ConfigError train = [] {
    try {
      data::prepare_splits(numbered(10, "ten"), numbered(3), "n", {.limit_train = 11});
    } catch (const ConfigError& e) {
      return e;
    }
    FAIL("no ConfigError");
    return ConfigError("", "", "");
  }();
  CHECK(train.field == "limit_train");
  CHECK(std::string(train.what()) == "limit_train 11 is more than the 10 rows of 'ten'; 0 = all rows");
  check_mentions(message_of<ConfigError>([] { data::prepare_splits(numbered(10), numbered(3, "three"), "n", {.limit_test = 4}); }),
                 {"limit_test 4 is more than the 3 rows of 'three'"});
}

TEST_CASE("the splits record how they were prepared: the files' divisor, the sample shape, the statistics used") {
  data::Dataset train = numbered(40);
  train.divisor = 255;
  train.source = "dir/train-images";
  data::Dataset test = numbered(3);
  test.divisor = 255;
  const auto plain = data::prepare_splits(train, test, "n", {.seed = 2});
  CHECK(plain.preparation.divisor == 255);
  CHECK(plain.preparation.sample_shape == std::vector<int64_t>{2});
  CHECK(!plain.preparation.standardization);
  CHECK(plain.train.source == "dir/train-images");  // kept by the split
  const auto z = data::prepare_splits(train, test, "n", {.seed = 2, .standardize = true});
  REQUIRE(z.preparation.standardization);
  // The statistics actually used: those of the (unstandardized) training split.
  const data::Standardization fitted = data::fit_standardization(plain.train);
  CHECK(z.preparation.standardization->mean == fitted.mean);
  CHECK(z.preparation.standardization->scale == fitted.scale);
  data::Dataset again = plain.test;
  data::apply_standardization(again, *z.preparation.standardization);
  CHECK(again.features == z.test.features);

  // Files of one dataset that disagree: both named, both shapes.
  test.shape = {1, 2, 1};
  test.source = "dir/test-images";
  check_mentions(message_of<InputError>([&] { data::prepare_splits(train, test, "n", {}); }),
                 {"dir/test-images: samples are [1,2,1], but dir/train-images has [2]"});
  test.shape.clear();
  test.divisor = 1;
  check_mentions(message_of<InputError>([&] { data::prepare_splits(train, test, "n", {}); }),
                 {"dir/test-images: values are divided by 1, but dir/train-images's by 255"});
}

TEST_CASE("standardization uses train statistics only and applies them to all three splits") {
  data::Dataset train = numbered(40);
  for (int64_t i = 0; i < train.size(); ++i) train.features[static_cast<size_t>(2 * i + 1)] = 7.0f;  // constant
  data::Dataset test = numbered(3);
  const auto s = data::prepare_splits(train, test, "n", {.val_fraction = 0.25, .seed = 9, .standardize = true});
  const auto raw = data::prepare_splits(train, test, "n", {.val_fraction = 0.25, .seed = 9});

  double mean = 0, sq = 0;
  for (int64_t i = 0; i < raw.train.size(); ++i) mean += raw.train.row(i)[0];
  mean /= static_cast<double>(raw.train.size());
  for (int64_t i = 0; i < raw.train.size(); ++i) sq += std::pow(raw.train.row(i)[0] - mean, 2);
  const double sd = std::sqrt(sq / static_cast<double>(raw.train.size()));

  double z_mean = 0, z_sq = 0;
  for (int64_t i = 0; i < s.train.size(); ++i) z_mean += s.train.row(i)[0];
  for (int64_t i = 0; i < s.train.size(); ++i) z_sq += std::pow(s.train.row(i)[0], 2);
  CHECK(z_mean / static_cast<double>(s.train.size()) == doctest::Approx(0.0).epsilon(1e-6));
  CHECK(z_sq / static_cast<double>(s.train.size()) == doctest::Approx(1.0).epsilon(1e-5));
  for (int64_t i = 0; i < s.val.size(); ++i)
    CHECK(s.val.row(i)[0] == doctest::Approx((raw.val.row(i)[0] - mean) / sd).epsilon(1e-5));
  for (int64_t i = 0; i < s.test.size(); ++i) {
    CHECK(s.test.row(i)[0] == doctest::Approx((raw.test.row(i)[0] - mean) / sd).epsilon(1e-5));
    // Constant in train: centred only, so the test value 2i - 7 stays finite and unscaled.
    CHECK(s.test.row(i)[1] == doctest::Approx(2.0 * static_cast<double>(i) - 7.0));
  }
  CHECK(s.train.row(0)[1] == 0.0f);

  const auto z = data::fit_standardization(raw.train);
  CHECK(z.scale[1] == 1.0f);
  CHECK(z.mean[1] == 7.0f);
  data::Dataset other = numbered(2);
  other.feature_count = 1;
  other.features.resize(2);
  check_mentions(message_of<UsageError>([&] { data::apply_standardization(other, z); }), {"2 features", "with 1"});
}

TEST_CASE("synthetic: documented default sizes, deterministic per data seed, split seed separate") {
  const auto s = data::load("synthetic", {});
  CHECK(s.train.size() == 3200);
  CHECK(s.val.size() == 800);
  CHECK(s.test.size() == 1000);
  CHECK(s.train.feature_count == 20);
  CHECK(s.train.num_classes == 4);
  CHECK(s.test.name == "synthetic/test");
  std::vector<int64_t> counts(4, 0);
  for (int32_t y : s.train.labels) counts[static_cast<size_t>(y)]++;
  for (int64_t c : counts) CHECK(c > 600);  // every class well represented
  float lo = 0, hi = 0;
  for (float v : s.train.features) lo = std::min(lo, v), hi = std::max(hi, v);
  CHECK(lo > -10.0f);
  CHECK(hi < 10.0f);

  const auto again = data::load("synthetic", {});
  CHECK(again.train.features == s.train.features);
  CHECK(again.test.labels == s.test.labels);

  // Another split seed reshuffles train/val but the generated data (and so the test set) is the same.
  const auto resplit = data::load("synthetic", {.seed = 4});
  CHECK(resplit.test.features == s.test.features);
  CHECK(resplit.val.features != s.val.features);

  data::SyntheticOptions other;
  other.seed = 1;
  CHECK(data::make_synthetic(other).first.features != data::make_synthetic({}).first.features);

  data::SyntheticOptions small{.train_rows = 10, .test_rows = 5, .features = 3, .classes = 2};
  const auto [train, test] = data::make_synthetic(small);
  CHECK(train.size() == 10);
  CHECK(test.size() == 5);
  CHECK(train.feature_count == 3);
  small.test_rows = 6;  // the training set does not depend on the test size
  CHECK(data::make_synthetic(small).first.features == train.features);

  check_mentions(message_of<UsageError>([] { data::make_synthetic({.classes = 1}); }), {"classes", "got 1"});
  check_mentions(message_of<UsageError>([] { data::make_synthetic({.train_rows = 0}); }), {"train_rows"});
}

TEST_CASE("synthetic: learnable but not trivially separable (nearest class mean on the test set)") {
  // A linear baseline: nearest class mean. It should do far better than chance (25%) but fall
  // short of perfect, since the clusters overlap and each class is two of them.
  const auto s = data::load("synthetic", {.val_fraction = 0.0});
  const int64_t f = s.train.feature_count;
  std::vector<double> means(static_cast<size_t>(4 * f), 0.0);
  std::vector<double> counts(4, 0.0);
  for (int64_t i = 0; i < s.train.size(); ++i) {
    const auto y = static_cast<size_t>(s.train.labels[static_cast<size_t>(i)]);
    counts[y] += 1;
    for (int64_t k = 0; k < f; ++k) means[y * static_cast<size_t>(f) + static_cast<size_t>(k)] += s.train.row(i)[k];
  }
  for (size_t y = 0; y < 4; ++y)
    for (int64_t k = 0; k < f; ++k) means[y * static_cast<size_t>(f) + static_cast<size_t>(k)] /= counts[y];
  int64_t correct = 0;
  for (int64_t i = 0; i < s.test.size(); ++i) {
    size_t best = 0;
    double best_d = 1e300;
    for (size_t y = 0; y < 4; ++y) {
      double d = 0;
      for (int64_t k = 0; k < f; ++k) d += std::pow(s.test.row(i)[k] - means[y * static_cast<size_t>(f) + static_cast<size_t>(k)], 2);
      if (d < best_d) best_d = d, best = y;
    }
    correct += static_cast<int32_t>(best) == s.test.labels[static_cast<size_t>(i)];
  }
  const double accuracy = static_cast<double>(correct) / static_cast<double>(s.test.size());
  MESSAGE("nearest-class-mean test accuracy on synthetic: " << accuracy);
  CHECK(accuracy > 0.6);
  CHECK(accuracy < 0.95);
}

TEST_CASE("mnist and kmnist read IDX files from --data-dir, raw or .gz") {
  TempDir dir;
  write_idx_folder(dir / "raw", false);
  write_idx_folder(dir / "gz", true);
  for (const std::string name : {"mnist", "kmnist"}) {
    const auto raw = data::load(name, {.data_dir = dir / "raw", .val_fraction = 0.2});
    const auto gz = data::load(name, {.data_dir = dir / "gz", .val_fraction = 0.2});
    CHECK(raw.train.size() == 8);
    CHECK(raw.val.size() == 2);
    CHECK(raw.test.size() == 3);
    CHECK(raw.train.feature_count == 4);
    CHECK(raw.train.num_classes == 10);
    CHECK(raw.test.labels == std::vector<int32_t>{9, 0, 1});
    CHECK(raw.train.features == gz.train.features);
    CHECK(raw.train.name == name + "/train");
  }
  std::filesystem::remove(dir / "raw/t10k-labels-idx1-ubyte");
  check_mentions(message_of<InputError>([&] { data::load("mnist", {.data_dir = dir / "raw"}); }),
                 {dir / "raw/t10k-labels-idx1-ubyte", "t10k-labels-idx1-ubyte.gz", "neither"});
  check_mentions(message_of<InputError>([&] { data::load("kmnist", {.data_dir = dir / "none"}); }),
                 {"kmnist", dir / "none", "not found"});
  check_mentions(message_of<InputError>([&] { data::load("fashion-mnist", {.data_dir = dir / "none"}); }),
                 {"fashion-mnist", dir / "none", "not found"});
  // fashion-mnist with --data-dir reads the same layout.
  CHECK(data::load("fashion-mnist", {.data_dir = dir / "gz"}).test.size() == 3);
}

TEST_CASE("real Fashion-MNIST from the Debian package (skipped when not installed)") {
  if (!std::filesystem::is_directory(data::kFashionMnistDir)) {
    bnlab::test::skip_test(std::string(data::kFashionMnistDir) + " is absent (apt-get install dataset-fashion-mnist)");
    check_mentions(message_of<InputError>([] { data::load("fashion-mnist", {}); }),
                   {data::kFashionMnistDir, "apt-get install dataset-fashion-mnist", "--data-dir"});
    return;
  }
  const auto s = data::load("fashion-mnist", {.val_fraction = 0.2, .seed = 0});
  CHECK(s.train.size() == 48000);
  CHECK(s.val.size() == 12000);
  CHECK(s.test.size() == 10000);
  for (const auto* d : {&s.train, &s.val, &s.test}) {
    CHECK(d->feature_count == 784);
    CHECK(d->num_classes == 10);
    CHECK(d->features.size() == static_cast<size_t>(d->size() * 784));
    const auto [lo, hi] = std::minmax_element(d->features.begin(), d->features.end());
    CHECK(*lo == 0.0f);
    CHECK(*hi == 1.0f);
    std::set<int32_t> classes(d->labels.begin(), d->labels.end());
    CHECK(classes.size() == 10);
    CHECK(*classes.begin() == 0);
    CHECK(*classes.rbegin() == 9);
  }
}

TEST_CASE("train and test samples of another shape are refused; the sample shape survives the splits") {
  data::Dataset train = numbered(10), test = numbered(4);
  train.shape = {1, 2, 1};  // 2 features as 1×2 one-channel images
  test.shape = {2, 1, 1};
  CHECK(message_of<InputError>([&] { data::prepare_splits(train, test, "n", {}); }) ==
        "dataset n: the test samples are [2,1,1] but the training samples are [1,2,1]");
  test.shape = {1, 2, 1};
  const auto s = data::prepare_splits(train, test, "n", {.val_fraction = 0.2});
  CHECK(s.train.sample_shape() == std::vector<int64_t>{1, 2, 1});
  CHECK(s.val.sample_shape() == std::vector<int64_t>{1, 2, 1});
  CHECK(s.test.sample_shape() == std::vector<int64_t>{1, 2, 1});
}

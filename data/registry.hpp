// The dataset registry: a dataset by name, split into train / validation / test and prepared.
//
//   bnlab::data::Splits s = bnlab::data::load("fashion-mnist", {.val_fraction = 0.2, .seed = 0});
//   // s.train 48000, s.val 12000, s.test 10000 rows of 784 features in [0, 1], 10 classes
//   auto quick = bnlab::data::load("synthetic", {.seed = 1, .standardize = true});
//   for (const auto& d : bnlab::data::dataset_infos()) std::cout << d.name << "  " << d.description << "\n";
//
// What load() does, in order (every random choice seeded by LoadOptions::seed, each step on its own
// sub-stream so changing one option does not reshuffle the others):
//   1. read the training and test sets (an empty one is an InputError);
//   2. limit_train / limit_test > 0: keep a seeded random subset of that many rows (file order kept;
//      more rows than the set has is an error, not "all");
//   3. validation split: a permutation of the training rows from Rng::derived(seed, kSplitStream);
//      its first round(val_fraction * N) rows become val, the rest train (both keep file order);
//   4. standardize: per feature, subtract the mean and divide by the std of the TRAIN split only,
//      applied to train, val and test alike. A feature whose train std is below kMinStd (a pixel
//      that is always 0, say) is only centred: dividing by ~0 would turn any test value into a huge
//      outlier.
// Splits::preparation records steps 4 and the files' scaling, for checkpoints and predict;
// Splits::class_names what the class ids mean (class_names below).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "data/dataset.hpp"
#include "data/synthetic.hpp"
#include "graph/fields.hpp"

namespace bnlab::data {

inline constexpr uint64_t kSplitStream = 0x76616c2d73706c74ull;       // "val-splt"
inline constexpr uint64_t kLimitTrainStream = 0x6c696d2d74726e00ull;  // "lim-trn"
inline constexpr uint64_t kLimitTestStream = 0x6c696d2d74737400ull;   // "lim-tst"
inline constexpr double kMinStd = 1e-6;

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct LoadOptions {
  std::string data_dir{};        // where the files are; "" = the dataset's default (fashion-mnist only)
  double val_fraction = 0.2;     // in [0, 1); 0 gives an empty validation set
  uint64_t seed = 0;             // split and subset seed
  bool standardize = false;      // per-feature z-score from the train split
  int64_t limit_train = 0;       // 0 = all training rows, else a seeded subset of this many
  int64_t limit_test = 0;        // 0 = all test rows
  bool csv_pixels = false;       // "csv": features are 0–255 pixels, divide by 255
  SyntheticOptions synthetic{};  // "synthetic": sizes and shape; its seed is the data's own
};

// The data options' fields, declared once (graph/fields.hpp): they make the --data-dir,
// --val-fraction, --standardize, --limit-train and --limit-test flags, are checked by load(), and
// are written to checkpoints and (those with a metrics key) to each run's config in the metrics
// document. The split seed is the training seed (--seed), so it has no flag of its own here.
template <class C, class V>
  requires std::is_same_v<std::remove_const_t<C>, LoadOptions>
void visit_fields(C& o, V&& v) {
  v(FieldInfo{.name = "data_dir", .flag = "--data-dir", .metrics = "data_dir",
              .doc = "folder holding the dataset's files (default: the dataset's own)", .type_name = "DIR"},
    o.data_dir);
  v(FieldInfo{.name = "val_fraction", .flag = "--val-fraction", .metrics = "val_fraction",
              .doc = "fraction of the training rows held out for validation, in [0, 1)", .range = kUnitOpen},
    o.val_fraction);
  v(FieldInfo{.name = "seed"}, o.seed);
  v(FieldInfo{.name = "standardize", .flag = "--standardize", .metrics = "standardize",
              .doc = "z-score every feature with the training split's mean and std"},
    o.standardize);
  v(FieldInfo{.name = "limit_train", .flag = "--limit-train", .metrics = "limit_train",
              .doc = "train on a seeded subset of N training rows (0 = all)", .range = kNonNegative, .type_name = "N"},
    o.limit_train);
  v(FieldInfo{.name = "limit_test", .flag = "--limit-test", .metrics = "limit_test",
              .doc = "test on a seeded subset of N test rows (0 = all)", .range = kNonNegative, .type_name = "N"},
    o.limit_test);
  v(FieldInfo{.name = "csv_pixels", .flag = "--csv-pixels",
              .doc = "dataset csv: the features are 0-255 pixels, divide them by 255 (as IDX and CIFAR-10 images are)"},
    o.csv_pixels);
  auto synthetic = [&](const char* name, auto& value) { v(FieldInfo{.name = name, .nested = "synthetic"}, value); };
  synthetic("train_rows", o.synthetic.train_rows);
  synthetic("test_rows", o.synthetic.test_rows);
  synthetic("features", o.synthetic.features);
  synthetic("classes", o.synthetic.classes);
  synthetic("clusters_per_class", o.synthetic.clusters_per_class);
  synthetic("separation", o.synthetic.separation);
  synthetic("noise", o.synthetic.noise);
  synthetic("seed", o.synthetic.seed);
}

struct DatasetInfo {
  std::string name;
  std::string description;  // one line for --help
};

// The known datasets, in display order:
//   fashion-mnist  IDX files, default dir /usr/share/datasets/fashion-mnist (Debian dataset-fashion-mnist)
//   mnist, kmnist  IDX files in data_dir: {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]
//   cifar10        binary batches in data_dir: data_batch_1..5.bin, test_batch.bin
//   csv            data_dir/train.csv and data_dir/test.csv (label first, then features)
//   synthetic      generated: 4000 train / 1000 test rows, 20 features, 4 classes (SyntheticOptions)
const std::vector<DatasetInfo>& dataset_infos();
std::vector<std::string> dataset_names();

// Throws UsageError for an unknown name (listing the known ones) or bad options, InputError for
// missing or malformed files, files of one dataset that disagree (sample shapes, CSV field counts)
// and empty data; ConfigError when limit_train / limit_test is more than the rows there are.
Splits load(const std::string& name, const LoadOptions& options);

// Step 1 alone: the training and test sets as read (or generated), before any limit or split.
// load(name, o) == prepare_splits(read(name, o)..., name, o).
std::pair<Dataset, Dataset> read(const std::string& name, const LoadOptions& options);

// Steps 2–4 above on an already read dataset (`name` prefixes the split names and messages).
Splits prepare_splits(Dataset train, Dataset test, const std::string& name, const LoadOptions& options);

// What the `classes` class ids of dataset `name` mean, one name per id:
//   fashion-mnist  "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"
//   mnist          the digits "0" … "9"
//   kmnist         the romanized hiragana "o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo" (ASCII, so
//                  terminal tables stay aligned)
//   cifar10        the lines of batches.meta.txt in options.data_dir when it holds ten names, else the
//                  standard ten ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
//   csv, synthetic the ids themselves, "0" … "classes-1"
// A known dataset whose names do not number `classes` (a csv of 3 classes has 3 ids) gets the ids.
std::vector<std::string> class_names(const std::string& name, const LoadOptions& options, int32_t classes);
// "0" … "classes-1": the names of classes that have none.
std::vector<std::string> class_ids(int64_t classes);

Standardization fit_standardization(const Dataset& d);
void apply_standardization(Dataset& d, const Standardization& s);
// The same on rows of `feature_count` values held elsewhere (predict's input rows); `name` for the
// message when the widths differ.
void apply_standardization(std::span<float> rows, int64_t feature_count, const Standardization& s, const std::string& name);

}  // namespace bnlab::data

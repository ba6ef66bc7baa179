// Reading CIFAR-10 in its binary form (the "CIFAR-10 binary version" tarball, unpacked).
//
//   bnlab::data::Dataset batch = bnlab::data::read_cifar10_batch(dir + "/test_batch.bin", "cifar10/test");
//   // batch.size() == 10000, batch.feature_count == 3072, values / 255 in [0, 1]
//   auto [train, test] = bnlab::data::read_cifar10_dir(dir);   // data_batch_1..5.bin, test_batch.bin
//
// Each record is 1 label byte (0–9) then 3072 pixel bytes: the 1024 red values of the 32x32 image
// row by row, then green, then blue. bnlab converts each image to channels last on load (as every
// image in bnlab): feature (h·32 + w)·3 + c is channel c at row h, column w; shape [32,32,3].
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "data/dataset.hpp"

namespace bnlab::data {

inline constexpr int64_t cifar10_features = 3072;
inline constexpr int64_t cifar10_record_bytes = 1 + cifar10_features;

// One batch file (gzipped batches are read too). Throws InputError for a missing file, a size that
// is not a multiple of 3073 (naming the offset of the incomplete record) or a label above 9.
Dataset read_cifar10_batch(const std::string& path, std::string name);

// Several batch files concatenated in the order given.
Dataset read_cifar10_batches(const std::vector<std::string>& paths, std::string name);

// {train, test} from a folder holding data_batch_1.bin … data_batch_5.bin and test_batch.bin, or
// holding the tarball's cifar-10-batches-bin/ subfolder with them. Names are "cifar10/train|test".
std::pair<Dataset, Dataset> read_cifar10_dir(const std::string& dir);

// The class names of batches.meta.txt in `dir` (or its cifar-10-batches-bin/), one per line, blank
// lines and surrounding spaces dropped; empty when there is no such file or it does not hold
// exactly ten names (data::class_names then uses the standard ten).
std::vector<std::string> read_cifar10_class_names(const std::string& dir);

}  // namespace bnlab::data

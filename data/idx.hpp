// Reading IDX files — the format of MNIST, Fashion-MNIST and KMNIST — gzipped or raw.
//
//   auto images = bnlab::data::read_idx("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz");
//   // images.dims == {10000, 28, 28}, images.values.size() == 7'840'000
//   bnlab::data::Dataset test = bnlab::data::read_idx_dataset(
//       dir + "/t10k-images-idx3-ubyte.gz", dir + "/t10k-labels-idx1-ubyte.gz", /*num_classes=*/10,
//       "fashion-mnist/test");
//   // test.feature_count == 784; pixels scaled by 1/255 into [0, 1]
//
// Layout: bytes 0–1 zero, byte 2 the element type (only 0x08, unsigned byte, is supported), byte 3
// the rank r, then r big-endian uint32 dimensions, then the elements row-major. A file is gzip if
// it starts with 1f 8b, whatever its name; byte offsets in messages are then offsets in the
// decompressed stream (that is where the IDX structure lives).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.hpp"

namespace bnlab::data {

// An IDX array of unsigned bytes: dims[0] items, each of product(dims[1..]) elements.
struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> values;  // product(dims) bytes, row-major
  int64_t header_bytes = 0;     // where the values start in the (decompressed) file
};

// The whole content of a file, gunzipped if it starts with the gzip magic 1f 8b.
// Throws InputError for a missing or unreadable file or corrupt gzip data.
std::vector<uint8_t> read_file_bytes(const std::string& path);

// Parses an IDX file of rank >= 1 and type ubyte. Throws InputError for a wrong magic, a truncated
// header or data, or bytes left over after the data.
IdxArray read_idx(const std::string& path);

// Images (rank >= 1; trailing dimensions flattened into features, values / 255) and labels
// (rank 1) as one dataset. Throws InputError when the counts differ or a label is >= num_classes.
Dataset read_idx_dataset(const std::string& images_path, const std::string& labels_path,
                         int32_t num_classes, std::string name);

}  // namespace bnlab::data

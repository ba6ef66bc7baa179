// IDX reading: exact values from raw and gzipped files, and every error naming file and offset.
#include <doctest/doctest.h>

#include "data/idx.hpp"
#include "data_test_support.hpp"
#include "graph/errors.hpp"

using namespace bnlab;
using namespace bnlab::test;
using data::read_idx;
using data::read_idx_dataset;

namespace {

// 2 images of 2x3 pixels and their labels.
const Bytes kPixels = {0, 51, 255, 102, 153, 204, 255, 0, 51, 1, 2, 3};
const Bytes kImages = idx_bytes({2, 2, 3}, kPixels);
const Bytes kLabels = idx_bytes({2}, {7, 2});

void check_small_dataset(const data::Dataset& d) {
  REQUIRE(d.size() == 2);
  CHECK(d.feature_count == 6);
  CHECK(d.sample_shape() == std::vector<int64_t>{2, 3, 1});  // 2×3 pixels, one channel
  CHECK(d.num_classes == 10);
  CHECK(d.name == "t/train");
  CHECK(d.labels == std::vector<int32_t>{7, 2});
  REQUIRE(d.features.size() == 12);
  CHECK(d.features[0] == 0.0f);
  CHECK(d.features[1] == 0.2f);   // 51 / 255
  CHECK(d.features[2] == 1.0f);   // 255 / 255
  CHECK(d.features[3] == 0.4f);   // 102 / 255
  CHECK(d.features[6] == 1.0f);   // second image starts here
  CHECK(d.row(1)[2] == 0.2f);
  for (size_t k = 0; k < kPixels.size(); ++k) CHECK(d.features[k] == static_cast<float>(kPixels[k]) / 255.0f);
}

}  // namespace

TEST_CASE("raw IDX files: header parsed, trailing dims flattened, pixels scaled by 1/255") {
  TempDir dir;
  write_bytes(dir / "images", kImages);
  write_bytes(dir / "labels", kLabels);
  const data::IdxArray a = read_idx(dir / "images");
  CHECK(a.dims == std::vector<int64_t>{2, 2, 3});
  CHECK(a.header_bytes == 16);
  CHECK(a.values == kPixels);
  check_small_dataset(read_idx_dataset(dir / "images", dir / "labels", 10, "t/train"));
}

TEST_CASE("gzipped IDX files are detected by their magic, whatever the name") {
  TempDir dir;
  write_gzip(dir / "images.gz", kImages);
  write_gzip(dir / "labels-no-suffix", kLabels);
  CHECK(read_raw(dir / "images.gz")[0] == 0x1f);
  check_small_dataset(read_idx_dataset(dir / "images.gz", dir / "labels-no-suffix", 10, "t/train"));
  CHECK(data::read_file_bytes(dir / "images.gz") == kImages);
}

TEST_CASE("any rank >= 1: rank 1 gives one feature, rank 3 images get one channel, rank 4 keeps its channels") {
  TempDir dir;
  write_bytes(dir / "r1", idx_bytes({3}, {0, 255, 51}));
  write_bytes(dir / "r4", idx_bytes({3, 1, 2, 2}, Bytes(12, 255)));
  write_bytes(dir / "labels", idx_bytes({3}, {0, 1, 0}));
  const auto d1 = read_idx_dataset(dir / "r1", dir / "labels", 2, "r1");
  CHECK(d1.feature_count == 1);
  CHECK(d1.sample_shape() == std::vector<int64_t>{1});
  CHECK(d1.features == std::vector<float>{0.0f, 1.0f, 0.2f});
  const auto d4 = read_idx_dataset(dir / "r4", dir / "labels", 2, "r4");
  CHECK(d4.feature_count == 4);
  CHECK(d4.sample_shape() == std::vector<int64_t>{1, 2, 2});  // [N,H,W,C]: H 1, W 2, C 2
  CHECK(d4.features.size() == 12);
}

TEST_CASE("zero items is an empty dataset, not an error (the registry decides)") {
  TempDir dir;
  write_bytes(dir / "images", idx_bytes({0, 28, 28}, {}));
  write_bytes(dir / "labels", idx_bytes({0}, {}));
  const auto d = read_idx_dataset(dir / "images", dir / "labels", 10, "empty");
  CHECK(d.size() == 0);
  CHECK(d.feature_count == 784);
}

TEST_CASE("missing file names the path") {
  TempDir dir;
  const std::string path = dir / "nope-images-idx3-ubyte.gz";
  check_mentions(message_of<InputError>([&] { read_idx(path); }), {path, "no such file"});
  check_mentions(message_of<InputError>([&] { read_idx(dir.path().string()); }), {"is a directory"});
}

TEST_CASE("wrong magic names the path, the value found and offset 0") {
  TempDir dir;
  const std::string text = dir / "text";
  write_text(text, "hello world, not IDX");
  check_mentions(message_of<InputError>([&] { read_idx(text); }),
                 {text, "0x68656C6C", "byte offset 0", "not an IDX file"});

  const std::string floats = dir / "floats";
  write_bytes(floats, {0, 0, 0x0D, 1, 0, 0, 0, 0});
  check_mentions(message_of<InputError>([&] { read_idx(floats); }),
                 {floats, "0x00000D01", "byte offset 0", "unsigned byte (0x08)"});

  const std::string rank0 = dir / "rank0";
  write_bytes(rank0, {0, 0, 8, 0, 5});
  check_mentions(message_of<InputError>([&] { read_idx(rank0); }), {rank0, "0x00000800", "rank 0"});
}

TEST_CASE("truncated header and truncated data name the offset where the file ended") {
  TempDir dir;
  const std::string tiny = dir / "tiny";
  write_bytes(tiny, {0, 0});
  check_mentions(message_of<InputError>([&] { read_idx(tiny); }), {tiny, "byte offset 2", "needs 4 bytes"});

  const std::string header = dir / "header";
  write_bytes(header, {0, 0, 8, 3, 0, 0, 0, 2, 0, 0});
  check_mentions(message_of<InputError>([&] { read_idx(header); }),
                 {header, "truncated IDX header", "byte offset 10", "needs 16 bytes"});

  Bytes cut = kImages;
  cut.resize(cut.size() - 5);  // 16 header + 7 of the 12 pixel bytes
  const std::string raw = dir / "cut";
  write_bytes(raw, cut);
  check_mentions(message_of<InputError>([&] { read_idx(raw); }),
                 {raw, "truncated", "byte offset 23", "expected 28 bytes", "2x2x3"});

  // Same story inside a well-formed gzip stream: offsets count decompressed bytes.
  const std::string gz = dir / "cut.gz";
  write_gzip(gz, cut);
  check_mentions(message_of<InputError>([&] { read_idx(gz); }), {gz, "byte offset 23", "expected 28 bytes"});
}

TEST_CASE("a cut-off or corrupt gzip stream is an error, not silently short data") {
  TempDir dir;
  Bytes pixels(200 * 784);  // incompressible enough that half the file is half the stream
  for (size_t k = 0; k < pixels.size(); ++k) pixels[k] = static_cast<uint8_t>((k * 2654435761u) >> 13);
  const Bytes big = idx_bytes({200, 28, 28}, pixels);
  const std::string full = dir / "full.gz";
  write_gzip(full, big);
  Bytes compressed = read_raw(full);
  compressed.resize(compressed.size() / 2);
  const std::string half = dir / "half.gz";
  write_bytes(half, compressed);
  check_mentions(message_of<InputError>([&] { read_idx(half); }), {half, "gzip", "decompressed byte offset"});

  Bytes garbled = read_raw(full);
  for (size_t k = 20; k < 60; ++k) garbled[k] ^= 0xA5;
  const std::string bad = dir / "garbled.gz";
  write_bytes(bad, garbled);
  check_mentions(message_of<InputError>([&] { read_idx(bad); }), {bad, "gzip"});
}

TEST_CASE("bytes after the data are an error naming where they start") {
  TempDir dir;
  Bytes extra = kLabels;
  extra.push_back(9);
  const std::string path = dir / "labels";
  write_bytes(path, extra);
  check_mentions(message_of<InputError>([&] { read_idx(path); }), {path, "1 unexpected bytes", "byte offset 10"});
}

TEST_CASE("image and label counts that differ name both files and both counts") {
  TempDir dir;
  write_bytes(dir / "images", kImages);
  write_bytes(dir / "labels", idx_bytes({3}, {1, 2, 3}));
  check_mentions(message_of<InputError>([&] { read_idx_dataset(dir / "images", dir / "labels", 10, "t"); }),
                 {dir / "images", "2 images", dir / "labels", "3 labels"});
}

TEST_CASE("a label >= num_classes names the file, the label and its byte offset") {
  TempDir dir;
  write_bytes(dir / "images", kImages);
  write_bytes(dir / "labels", idx_bytes({2}, {1, 10}));
  check_mentions(message_of<InputError>([&] { read_idx_dataset(dir / "images", dir / "labels", 10, "t"); }),
                 {dir / "labels", "label 10", "byte offset 9", "class count 10"});
}

TEST_CASE("a labels file of rank other than 1 is rejected") {
  TempDir dir;
  write_bytes(dir / "images", kImages);
  write_bytes(dir / "labels", idx_bytes({2, 1}, {1, 1}));
  check_mentions(message_of<InputError>([&] { read_idx_dataset(dir / "images", dir / "labels", 10, "t"); }),
                 {dir / "labels", "rank 1", "found rank 2"});
}

// CIFAR-10 binary batches: exact values and channel order, folder layout, and the errors.
#include <doctest/doctest.h>

#include "data/cifar10.hpp"
#include "data/registry.hpp"
#include "data_test_support.hpp"
#include "graph/errors.hpp"

using namespace bnlab;
using namespace bnlab::test;

namespace {

// A record whose red plane is all `red`, green all 51, blue all 255, pixel 0 of red set to `first`.
Bytes record(uint8_t label, uint8_t red, uint8_t first = 0) {
  Bytes r(1 + 3072);
  r[0] = label;
  std::fill(r.begin() + 1, r.begin() + 1 + 1024, red);
  std::fill(r.begin() + 1 + 1024, r.begin() + 1 + 2048, 51);
  std::fill(r.begin() + 1 + 2048, r.end(), 255);
  r[1] = first;
  return r;
}

Bytes batch(std::initializer_list<Bytes> records) {
  Bytes out;
  for (const auto& r : records) out.insert(out.end(), r.begin(), r.end());
  return out;
}

void write_folder(const std::string& dir, int rows_per_batch) {
  std::filesystem::create_directories(dir);
  for (int b = 1; b <= 5; ++b) {
    Bytes bytes;
    for (int r = 0; r < rows_per_batch; ++r) {
      const Bytes rec = record(static_cast<uint8_t>((b + r) % 10), static_cast<uint8_t>(b));
      bytes.insert(bytes.end(), rec.begin(), rec.end());
    }
    write_bytes(dir + "/data_batch_" + std::to_string(b) + ".bin", bytes);
  }
  write_bytes(dir + "/test_batch.bin", batch({record(9, 0), record(0, 0)}));
}

}  // namespace

TEST_CASE("a batch file: labels, channel-major pixels stored channels last, scaled by 1/255") {
  TempDir dir;
  write_bytes(dir / "b.bin", batch({record(3, 102, 17), record(9, 0)}));
  const data::Dataset d = data::read_cifar10_batch(dir / "b.bin", "cifar10/x");
  REQUIRE(d.size() == 2);
  CHECK(d.feature_count == 3072);
  CHECK(d.num_classes == 10);
  CHECK(d.name == "cifar10/x");
  CHECK(d.labels == std::vector<int32_t>{3, 9});
  CHECK(d.sample_shape() == std::vector<int64_t>{32, 32, 3});
  // Feature (h·32 + w)·3 + c: pixel (0,0) is red 17 (the record's byte 1), green 51, blue 255.
  CHECK(d.row(0)[0] == 17.0f / 255.0f);
  CHECK(d.row(0)[1] == 0.2f);       // green, 51 / 255
  CHECK(d.row(0)[2] == 1.0f);       // blue, 255 / 255
  CHECK(d.row(0)[3] == 0.4f);       // pixel (0,1): red plane, 102 / 255
  CHECK(d.row(0)[3 * 1023] == 0.4f);      // pixel (31,31) red
  CHECK(d.row(0)[3 * 1023 + 1] == 0.2f);  // green
  CHECK(d.row(0)[3071] == 1.0f);          // blue
  CHECK(d.row(1)[3] == 0.0f);
  CHECK(d.row(1)[3071] == 1.0f);
}

TEST_CASE("a folder: five training batches in order, then the test batch; also one level down") {
  TempDir dir;
  write_folder(dir / "flat", 3);
  auto [train, test] = data::read_cifar10_dir(dir / "flat");
  CHECK(train.size() == 15);
  CHECK(test.size() == 2);
  CHECK(train.name == "cifar10/train");
  CHECK(test.name == "cifar10/test");
  for (int b = 1; b <= 5; ++b) {
    const int64_t first = (b - 1) * 3;
    CHECK(train.row(first)[6] == static_cast<float>(b) / 255.0f);  // batch b's red plane is b (pixel 2's red)
    CHECK(train.labels[static_cast<size_t>(first)] == b % 10);
  }
  CHECK(test.labels == std::vector<int32_t>{9, 0});

  write_folder(dir / "up/cifar-10-batches-bin", 1);
  CHECK(data::read_cifar10_dir(dir / "up").first.size() == 5);
}

TEST_CASE("a size that is not a multiple of 3073 names the offset of the incomplete record") {
  TempDir dir;
  Bytes bytes = batch({record(1, 1), record(2, 2)});
  bytes.resize(bytes.size() + 100, 7);
  const std::string path = dir / "b.bin";
  write_bytes(path, bytes);
  check_mentions(message_of<InputError>([&] { data::read_cifar10_batch(path, "x"); }),
                 {path, "incomplete record at byte offset 6146", "6246", "3073"});
}

TEST_CASE("a label above 9 names the file, the label and its byte offset") {
  TempDir dir;
  const std::string path = dir / "b.bin";
  write_bytes(path, batch({record(1, 1), record(10, 2)}));
  check_mentions(message_of<InputError>([&] { data::read_cifar10_batch(path, "x"); }),
                 {path, "label 10", "byte offset 3073", "record 1", "0..9"});
}

TEST_CASE("a missing batch names its path; a missing folder names the folder") {
  TempDir dir;
  write_folder(dir / "c", 1);
  std::filesystem::remove(dir / "c/data_batch_4.bin");
  check_mentions(message_of<InputError>([&] { data::read_cifar10_dir(dir / "c"); }),
                 {dir / "c/data_batch_4.bin", "no such file"});
  check_mentions(message_of<InputError>([&] { data::read_cifar10_dir(dir / "none"); }), {dir / "none"});
}

TEST_CASE("the registry loads cifar10 from --data-dir and splits it") {
  TempDir dir;
  write_folder(dir / "c", 4);
  const auto s = data::load("cifar10", {.data_dir = dir / "c", .val_fraction = 0.2, .seed = 3});
  CHECK(s.train.size() == 16);
  CHECK(s.val.size() == 4);
  CHECK(s.test.size() == 2);
  CHECK(s.val.name == "cifar10/val");
  check_mentions(message_of<UsageError>([] { data::load("cifar10", {}); }), {"dataset cifar10 needs data_dir"});
}

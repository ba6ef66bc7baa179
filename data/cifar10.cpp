#include "data/cifar10.hpp"

#include <filesystem>
#include <fstream>

#include "data/file_kind.hpp"
#include "data/idx.hpp"
#include "graph/errors.hpp"
#include "graph/memory.hpp"

namespace bnlab::data {

namespace {

void append_batch(const std::string& path, Dataset& out) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  const auto size = static_cast<int64_t>(bytes.size());
  const int64_t records = size / cifar10_record_bytes;
  // Every batch has the one CIFAR-10 format; the likeliest other one is CIFAR-100's (a coarse and a
  // fine label before the pixels), whose fine labels run to 99.
  if (size == 0) throw InputError(path + ": empty file: a CIFAR-10 batch holds 3073-byte records (1 label + 3072 pixels)");
  if (size % cifar10_record_bytes != 0 && size % (cifar10_record_bytes + 1) == 0)
    throw InputError(path + ": file size " + std::to_string(size) + " is a multiple of 3074 bytes, not of CIFAR-10's 3073-byte record: " +
                     "a CIFAR-100 batch (2 label bytes + 3072 pixels)? All batches must be CIFAR-10's format");
  // A CIFAR-10 batch has no signature; a file of a kind that has one is named.
  const FileKind kind = sniff_bytes(bytes);
  if (size % cifar10_record_bytes != 0 && kind != FileKind::binary)
    throw InputError(not_a_message(path, {kind}, "a CIFAR-10 batch", "a batch holds 3073-byte records (1 label + 3072 pixels)"));
  if (size % cifar10_record_bytes != 0)
    throw InputError(path + ": incomplete record at byte offset " + std::to_string(records * cifar10_record_bytes) +
                     ": file size " + std::to_string(size) + " is not a multiple of the " +
                     std::to_string(cifar10_record_bytes) + "-byte record (1 label + 3072 pixels)");
  const size_t first_row = out.labels.size();
  check_memory(static_cast<double>(first_row + static_cast<size_t>(records)) * cifar10_features * sizeof(float), [&] {
    return path + ": " + std::to_string(first_row + static_cast<size_t>(records)) + " images need " +
           format_bytes(static_cast<double>(first_row + static_cast<size_t>(records)) * cifar10_features * sizeof(float)) +
           " as floats";
  }, "use fewer batch files");
  out.labels.resize(first_row + static_cast<size_t>(records));
  out.features.resize(out.labels.size() * static_cast<size_t>(cifar10_features));
  for (int64_t r = 0; r < records; ++r) {
    const uint8_t* rec = bytes.data() + r * cifar10_record_bytes;
    if (rec[0] > 9)
      throw InputError(path + ": label " + std::to_string(rec[0]) + " at byte offset " +
                       std::to_string(r * cifar10_record_bytes) + " (record " + std::to_string(r) +
                       ") is not in 0..9");
    const size_t row = first_row + static_cast<size_t>(r);
    out.labels[row] = rec[0];
    float* x = out.features.data() + row * static_cast<size_t>(cifar10_features);
    // The record stores the image channel-major (1024 red, 1024 green, 1024 blue bytes, each plane
    // row by row); bnlab keeps images channels last: x[(h·32 + w)·3 + c] = plane c at (h, w).
    const uint8_t* pixels = rec + 1;
    constexpr int64_t plane = 32 * 32;
    for (int64_t p = 0; p < plane; ++p)
      for (int64_t c = 0; c < 3; ++c) x[p * 3 + c] = static_cast<float>(pixels[c * plane + p]) / 255.0f;
  }
}

}  // namespace

Dataset read_cifar10_batch(const std::string& path, std::string name) {
  return read_cifar10_batches({path}, std::move(name));
}

Dataset read_cifar10_batches(const std::vector<std::string>& paths, std::string name) {
  Dataset out;
  out.name = std::move(name);
  out.feature_count = cifar10_features;
  out.shape = {32, 32, 3};
  out.num_classes = 10;
  out.divisor = 255;
  // "…/data_batch_1.bin" or "…/data_batch_1.bin … …/data_batch_5.bin"
  if (!paths.empty()) out.source = paths.size() == 1 ? paths.front() : paths.front() + " … " + paths.back();
  for (const auto& path : paths) append_batch(path, out);
  return out;
}

std::pair<Dataset, Dataset> read_cifar10_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) throw InputError(dir + ": CIFAR-10 folder not found");
  fs::path base(dir);
  // The tarball unpacks into cifar-10-batches-bin/; accept the folder above it as well.
  if (!fs::exists(base / "test_batch.bin") && fs::exists(base / "cifar-10-batches-bin" / "test_batch.bin"))
    base /= "cifar-10-batches-bin";
  std::vector<std::string> train_files;
  for (int i = 1; i <= 5; ++i) train_files.push_back((base / ("data_batch_" + std::to_string(i) + ".bin")).string());
  Dataset train = read_cifar10_batches(train_files, "cifar10/train");
  Dataset test = read_cifar10_batch((base / "test_batch.bin").string(), "cifar10/test");
  return {std::move(train), std::move(test)};
}

std::vector<std::string> read_cifar10_class_names(const std::string& dir) {
  namespace fs = std::filesystem;
  fs::path meta = fs::path(dir) / "batches.meta.txt";
  if (!fs::exists(meta)) meta = fs::path(dir) / "cifar-10-batches-bin" / "batches.meta.txt";
  std::error_code ec;
  if (!fs::is_regular_file(meta, ec) || fs::file_size(meta, ec) > 4096) return {};
  std::ifstream in(meta);
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) {
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    names.push_back(line.substr(first, line.find_last_not_of(" \t\r") - first + 1));
  }
  if (names.size() != 10) return {};
  return names;
}

}  // namespace bnlab::data

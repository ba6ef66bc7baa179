// Fuzzes the IDX reader (data/idx.hpp): read_idx and read_idx_dataset, raw and gzipped.
//
// Input layout: byte 0 is the class count given to read_idx_dataset; bytes 1–4 (little-endian) the
// length L of the images file, which follows; the rest is the labels file. Shorter inputs give
// an empty labels file (and an empty images file if fewer than 5 bytes). The images part alone is
// also read with read_idx, so a plain IDX reader bug shows without a valid labels file.
#include <algorithm>

#include "data/idx.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bnlab_fuzz::TempFile images("idx", 0), labels("idx", 1);
  const int32_t num_classes = size > 0 ? data[0] : 10;
  size_t images_len = 0;
  if (size >= 5) images_len = size_t{data[1]} | size_t{data[2]} << 8 | size_t{data[3]} << 16 | size_t{data[4]} << 24;
  const size_t head = std::min<size_t>(size, 5);
  images_len = std::min(images_len, size - head);
  images.write(data + head, images_len);
  labels.write(data + head + images_len, size - head - images_len);

  bnlab_fuzz::expect_clean_errors("idx", [&] {
    const bnlab::data::IdxArray a = bnlab::data::read_idx(images.path());
    // The reader's promise: values hold product(dims) bytes.
    size_t n = 1;
    for (int64_t d : a.dims) n *= static_cast<size_t>(d);
    if (a.values.size() != n) std::abort();
  });
  bnlab_fuzz::expect_clean_errors("idx", [&] {
    const bnlab::data::Dataset d = bnlab::data::read_idx_dataset(images.path(), labels.path(), num_classes, "fuzz");
    if (d.features.size() != d.labels.size() * static_cast<size_t>(d.feature_count)) std::abort();
    for (int32_t y : d.labels)
      if (y < 0 || y >= d.num_classes) std::abort();
  });
  return 0;
}

// Fuzzes the CSV reader (data/csv.hpp), raw and gzipped; inputs of odd length are read with
// CsvOptions::pixels (so both settings are covered without a header byte in every seed).
#include <cmath>

#include "data/csv.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bnlab_fuzz::TempFile file("csv", 0);
  file.write(data, size);
  bnlab_fuzz::expect_clean_errors("csv", [&] {
    const bnlab::data::Dataset d = bnlab::data::read_csv(file.path(), {.pixels = size % 2 == 1}, "fuzz");
    // The reader's promises: a full [rows, features] matrix of finite values, labels in [0, classes).
    if (d.features.size() != d.labels.size() * static_cast<size_t>(d.feature_count)) std::abort();
    for (int32_t y : d.labels)
      if (y < 0 || y >= d.num_classes) std::abort();
    for (float v : d.features)
      if (!std::isfinite(v)) std::abort();
  });
  return 0;
}

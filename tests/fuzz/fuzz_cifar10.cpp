// Fuzzes the CIFAR-10 binary batch reader (data/cifar10.hpp), raw and gzipped. The input is one
// batch file; it is read alone and as two batches in a row (read_cifar10_batches appends).
#include "data/cifar10.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bnlab_fuzz::TempFile file("cifar10", 0);
  file.write(data, size);
  bnlab_fuzz::expect_clean_errors("cifar10", [&] {
    const bnlab::data::Dataset d = bnlab::data::read_cifar10_batch(file.path(), "fuzz");
    if (d.features.size() != d.labels.size() * static_cast<size_t>(d.feature_count)) std::abort();
    for (int32_t y : d.labels)
      if (y < 0 || y > 9) std::abort();
  });
  bnlab_fuzz::expect_clean_errors("cifar10", [&] {
    const bnlab::data::Dataset d = bnlab::data::read_cifar10_batches({file.path(), file.path()}, "fuzz2");
    if (d.features.size() != d.labels.size() * static_cast<size_t>(bnlab::data::cifar10_features)) std::abort();
  });
  return 0;
}

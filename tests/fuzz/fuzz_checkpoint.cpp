// Fuzzes the checkpoint reader (train/checkpoint.hpp): read_checkpoint, which parses the
// safetensors layout (read_safetensors), the JSON metadata (train/serialize.hpp) and checks the
// tensors against the stored model.
#include "fuzz_common.hpp"
#include "train/checkpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bnlab_fuzz::TempFile file("checkpoint", 0);
  file.write(data, size);
  bnlab_fuzz::expect_clean_errors("checkpoint", [&] {
    const bnlab::Checkpoint c = bnlab::read_checkpoint(file.path());
    // The reader's promise: every tensor holds product(shape) values.
    for (const auto& [name, t] : c.tensors) {
      size_t n = 1;
      for (int64_t d : t.shape) n *= static_cast<size_t>(d);
      if (t.data.size() != n) std::abort();
    }
  });
  return 0;
}

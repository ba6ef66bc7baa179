// Resources (issue 15 point 7): a model, batch or dataset that needs more memory than the machine can
// give is refused before anything is allocated, with one line naming what needs how much, instead
// of the kernel's out-of-memory killer ending bnlab midway. The limit comes from MemAvailable and
// the cgroup (graph/memory.hpp); the cases below either ask for more than any machine has or set
// BNLAB_MEMORY_LIMIT (the documented test override), so they do not depend on this machine.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <string>

#include "cli_test_support.hpp"
#include "graph/compile.hpp"
#include "graph/errors.hpp"
#include "graph/memory.hpp"
#include "graph/session.hpp"
#include "models/model.hpp"
#include "models/presets.hpp"

using namespace bnlab::test;

namespace {

// Sets BNLAB_MEMORY_LIMIT for one scope of this process.
struct MemoryLimit {
  explicit MemoryLimit(const std::string& bytes) { ::setenv("BNLAB_MEMORY_LIMIT", bytes.c_str(), 1); }
  ~MemoryLimit() { ::unsetenv("BNLAB_MEMORY_LIMIT"); }
};

// Every output file the train flags below ask for is absent, and so is every temporary file.
void check_nothing_written(const TempDir& dir) { check_not_written({dir / "out.json", dir / "out.safetensors"}, dir.path()); }

// `bnlab <args>` as if the machine had `limit` bytes available.
Run run_with_limit(const std::string& limit, const std::string& args, const TempDir& dir) {
  return run_shell("BNLAB_MEMORY_LIMIT=" + limit + " " + BNLAB_TOOL_PATH + " " + args, dir);
}

// DIR/mnist holding a tiny MNIST-shaped dataset (4x4 images), whose files the cases then replace.
std::string mnist_folder(const TempDir& dir) {
  const std::string data = dir / "mnist";
  fs::create_directories(data);
  write_mnist_like(data, {.train = 60, .test = 20, .side = 4});
  return data;
}

// The outputs the train commands below ask for, in the test's folder (which check_nothing_written
// looks at).
std::string outputs_in(const TempDir& dir) {
  return " --json " + (dir / "out.json") + " --checkpoint " + (dir / "out.safetensors") + " --quiet";
}

}  // namespace

TEST_CASE("format_bytes: binary units, one decimal") {
  CHECK(bnlab::format_bytes(800) == "800 bytes");
  CHECK(bnlab::format_bytes(1536) == "1.5 KiB");
  CHECK(bnlab::format_bytes(37.2 * 1024 * 1024 * 1024) == "37.2 GiB");
  CHECK(bnlab::format_bytes(3.0 * 1024 * 1024 * 1024 * 1024) == "3.0 TiB");
}

TEST_CASE("available_memory: BNLAB_MEMORY_LIMIT replaces what the machine says; a bad value is an error") {
  {
    MemoryLimit limit("123456");
    const auto m = bnlab::available_memory();
    REQUIRE(m);
    CHECK(m->bytes == 123456);
    CHECK(m->source == "BNLAB_MEMORY_LIMIT");
  }
  for (const char* bad : {"12k", "-5", "1e9", " 100", "0x10"}) {
    CAPTURE(bad);
    MemoryLimit limit(bad);
    CHECK(message_of<bnlab::UsageError>([] { (void)bnlab::available_memory(); }) ==
          std::string("BNLAB_MEMORY_LIMIT=") + bad + ": expected a whole number of bytes");
  }
  // Linux always has /proc/meminfo: some memory, from MemAvailable or the cgroup.
  const auto m = bnlab::available_memory();
  REQUIRE(m);
  CHECK(m->bytes > 0);
  CHECK((m->source == "MemAvailable" || m->source == "the cgroup's memory.max"));
}

TEST_CASE("Session: the parameters and the arena of a batch are checked against the memory before they are allocated") {
  const bnlab::Model m = bnlab::build_model(bnlab::preset_spec("plain", 784, 10));
  // 784·128 + 128 + 128·64 + 64 + 64·10 + 10 = 109386 parameters, and as many gradients, in float.
  const double params = 2.0 * (784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10) * sizeof(float);
  int64_t arena = 0;  // the arena of batch 32, as the unlimited session plans it
  {
    bnlab::Session s(bnlab::compile(m.graph, m.loss), {.max_batch = 32});
    arena = s.arena_elements() * static_cast<int64_t>(sizeof(float));
  }
  REQUIRE(arena > 0);
  MemoryLimit limit("1000000");
  const std::string msg = message_of<bnlab::UsageError>([&] { bnlab::Session s(bnlab::compile(m.graph, m.loss), {.max_batch = 32}); });
  CHECK(msg == "the model needs " + bnlab::format_bytes(params + static_cast<double>(arena)) + " for batch 32 (activations " +
                   bnlab::format_bytes(static_cast<double>(arena)) + ", parameters and gradients " + bnlab::format_bytes(params) +
                   "), but this machine has 976.6 KiB available (BNLAB_MEMORY_LIMIT); use a smaller batch size or model");
  CHECK(bnlab::format_bytes(params) == "854.6 KiB");
  // The parameters fit; the arena of a batch planned later (set_batch) is checked when it grows.
  bnlab::Session s(bnlab::compile(m.graph, m.loss));
  s.set_batch(2);
  check_mentions(message_of<bnlab::UsageError>([&] { s.set_batch(4096); }),
                        {"the model needs ", " of activations for batch 4096 (beside its parameters and gradients, 854.6 KiB)",
                         "but this machine has 976.6 KiB available"});
  CHECK(s.batch() == 2);  // the session still runs the batch it had
  // … on the arena and slot offsets of batch 2 (the refused plan replaced neither): a forward and
  // backward pass there touch only what was allocated (the sanitizer build checks it).
  CHECK(s.arena_elements() * static_cast<int64_t>(sizeof(float)) <= arena);
  CHECK(std::isfinite(s.forward(bnlab::Mode::train)));
  s.backward();
}

TEST_CASE("bnlab train: a model and batch no machine can hold is refused before training, not killed") {
  TempDir dir;
  fs::create_directories(dir / "mnist");
  write_mnist_like(dir / "mnist", {.train = 50000, .test = 20, .side = 4});
  // 16 → 5,000,000 → 10 on 40000 training rows at once: 135 M parameters (1.0 GiB with their
  // gradients), and activations of 40000 × 5,000,000 floats (745 GiB) per hidden tensor.
  const Run r = run_bnlab("train --dataset mnist --data-dir " + (dir / "mnist") +
                              " --model plain --hidden 5000000 --batch-size 40000" + outputs_in(dir), dir);
  check_error(r, 2, {"the model needs ", " TiB for batch 40000 (activations ", "parameters and gradients 1.0 GiB)",
                     "but this machine has ", "use a smaller batch size or model"});
  check_nothing_written(dir);
}

TEST_CASE("bnlab train: the reference CNN at a batch beyond the memory is refused") {
  TempDir dir;
  fs::create_directories(dir / "mnist");
  write_mnist_like(dir / "mnist", {.train = 60, .test = 20, .side = 28});
  // 48 images of 28x28: conv1's output alone is 48·28·28·32 floats (4.6 MiB); the arena holds several such.
  const Run r = run_with_limit("8000000", "train --dataset mnist --data-dir " +
                              (dir / "mnist") + " --model cnn-batchnorm --batch-size 48" + outputs_in(dir), dir);
  check_error(r, 2, {"the model needs ", " MiB for batch 48 (activations ", "parameters and gradients ",
                     "but this machine has 7.6 MiB available (BNLAB_MEMORY_LIMIT)"});
  check_nothing_written(dir);
}

TEST_CASE("bnlab train: under BNLAB_MEMORY_LIMIT an ordinary model is refused with the numbers") {
  TempDir dir;
  const Run r = run_with_limit("10000", "train --dataset synthetic --model plain --hidden 64 --batch-size 32" + outputs_in(dir), dir);
  // 20·64 + 64 + 64·4 + 4 = 1604 parameters: 12.5 KiB with gradients.
  check_error(r, 2, {"for batch 32", "parameters and gradients 12.5 KiB", "but this machine has 9.8 KiB available (BNLAB_MEMORY_LIMIT)"});
  check_nothing_written(dir);
  const Run bad = run_with_limit("lots", "train --dataset synthetic" + outputs_in(dir), dir);
  check_error(bad, 2, {"BNLAB_MEMORY_LIMIT=lots: expected a whole number of bytes"});
  check_nothing_written(dir);
}

TEST_CASE("IDX: a header claiming 2^31 images in a tiny gzip file is refused without allocating them") {
  TempDir dir;
  const std::string data = mnist_folder(dir);
  write_gzip(data + "/train-images-idx3-ubyte.gz", idx_bytes({0x80000000u, 28, 28}, Bytes(100, 7)));
  const Run r = run_bnlab("train --dataset mnist --data-dir " + data + outputs_in(dir), dir);
  check_error(r, 2, {"train-images-idx3-ubyte.gz: truncated: data ends at byte offset 116", "2147483648x28x28"});
  check_nothing_written(dir);
}

TEST_CASE("IDX: a gzip stream that inflates beyond the memory left is refused while it is read") {
  TempDir dir;
  const std::string data = mnist_folder(dir);
  // 8 MB of zeros, a few kilobytes compressed, under a limit of 4 MB.
  write_gzip(data + "/train-images-idx3-ubyte.gz", idx_bytes({10000, 28, 28}, Bytes(10000 * 28 * 28, 0)));
  const Run r = run_with_limit("4000000", "train --dataset mnist --data-dir " + data + outputs_in(dir), dir);
  check_error(r, 2, {"train-images-idx3-ubyte.gz: the gzip data decompresses to more than ", "and growing",
                     "but this machine has 3.8 MiB available (BNLAB_MEMORY_LIMIT); the file is corrupt, or too large for this machine"});
  check_nothing_written(dir);
}

TEST_CASE("IDX: images whose float copy would not fit are refused before it is made") {
  TempDir dir;
  const std::string data = mnist_folder(dir);
  // A raw (not gzipped) file of 2000 images of 28x28: 1.5 MB of bytes, 6.0 MiB as floats, under 4 MB.
  fs::remove(data + "/train-images-idx3-ubyte.gz");
  write_bytes(data + "/train-images-idx3-ubyte", idx_bytes({2000, 28, 28}, Bytes(2000 * 28 * 28, 9)));
  write_bytes(data + "/train-labels-idx1-ubyte", idx_bytes({2000}, Bytes(2000, 1)));
  const Run r = run_with_limit("4000000", "train --dataset mnist --data-dir " + data + outputs_in(dir), dir);
  check_error(r, 2, {"train-images-idx3-ubyte: 2000 images of 784 values need 6.0 MiB as floats",
                     "but this machine has 3.8 MiB available (BNLAB_MEMORY_LIMIT); use a smaller dataset"});
  check_nothing_written(dir);
}

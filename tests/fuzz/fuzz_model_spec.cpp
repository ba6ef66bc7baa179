// Fuzzes the model-file reader (train/model_file.hpp, docs/model-files.md): read_model_file parses
// the JSON, reads each layer's fields and validates the spec (ModelSpec::validate). InputError,
// UsageError and ShapeError are its answers to a bad file. A spec it accepts must also build: the
// graph (build_model), its compilation and, when the model is small, a session running a training
// step and an evaluation at the smallest batch it trains on — any exception there is a finding,
// since validation should have refused the spec with a message.
#include <algorithm>
#include <string>

#include "fuzz_common.hpp"
#include "graph/compile.hpp"
#include "graph/session.hpp"
#include "models/model.hpp"
#include "train/model_file.hpp"

namespace {

// Above these the session is not run (a valid spec may have 2^32 parameters); building and
// compiling still are.
constexpr int64_t kMaxParameters = int64_t{1} << 20;
constexpr int64_t kMaxArena = int64_t{1} << 20;
constexpr int64_t kMaxBatch = 64;

// The smallest batch every layer trains on: 2, or 2 samples per ghost batch (the trainer refuses
// smaller batches with a message, ops/batch_norm.hpp).
int64_t batch_for(const bnlab::ModelSpec& spec) {
  int64_t b = 2;
  for (const auto& l : spec.layers)
    if (l.kind == bnlab::LayerKind::batch_norm) b = std::max(b, 2 * l.ghost_batches);
  return b;
}

int64_t arena_elements(const bnlab::Program& program, int64_t batch) {
  std::vector<int64_t> sizes;
  for (const auto& s : program.slots) sizes.push_back(s.shape.elements(batch));
  int64_t total = 0;
  bnlab::plan_offsets(program.slots, sizes, total);
  return total;
}

void run_step(const bnlab::Model& m, bnlab::Program program, int64_t batch) {
  bnlab::Session s(std::move(program), {.seed = 1});
  s.set_batch(batch);
  auto x = s.input(m.input).vec();
  for (Eigen::Index i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 7) / 7.0f;
  auto y = s.labels(m.labels);
  for (size_t i = 0; i < y.size(); ++i) y[i] = static_cast<int32_t>(static_cast<int64_t>(i) % m.spec.classes);
  s.forward(bnlab::Mode::train);
  s.backward();
  s.forward(bnlab::Mode::eval);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bnlab_fuzz::TempFile file("model_spec", 0);
  file.write(data, size);
  bnlab::ModelSpec spec;
  bool valid = false;
  bnlab_fuzz::expect_errors<bnlab::InputError, bnlab::UsageError, bnlab::ShapeError>("model_spec", [&] {
    spec = bnlab::read_model_file(file.path());
    valid = true;
  });
  if (!valid) return 0;
  // Accepted: from here on every exception is a finding.
  bnlab_fuzz::expect_errors<>("model_spec (valid spec)", [&] {
    const bnlab::Model m = bnlab::build_model(spec);
    bnlab::Program program = bnlab::compile(m.graph, m.loss);
    const int64_t batch = batch_for(spec);
    if (batch > kMaxBatch || spec.parameter_count() > kMaxParameters || arena_elements(program, batch) > kMaxArena) return;
    run_step(m, std::move(program), batch);
  });
  return 0;
}

// Whole-model gradient checks of CNNs in double precision: the two presets on small images (every
// element of the small tensors, a seeded sample of the large ones), in training and evaluation
// mode, and a model file's layer list with average pooling, group norm, dropout and a strided
// convolution.
#include <doctest/doctest.h>

#include <cstdio>

#include "graph/gradcheck.hpp"
#include "models/model.hpp"
#include "models/presets.hpp"
#include "train/model_file.hpp"

using namespace bnlab;

namespace {

void check_model(const ModelSpec& spec, const char* label, Mode mode = Mode::train) {
  const Model m = build_model(spec);
  const GradCheckResult r =
      gradcheck(m.graph, m.loss, {.batch = 3, .seed = 5, .mode = mode, .check_inputs = true, .max_elements_per_tensor = 60});
  REQUIRE(!r.tensors.empty());
  for (const auto& t : r.tensors) {
    CAPTURE(label);
    CAPTURE(t.name);
    CAPTURE(t.analytic);
    CAPTURE(t.numeric);
    CHECK(t.max_rel_error < 1e-6);
  }
  std::printf("gradcheck cnn %-34s max rel error %.2e over %zu tensors\n", label, r.max_rel_error(), r.tensors.size());
}

}  // namespace

TEST_CASE("cnn-plain and cnn-batchnorm on 8x8x2 images, train and eval mode") {
  for (const char* preset : {"cnn-plain", "cnn-batchnorm"}) {
    const ModelSpec spec = preset_spec(preset, std::vector<int64_t>{8, 8, 2}, 4, {.hidden = std::vector<int64_t>{6}});
    check_model(spec, preset);
    check_model(spec, (std::string(preset) + " (eval)").c_str(), Mode::eval);
  }
}

TEST_CASE("a model file's CNN: strided conv, group norm, average pooling, dropout, global pooling") {
  const ModelSpec spec = read_model_file(std::string(BNLAB_SOURCE_DIR) + "/tests/data/gradcheck-cnn.json");
  check_model(spec, "gradcheck-cnn.json");
}

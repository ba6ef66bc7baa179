// Registry completeness from the models' side: every op node of every preset and of every model file
// the project ships (examples/models/*.json) is an op of the registry, with both precisions' kernels
// (Kernels<T> cannot be null: see graph/op.hpp), its shape rule and an example graph — so the
// gradient check over the registry (test_ops_gradcheck) has covered every op a user can train.
// Built over the models, not over the registry's own list, so an op a model reaches that was never
// registered fails here.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "models/model.hpp"
#include "models/presets.hpp"
#include "ops/registry.hpp"
#include "train/model_file.hpp"

using namespace bnlab;

namespace {

// The ops a model's graph uses, each checked against the registry.
std::set<std::string> check_ops_of(const Model& m, const std::string& label) {
  const auto ops = all_ops();
  std::set<std::string> used;
  for (NodeId id = 0; id < static_cast<NodeId>(m.graph.size()); ++id) {
    const Node& node = m.graph.node(id);
    if (node.kind != NodeKind::op) continue;
    CAPTURE(label);
    CAPTURE(node.name);
    REQUIRE(node.op != nullptr);
    CHECK_MESSAGE(std::find(ops.begin(), ops.end(), node.op) != ops.end(), "op '" << node.op->name << "' is not registered");
    CHECK(static_cast<bool>(node.op->infer));
    CHECK(static_cast<bool>(node.op->example));
    used.insert(node.op->name);
  }
  return used;
}

}  // namespace

TEST_CASE("every op of every preset and every shipped model file is registered, with kernels and an example") {
  std::set<std::string> used;
  for (const std::string& preset : preset_names()) {
    const Model m = build_model(preset_spec(preset, std::vector<int64_t>{28, 28, 1}, 10));
    const std::set<std::string> ops = check_ops_of(m, preset);
    CHECK(ops.count("softmax_cross_entropy") == 1);
    used.insert(ops.begin(), ops.end());
  }
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(BNLAB_SOURCE_DIR) + "/examples/models")) {
    if (entry.path().extension() != ".json") continue;
    const Model m = build_model(read_model_file(entry.path().string()));
    const std::set<std::string> ops = check_ops_of(m, entry.path().filename().string());
    used.insert(ops.begin(), ops.end());
    ++files;
  }
  CHECK(files >= 2);
  // The presets and files between them reach the ops the reference experiments need.
  for (const char* op : {"matmul", "bias_add", "relu", "batch_norm", "layer_norm", "conv2d", "max_pool2d", "reshape"}) {
    CAPTURE(op);
    CHECK(used.count(op) == 1);
  }
}

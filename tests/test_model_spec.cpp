// Models as data: the CNN presets' layer lists, shapes and parameter counts worked out by hand,
// the errors of layers that do not fit their input, and model files (defaults, "same"/"valid").
#include <doctest/doctest.h>

#include "data_test_support.hpp"
#include "graph/errors.hpp"
#include "models/cnn.hpp"
#include "models/model.hpp"
#include "models/presets.hpp"
#include "train/model_file.hpp"
#include "train/serialize.hpp"

using namespace bnlab;
using namespace bnlab::test;

namespace {

LayerSpec layer(LayerKind kind, const std::string& name) {
  LayerSpec l;
  l.kind = kind;
  l.name = name;
  return l;
}

LayerSpec conv(const std::string& name, int64_t filters, Size2 kernel = {3, 3}, Size2 padding = {1, 1}, Size2 stride = {1, 1}) {
  LayerSpec l = layer(LayerKind::conv2d, name);
  l.filters = filters;
  l.kernel = kernel;
  l.padding = padding;
  l.stride = stride;
  return l;
}

LayerSpec dense(const std::string& name, int64_t units) {
  LayerSpec l = layer(LayerKind::dense, name);
  l.units = units;
  return l;
}

ModelSpec image_model(std::vector<LayerSpec> layers, std::vector<int64_t> input = {28, 28, 1}) {
  ModelSpec s;
  s.input_shape = std::move(input);
  s.classes = 10;
  s.layers = std::move(layers);
  return s;
}

std::string usage_error(const ModelSpec& s) {
  return message_of<UsageError>([&] { s.validate(); });
}

}  // namespace

TEST_CASE("cnn-plain is the reference CNN: its shapes and 421,642 parameters, by hand") {
  const ModelSpec s = preset_spec("cnn-plain", std::vector<int64_t>{28, 28, 1}, 10);
  std::vector<std::string> names;
  for (const LayerSpec& l : s.layers) names.push_back(l.name);
  CHECK(names == std::vector<std::string>{"conv1", "act1", "pool1", "conv2", "act2", "pool2", "flatten", "fc3", "act3", "out"});
  CHECK(s.describe() == "28x28x1-c32-p2-c64-p2-128-10");
  // 3×3 convs with padding 1 keep 28×28; each 2×2 pool halves it: 28 → 14 → 7; 7·7·64 = 3136.
  CHECK(s.layer_shapes() == std::vector<std::vector<int64_t>>{{28, 28, 32}, {28, 28, 32}, {14, 14, 32}, {14, 14, 64},
                                                               {14, 14, 64}, {7, 7, 64}, {3136}, {128}, {128}, {10}});
  // conv1 3·3·1·32 + 32 = 320; conv2 3·3·32·64 + 64 = 18,496; fc3 3136·128 + 128 = 401,536;
  // out 128·10 + 10 = 1,290: 421,642 (what PyTorch's sum(p.numel()) says of the same model).
  CHECK(s.parameter_count() == 421642);
  CHECK(s.layers[0].probe == "conv1");  // what enters each ReLU
  CHECK(s.layers[7].probe == "fc3");
}

TEST_CASE("cnn-batchnorm puts batch norm between each conv / dense and its ReLU") {
  const ModelSpec s = preset_spec("cnn-batchnorm", std::vector<int64_t>{28, 28, 1}, 10);
  std::vector<std::string> names;
  for (const LayerSpec& l : s.layers) names.push_back(l.name);
  CHECK(names == std::vector<std::string>{"conv1", "bn1", "act1", "pool1", "conv2", "bn2", "act2", "pool2", "flatten", "fc3", "bn3",
                                          "act3", "out"});
  CHECK(s.layers[1].kind == LayerKind::batch_norm);
  CHECK(s.layers[1].momentum == 0.1);
  CHECK(s.layers[1].eps == 1e-5);
  CHECK(s.layers[1].probe == "conv1");  // the norm's output is what enters the ReLU
  CHECK(s.layers[0].probe.empty());
  // gamma and beta per channel: 2·(32 + 64 + 128) = 448 more than cnn-plain.
  CHECK(s.parameter_count() == 421642 + 448);
  // CIFAR-10: 32 → 16 → 8, 8·8·64 = 4096 features into fc3.
  const ModelSpec c = preset_spec("cnn-batchnorm", std::vector<int64_t>{32, 32, 3}, 10);
  CHECK(c.layer_shapes()[8] == std::vector<int64_t>{4096});
}

TEST_CASE("an MLP preset takes an image flat; a CNN preset refuses flat data") {
  const ModelSpec mlp = preset_spec("batchnorm", std::vector<int64_t>{28, 28, 1}, 10);
  CHECK(mlp.input_shape == std::vector<int64_t>{784});
  CHECK(mlp.describe() == "784-128-64-10");
  CHECK(message_of<UsageError>([] { preset_spec("cnn-plain", std::vector<int64_t>{784}, 10); }) ==
        "a CNN takes images [H,W,C], but the input is 1-dimensional (flat data such as CSV rows has no height and width; use an "
        "MLP or a model file)");
  CHECK(message_of<UsageError>([] { preset_spec("cnn", std::vector<int64_t>{784}, 10); }) ==
        "unknown model 'cnn' (known: plain, batchnorm, layernorm, cnn-plain, cnn-batchnorm)");
  // Too small for two 2×2 pools and a 3×3 conv between them: 3 → 1, then the second pool has no room.
  CHECK(message_of<UsageError>([] { preset_spec("cnn-plain", std::vector<int64_t>{3, 3, 1}, 10); }) ==
        "layer 6 (max_pool2d 'pool2'): window 2x2 is larger than the input [1,1,64]");
}

TEST_CASE("a layer that does not fit its input is named with its index, kind and the shapes") {
  CHECK(usage_error(image_model({conv("c", 4), dense("out", 10)})) ==
        "layer 2 (dense 'out'): takes [F], got [28,28,4]; add a flatten (or global_avg_pool) layer before it");
  CHECK(usage_error(image_model({conv("c", 4), dense("out", 10)}, {784})) ==
        "layer 1 (conv2d 'c'): a convolution takes an image [H,W,C], got [784]; a flat input has no height and width");
  CHECK(usage_error(image_model({conv("c", 4, {5, 5}, {0, 0}), layer(LayerKind::flatten, "f"), dense("out", 10)}, {4, 4, 1})) ==
        "layer 1 (conv2d 'c'): kernel 5x5 is larger than the input [4,4,1] with padding 0x0");
  LayerSpec gn = layer(LayerKind::group_norm, "gn");
  gn.groups = 3;
  CHECK(usage_error(image_model({conv("c", 4), gn, layer(LayerKind::flatten, "f"), dense("out", 10)})) ==
        "layer 2 (group_norm 'gn'): groups must divide the 4 channels of [28,28,4], got 3");
  CHECK(usage_error(image_model({conv("c", 4), layer(LayerKind::layer_norm, "ln"), layer(LayerKind::flatten, "f"), dense("out", 10)})) ==
        "layer 2 (layer_norm 'ln'): takes [F], got [28,28,4]; for an image use group_norm with groups 1 (layer norm over H, W and C)");
  LayerSpec drop = layer(LayerKind::dropout, "d");
  drop.rate = 1;
  CHECK(usage_error(image_model({layer(LayerKind::flatten, "f"), drop, dense("out", 10)})) == "layer 2 (dropout 'd'): rate must be in [0, 1), got 1");
  CHECK(usage_error(image_model({conv("c", 4, {3, 3}, {1, 1}, {0, 1}), layer(LayerKind::flatten, "f"), dense("out", 10)})) ==
        "layer 1 (conv2d 'c'): stride must be in [1, 16777216], got 0x1");
  CHECK_NOTHROW(image_model({conv("c", 4), layer(LayerKind::global_avg_pool, "g"), dense("out", 10)}).validate());
}

TEST_CASE("model files: attributes default, names are made, padding same/valid, and every error names the file") {
  TempDir dir;
  const std::string path = dir / "m.json";
  write_text(path, R"({"input_shape": [8, 8, 3], "classes": 4, "layers": [
      {"kind": "conv2d", "filters": 6, "kernel": [3, 5], "padding": "same"},
      {"kind": "max_pool2d", "window": 2},
      {"kind": "conv2d", "filters": 5, "kernel": 3, "stride": 2, "padding": "valid", "bias": false},
      {"kind": "group_norm", "groups": 5},
      {"kind": "activation", "activation": "tanh"},
      {"kind": "flatten"},
      {"kind": "dropout"},
      {"kind": "dense", "units": 4}]})");
  const ModelSpec s = read_model_file(path);
  REQUIRE(s.layers.size() == 8);
  CHECK(s.layers[0].name == "conv2d1");
  CHECK(s.layers[0].padding == Size2{1, 2});   // (k − 1)/2 per side keeps 8×8
  CHECK(s.layers[0].stride == Size2{1, 1});
  CHECK(s.layers[1].stride == Size2{2, 2});    // a pool's stride is its window unless given
  CHECK(s.layers[2].padding == Size2{0, 0});
  CHECK(!s.layers[2].bias);
  CHECK(s.layers[3].eps == 1e-5);
  CHECK(s.layers[6].rate == 0.5);
  CHECK(s.recipe.empty());
  // 8×8 → same conv 8×8×6 → pool 4×4×6 → 3×3 stride 2 valid: ⌊(4 − 3)/2⌋ + 1 = 1 → [1,1,5] → [5].
  CHECK(s.layer_shapes()[5] == std::vector<int64_t>{5});
  // conv1 3·5·3·6 + 6 = 276; conv2 3·3·6·5 = 270 (no bias); gn 2·5 = 10; out 5·4 + 4 = 24.
  CHECK(s.parameter_count() == 276 + 270 + 10 + 24);
  // The checkpoint form keeps everything, and reads back equal.
  CHECK(model_spec_from_json(to_json(s)) == s);

  auto file_error = [&](const std::string& text) {
    write_text(path, text);
    return message_of<InputError>([&] { read_model_file(path); });
  };
  const std::string head = R"({"input_shape": [8, 8, 3], "classes": 4, "layers": [)";
  CHECK(file_error(head + R"({"kind": "conv2d", "filters": 2, "kernel": 2, "padding": "same"}, {"kind": "flatten"}, {"kind": "dense", "units": 4}]})") ==
        path + ": field 'layers[0].padding': \"same\" needs an odd kernel (the padding is (k - 1)/2 on each side), got 2x2");
  CHECK(file_error(head + R"({"kind": "conv2d", "filters": 2, "padding": "full"}]})") ==
        path + ": field 'layers[0].padding': expected \"same\", \"valid\", an integer or [height, width], got \"full\"");
  CHECK(file_error(head + R"({"kind": "conv2d", "filters": 2, "kernel": [3]}]})") ==
        path + ": field 'layers[0].kernel': expected an integer or [height, width], got array");
  CHECK(file_error(head + R"({"kind": "conv2d", "filters": 2, "dilation": 2}]})") == path + ": unknown field 'layers[0].dilation'");
  CHECK(file_error(head + R"({"kind": "conv2d", "filters": 2}, {"kind": "dense", "units": 4}]})") ==
        path + ": layer 2 (dense 'dense2'): takes [F], got [6,6,2]; add a flatten (or global_avg_pool) layer before it");
  CHECK(file_error(head + R"({"kind": "dense", "units": 4}]})") ==
        path + ": layer 1 (dense 'dense1'): takes [F], got [8,8,3]; add a flatten (or global_avg_pool) layer before it");
  CHECK(message_of<InputError>([&] { read_model_file(dir / "missing.json"); }) == dir / "missing.json" + ": cannot open the model file");
}

TEST_CASE("the example model files are valid") {
  for (const char* name : {"cnn-groupnorm.json", "small-cnn.json"}) {
    CAPTURE(name);
    const ModelSpec s = read_model_file(std::string(BNLAB_SOURCE_DIR) + "/examples/models/" + name);
    CHECK(s.input_shape == std::vector<int64_t>{28, 28, 1});
  }
}

TEST_CASE("which data a model's input takes: the same shape, or either side flat with as many values") {
  data::Dataset images;
  images.name = "images";
  images.feature_count = 64;
  images.shape = {8, 8, 1};
  data::Dataset rows = images;
  rows.name = "rows";
  rows.shape.clear();  // CSV: flat
  CHECK_NOTHROW(check_input_shape({8, 8, 1}, images));
  CHECK_NOTHROW(check_input_shape({64}, images));     // an MLP takes the image as its 64 values
  CHECK_NOTHROW(check_input_shape({8, 8, 1}, rows));  // a CNN takes a row of 64 values as an image
  CHECK(message_of<UsageError>([&] { check_input_shape({4, 4, 4}, images); }) ==
        "the model takes samples of [4,4,4] but 'images' has samples of [8,8,1]");
  CHECK(message_of<UsageError>([&] { check_input_shape({8, 8, 3}, rows); }) == "the model takes 192 inputs but 'rows' has 64 features");
}

TEST_CASE("batch_norm's ghost_batches: validated, built into the op, in the JSON only when it is not 1, a preset option") {
  ModelSpec s = image_model({conv("conv1", 4), layer(LayerKind::batch_norm, "bn1"), layer(LayerKind::flatten, "flat"), dense("out", 10)},
                            {6, 6, 1});
  s.validate();
  const std::string plain = to_json(s);
  CHECK(plain.find("ghost_batches") == std::string::npos);  // G = 1: the spec's bytes as before the attribute existed
  s.layers[1].ghost_batches = 0;
  CHECK(usage_error(s) == "layer 2 (batch_norm 'bn1'): ghost_batches must be in [1, 16777216], got 0");
  s.layers[1].ghost_batches = 4;
  s.validate();
  const std::string four = to_json(s);
  CHECK(four.find("\"eps\":1e-05,\"ghost_batches\":4") != std::string::npos);
  CHECK(model_spec_from_json(four) == s);
  CHECK(model_spec_from_json(plain).layers[1].ghost_batches == 1);  // a checkpoint written before: G = 1
  CHECK(model_file_spec_from_json(R"({"input_shape": [4], "classes": 2, "layers": [
      {"kind": "batch_norm", "ghost_batches": 3}, {"kind": "dense", "units": 2}]})")
            .layers[0]
            .ghost_batches == 3);
  CHECK(message_of<InputError>([] {
          model_file_spec_from_json(R"({"input_shape": [4], "classes": 2, "layers": [
              {"kind": "batch_norm", "ghost_batches": 1.5}, {"kind": "dense", "units": 2}]})");
        }) == "field 'layers[0].ghost_batches': expected an integer, got number");
  // build_model hands G to the op.
  const Model m = build_model(s);
  const Node& bn = m.graph.node(m.graph.find("bn1"));
  CHECK(bn.attrs[static_cast<size_t>(bn.op->attr_index("ghost_batches"))] == 4.0);

  // The presets: bn_ghost_batches reaches every batch-norm layer, and the recipe names it only when it is not 1.
  const ModelSpec cnn = preset_spec("cnn-batchnorm", {28, 28, 1}, 10, {.bn_ghost_batches = 2});
  int bns = 0;
  for (const LayerSpec& l : cnn.layers)
    if (l.kind == LayerKind::batch_norm) {
      CHECK(l.ghost_batches == 2);
      ++bns;
    }
  CHECK(bns == 3);
  CHECK(cnn.recipe_text("bn_ghost_batches") == "2");
  CHECK(preset_spec("cnn-batchnorm", {28, 28, 1}, 10).recipe_value("bn_ghost_batches") == nullptr);
  CHECK(preset_spec("batchnorm", 784, 10, {.bn_ghost_batches = 1}) == preset_spec("batchnorm", 784, 10));
  CHECK(preset_spec("batchnorm", 784, 10, {.bn_ghost_batches = 8}).layers[2].ghost_batches == 8);
  CHECK_THROWS_WITH_AS(preset_spec("batchnorm", 784, 10, {.bn_ghost_batches = 0}), "bn_ghost_batches must be at least 1, got 0",
                       UsageError);
}

TEST_CASE("the dropout refinement: a dropout layer closing each hidden block, in the recipe only when set, a flag's range") {
  const ModelSpec bn = preset_spec("batchnorm", 784, 10, {.dropout = 0.25});
  std::vector<std::string> names;
  for (const LayerSpec& l : bn.layers) names.push_back(l.name);
  CHECK(names == std::vector<std::string>{"fc1", "act1", "bn1", "drop1", "fc2", "act2", "bn2", "drop2", "out"});
  CHECK(bn.layers[3].kind == LayerKind::dropout);
  CHECK(bn.layers[3].rate == 0.25);
  CHECK(bn.recipe_text("dropout") == "0.25");
  // Unset or 0: the model and its recipe as before the refinement existed.
  CHECK(preset_spec("batchnorm", 784, 10, {.dropout = 0.0}) == preset_spec("batchnorm", 784, 10));
  CHECK(preset_spec("plain", 784, 10).recipe_value("dropout") == nullptr);
  CHECK(preset_spec("plain", 784, 10, {.dropout = 0.5}).layers.size() == 2 * 3 + 1);
  CHECK_THROWS_AS(preset_spec("plain", 784, 10, {.dropout = 1.0}), UsageError);
  // A built model has the op, so training draws masks.
  const Model m = build_model(bn);
  (void)m;
}

// Checkpoints: the safetensors layout, round trips of every tensor and metadata field, exact resume,
// all-or-nothing loads with messages that name the problem, inference from a loaded model, and a
// plain-Python reader (the snippet of docs/checkpoints.md).
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "data_test_support.hpp"
#include "data/registry.hpp"
#include "graph/errors.hpp"
#include "models/mlp.hpp"
#include "models/model.hpp"
#include "train/checkpoint.hpp"
#include "train/predictor.hpp"
#include "train/serialize.hpp"
#include "train/trainer.hpp"
#include "skip_support.hpp"

using namespace bnlab;
using bnlab::test::TempDir;
namespace fs = std::filesystem;

namespace {

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}
uint64_t header_length(const std::string& bytes) {
  uint64_t n = 0;
  for (int b = 0; b < 8; ++b) n |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[static_cast<size_t>(b)])) << (8 * b);
  return n;
}
void set_header_length(std::string& bytes, uint64_t n) {
  for (int b = 0; b < 8; ++b) bytes[static_cast<size_t>(b)] = static_cast<char>((n >> (8 * b)) & 0xFF);
}
// Replaces the first `from` in the header with `to` (same length, so offsets stay valid).
std::string patched(std::string bytes, const std::string& from, const std::string& to) {
  REQUIRE(from.size() == to.size());
  const auto at = bytes.find(from);
  REQUIRE(at != std::string::npos);
  REQUIRE(at < 8 + header_length(bytes));
  bytes.replace(at, from.size(), to);
  return bytes;
}
// A hand-made file: `header` JSON (unpadded) and raw data bytes.
std::string raw_file(const std::string& header, const std::string& data) {
  std::string bytes(8, '\0');
  set_header_length(bytes, header.size());
  return bytes + header + data;
}

const data::LoadOptions kLoad{.seed = 1};
const data::Splits& synthetic() {
  static const data::Splits d = data::load("synthetic", kLoad);
  return d;
}

MlpSpec small_mlp(const std::string& preset, std::vector<int64_t> hidden = {32, 16}) {
  MlpSpec s = MlpSpec::preset(preset);
  s.inputs = synthetic().train.feature_count;
  s.classes = synthetic().train.num_classes;
  s.hidden = std::move(hidden);
  return s;
}

ModelSpec small_spec(const std::string& preset, std::vector<int64_t> hidden = {32, 16}) {
  return small_mlp(preset, std::move(hidden)).model_spec();
}

// A spec as checkpoint format 1 stored it: the MLP family's parameters.
std::string format1_json(const MlpSpec& s) {
  std::string hidden;
  for (size_t i = 0; i < s.hidden.size(); ++i) hidden += (i ? "," : "") + std::to_string(s.hidden[i]);
  char numbers[128];
  std::snprintf(numbers, sizeof numbers, "\"weight_scale\":%.17g,\"bn_momentum\":%.17g,\"norm_eps\":%.17g", s.weight_scale,
                s.bn_momentum, s.norm_eps);
  return "{\"inputs\":" + std::to_string(s.inputs) + ",\"hidden\":[" + hidden + "],\"classes\":" + std::to_string(s.classes) +
         ",\"activation\":\"" + to_string(s.activation) + "\",\"norm\":\"" + to_string(s.norm) + "\",\"norm_placement\":\"" +
         to_string(s.placement) + "\",\"init\":\"" + to_string(s.init) + "\"," + numbers + "}";
}

TrainConfig small_config(OptimizerKind kind = OptimizerKind::adam, int epochs = 4) {
  TrainConfig c;
  c.dataset = "synthetic";
  c.model = "batchnorm";
  c.epochs = epochs;
  c.seed = 5;
  c.optimizer.kind = kind;
  c.optimizer.lr = kind == OptimizerKind::sgd || kind == OptimizerKind::momentum ? 0.05 : 1e-3;
  return c;
}

template <class A, class B>
bool same_bits(const std::vector<float, A>& a, const std::vector<float, B>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}
bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Every field of two epochs' metrics; `times` also compares the wall-clock fields.
void check_same_metrics(const EpochMetrics& a, const EpochMetrics& b, bool times) {
  CAPTURE(a.epoch);
  CHECK(a.epoch == b.epoch);
  CHECK(same_bits(a.train_loss, b.train_loss));
  CHECK(same_bits(a.train_acc, b.train_acc));
  CHECK(same_bits(a.val_loss, b.val_loss));
  CHECK(same_bits(a.val_acc, b.val_acc));
  CHECK(a.steps == b.steps);
  CHECK(a.skipped_steps == b.skipped_steps);
  if (times) {
    CHECK(same_bits(a.seconds, b.seconds));
    CHECK(same_bits(a.samples_per_second, b.samples_per_second));
  }
  REQUIRE(a.layers.size() == b.layers.size());
  for (size_t i = 0; i < a.layers.size(); ++i) {
    CHECK(a.layers[i].layer == b.layers[i].layer);
    CHECK(same_bits(a.layers[i].mean, b.layers[i].mean));
    CHECK(same_bits(a.layers[i].std, b.layers[i].std));
  }
  REQUIRE(a.grad_norms.size() == b.grad_norms.size());
  for (size_t i = 0; i < a.grad_norms.size(); ++i) {
    CHECK(a.grad_norms[i].parameter == b.grad_norms[i].parameter);
    CHECK(same_bits(a.grad_norms[i].mean_norm, b.grad_norms[i].mean_norm));
  }
}

// Trains `epochs` epochs, saves to `path`, and returns the history.
std::vector<EpochMetrics> train_and_save(Trainer& t, int epochs, const std::string& path) {
  std::vector<EpochMetrics> h;
  for (int e = 0; e < epochs; ++e) h.push_back(t.train_epoch());
  save_checkpoint(path, t, h, kLoad);
  return h;
}

template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("unexpected exception type: ") + e.what();
  }
  return "no error";
}

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("exact resume: 2 epochs, save, resume for 2 more = 4 epochs in one go, bit for bit") {
  const data::Splits& d = synthetic();
  struct Case {
    const char* preset;
    OptimizerKind optimizer;
    int threads;
  };
  for (const Case c : {Case{"batchnorm", OptimizerKind::adam, 1}, Case{"plain", OptimizerKind::momentum, 1},
                       Case{"layernorm", OptimizerKind::adamw, 1}, Case{"batchnorm", OptimizerKind::sgd, 1},
                       Case{"batchnorm", OptimizerKind::adam, 2}}) {
    CAPTURE(c.preset);
    CAPTURE(to_string(c.optimizer));
    CAPTURE(c.threads);
    TempDir dir;
    const ModelSpec spec = small_spec(c.preset);
    TrainConfig cfg = small_config(c.optimizer);
    cfg.threads = c.threads;

    Trainer straight(spec, cfg, d);
    std::vector<EpochMetrics> straight_history;
    while (straight.epoch() < cfg.epochs) straight_history.push_back(straight.train_epoch());

    Trainer first(spec, cfg, d);
    train_and_save(first, 2, dir / "run.safetensors");

    const Checkpoint ck = read_checkpoint(dir / "run.safetensors");
    Trainer resumed(ck.spec, ck.config, d);
    restore(resumed, ck);
    CHECK(resumed.epoch() == 2);
    std::vector<EpochMetrics> history = ck.history;
    while (resumed.epoch() < ck.config.epochs) history.push_back(resumed.train_epoch());

    CHECK(same_bits(resumed.session().parameters().data, straight.session().parameters().data));
    CHECK(same_bits(resumed.session().state().data, straight.session().state().data));
    CHECK(same_bits(resumed.optimizer().first_moment().data, straight.optimizer().first_moment().data));
    CHECK(same_bits(resumed.optimizer().second_moment().data, straight.optimizer().second_moment().data));
    CHECK(resumed.optimizer().steps() == straight.optimizer().steps());
    REQUIRE(history.size() == straight_history.size());
    for (size_t e = 0; e < history.size(); ++e) check_same_metrics(history[e], straight_history[e], false);
    const EvalMetrics a = resumed.evaluate(d.test), b = straight.evaluate(d.test);
    CHECK(same_bits(a.loss, b.loss));
    CHECK(same_bits(a.acc, b.acc));
  }
}

TEST_CASE("round trip: every tensor and every metadata field") {
  const data::Splits& d = synthetic();
  TempDir dir;
  MlpSpec family = small_mlp("batchnorm", {24, 12, 8});
  family.activation = Activation::tanh;
  family.placement = NormPlacement::before_activation;
  family.init = Init::Kind::he_uniform;
  family.weight_scale = 0.75;
  family.bn_momentum = 0.05;
  family.norm_eps = 1e-3;
  const ModelSpec spec = family.model_spec();
  TrainConfig cfg = small_config(OptimizerKind::adamw, 3);
  cfg.model = "custom";
  cfg.batch_size = 50;
  cfg.drop_last = true;
  cfg.optimizer.lr = 3e-3;
  cfg.optimizer.beta1 = 0.8;
  cfg.optimizer.beta2 = 0.99;
  cfg.optimizer.eps = 1e-8;
  cfg.optimizer.weight_decay = 0.01;
  cfg.optimizer.momentum = 0.7;
  cfg.seed = 1234567890123ull;
  cfg.eval_batch_size = 333;
  cfg.on_nonfinite = NonFinitePolicy::skip;
  cfg.threads = 2;
  data::LoadOptions load = kLoad;
  load.val_fraction = 0.25;
  load.standardize = true;
  load.limit_train = 3000;
  load.synthetic.seed = 9;
  load.synthetic.noise = 0.9;
  load.data_dir = "/some/dir";

  Trainer t(spec, cfg, d);
  std::vector<EpochMetrics> history{t.train_epoch()};
  history[0].val_loss = std::numeric_limits<double>::quiet_NaN();  // an empty validation split is written as null
  history[0].skipped_steps = 3;  // (not from this run: checks the field round-trips)
  save_checkpoint(dir / "ck.safetensors", t, history, load);
  CHECK_FALSE(fs::exists(dir / "ck.safetensors.tmp"));

  const Checkpoint ck = read_checkpoint(dir / "ck.safetensors");
  CHECK(ck.path == dir / "ck.safetensors");
  CHECK(ck.spec == spec);
  CHECK(to_json(ck.config) == to_json(cfg));
  CHECK(ck.config.dataset == "synthetic");
  CHECK(ck.config.model == "custom");
  CHECK(ck.config.epochs == 3);
  CHECK(ck.config.batch_size == 50);
  CHECK(ck.config.drop_last);
  CHECK(ck.config.seed == 1234567890123ull);
  CHECK(ck.config.threads == 2);
  CHECK(ck.config.eval_batch_size == 333);
  CHECK(ck.config.record_internals);
  CHECK(ck.config.on_nonfinite == NonFinitePolicy::skip);
  CHECK(ck.config.optimizer.kind == OptimizerKind::adamw);
  CHECK(ck.config.optimizer.lr == 3e-3);
  CHECK(ck.config.optimizer.beta1 == 0.8);
  CHECK(ck.config.optimizer.beta2 == 0.99);
  CHECK(ck.config.optimizer.eps == 1e-8);
  CHECK(ck.config.optimizer.weight_decay == 0.01);
  CHECK(ck.config.optimizer.momentum == 0.7);
  CHECK(ck.dataset == "synthetic");
  REQUIRE(ck.data.has_value());
  CHECK(to_json(*ck.data) == to_json(load));
  CHECK(ck.data->val_fraction == 0.25);
  CHECK(ck.data->standardize);
  CHECK(ck.data->limit_train == 3000);
  CHECK(ck.data->synthetic.seed == 9);
  CHECK(ck.data->synthetic.noise == 0.9);
  CHECK(ck.data->data_dir == "/some/dir");
  CHECK(ck.epoch == 1);
  CHECK(ck.optimizer_steps == t.optimizer().steps());
  CHECK(ck.optimizer_steps == history[0].steps);
  REQUIRE(ck.history.size() == 1);
  CHECK(std::isnan(ck.history[0].val_loss));
  check_same_metrics(ck.history[0], history[0], true);  // NaN compared by its bits: the same quiet NaN

  CHECK(ck.metadata.at("format") == "bnlab-checkpoint");
  CHECK(ck.metadata.at("format_version") == "2");
  CHECK(contains(ck.metadata.at("progress"), "\"data_order\":\"seed+epoch\""));
  CHECK(contains(ck.metadata.at("progress"), "\"generator\":\"xoshiro256**\""));

  // Every tensor, by name, bit for bit, and nothing else.
  size_t expected = 0;
  auto check_store = [&](const TensorStore<float>& store, const std::string& prefix) {
    for (int i = 0; i < store.size(); ++i) {
      const StoreEntry& e = store.entries[static_cast<size_t>(i)];
      CAPTURE(prefix + e.name);
      const CheckpointTensor& tensor = ck.tensor(prefix + e.name);
      std::vector<int64_t> shape;
      for (int r = 0; r < e.shape.rank(); ++r) shape.push_back(e.shape[r]);
      CHECK(tensor.shape == shape);
      const std::vector<float> want(store.data.begin() + e.offset, store.data.begin() + e.offset + e.size);
      CHECK(same_bits(tensor.data, want));
      ++expected;
    }
  };
  check_store(t.session().parameters(), "");
  check_store(t.session().state(), "");
  check_store(t.optimizer().first_moment(), "optimizer.m.");
  check_store(t.optimizer().second_moment(), "optimizer.v.");
  CHECK(ck.tensors.size() == expected);
  CHECK(ck.tensors.count("bn3.running_var") == 1);
  const auto layout = checkpoint_layout(spec, OptimizerKind::adamw);
  CHECK(layout.size() == expected);
  CHECK(layout.front().first == "fc1.weight");
  CHECK(layout.back().first == "optimizer.v.out.bias");

  // The file itself: 8-byte length, header padded to a multiple of 8, tensors back to back.
  const std::string bytes = read_bytes(dir / "ck.safetensors");
  const uint64_t n = header_length(bytes);
  CHECK(n % 8 == 0);
  size_t floats = 0;
  for (const auto& [name, tensor] : ck.tensors) floats += tensor.data.size();
  CHECK(bytes.size() == 8 + n + 4 * floats);
  CHECK(bytes.substr(8, 16) == "{\"__metadata__\":");

  // Saving again overwrites in place, atomically.
  history.push_back(t.train_epoch());
  save_checkpoint(dir / "ck.safetensors", t, history, load);
  CHECK(read_checkpoint(dir / "ck.safetensors").epoch == 2);
  CHECK_FALSE(fs::exists(dir / "ck.safetensors.tmp"));
}

TEST_CASE("the metrics history must match the trainer's epochs; an unwritable path is a RuntimeError") {
  const data::Splits& d = synthetic();
  TempDir dir;
  Trainer t(small_spec("plain"), small_config(OptimizerKind::adam, 1), d);
  CHECK_THROWS_AS(save_checkpoint(dir / "a.safetensors", t, {EpochMetrics{}}), UsageError);
  CHECK_THROWS_AS(save_checkpoint(dir / "no/such/dir/a.safetensors", t, {}), RuntimeError);
  save_checkpoint(dir / "fresh.safetensors", t, {});  // before any training: epoch 0
  const Checkpoint ck = read_checkpoint(dir / "fresh.safetensors");
  CHECK(ck.epoch == 0);
  CHECK(ck.history.empty());
  CHECK_FALSE(ck.data.has_value());
}

TEST_CASE("a checkpoint of another model or configuration is refused, and the trainer is left as it was") {
  const data::Splits& d = synthetic();
  TempDir dir;
  Trainer saver(small_spec("batchnorm"), small_config(), d);
  train_and_save(saver, 1, dir / "ck.safetensors");
  const Checkpoint ck = read_checkpoint(dir / "ck.safetensors");

  SUBCASE("different layer sizes: the tensor and both shapes") {
    Trainer other(small_spec("batchnorm", {64, 16}), small_config(), d);
    const AlignedVector<float> before = other.session().parameters().data;
    const std::string e = error_of([&] { restore(other, ck); });
    CHECK(contains(e, dir / "ck.safetensors"));
    CHECK(contains(e, "tensor 'fc1.weight' has shape [20,32] in the checkpoint but [20,64] in the model"));
    CHECK(same_bits(other.session().parameters().data, before));
    CHECK(other.epoch() == 0);
    CHECK(other.optimizer().steps() == 0);
  }
  SUBCASE("no batch norm in the model: the checkpoint's extra tensors") {
    Trainer other(small_spec("plain"), small_config(), d);
    CHECK(contains(error_of([&] { restore(other, ck); }), "unexpected tensor 'bn1.beta' [32]"));
  }
  SUBCASE("batch norm in the model but not in the checkpoint: the missing tensor") {
    TempDir dir2;
    Trainer plain(small_spec("plain"), small_config(), d);
    train_and_save(plain, 1, dir2 / "plain.safetensors");
    Trainer other(small_spec("batchnorm"), small_config(), d);
    CHECK(contains(error_of([&] { restore(other, read_checkpoint(dir2 / "plain.safetensors")); }),
                   "missing tensor 'bn1.gamma' (the model has it with shape [32])"));
  }
  SUBCASE("same shapes, another activation: the spec field") {
    MlpSpec s = small_mlp("batchnorm");
    s.activation = Activation::tanh;
    Trainer other(s.model_spec(), small_config(), d);
    const AlignedVector<float> before = other.session().parameters().data;
    CHECK(contains(error_of([&] { restore(other, ck); }),
                   "the model differs: spec field 'layers[1].activation' is \"relu\" in the checkpoint but \"tanh\" in the model"));
    CHECK(same_bits(other.session().parameters().data, before));
  }
  SUBCASE("another optimizer setting: a resume takes the checkpoint's") {
    TrainConfig c = small_config();
    c.optimizer.lr = 0.01;
    Trainer other(small_spec("batchnorm"), c, d);
    CHECK(contains(error_of([&] { restore(other, ck); }), "the training configuration differs: 'optimizer.lr' is 0.001 in the checkpoint but 0.01 in the model"));
  }
  SUBCASE("another batch size") {
    TrainConfig c = small_config();
    c.batch_size = 64;
    Trainer other(small_spec("batchnorm"), c, d);
    CHECK(contains(error_of([&] { restore(other, ck); }), "'batch_size' is 32 in the checkpoint but 64 in the model"));
  }
  SUBCASE("more epochs and another thread count are fine") {
    TrainConfig c = small_config();
    c.epochs = 9;
    c.eval_batch_size = 77;
    Trainer other(small_spec("batchnorm"), c, d);
    restore(other, ck);
    CHECK(other.epoch() == 1);
  }
  SUBCASE("load_parameters into a session of another model") {
    const Model model = build_model(small_spec("batchnorm", {32, 8}));
    Session s(compile(model.graph, model.loss, {.backward = false}));
    const AlignedVector<float> before = s.parameters().data;
    CHECK(contains(error_of([&] { load_parameters(s, ck); }),
                   "tensor 'fc2.weight' has shape [32,16] in the checkpoint but [32,8] in the model"));
    CHECK(same_bits(s.parameters().data, before));
  }
}

TEST_CASE("a damaged or foreign file is an InputError naming the file and the problem") {
  const data::Splits& d = synthetic();
  TempDir dir;
  Trainer t(small_spec("batchnorm"), small_config(), d);
  train_and_save(t, 1, dir / "good.safetensors");
  const std::string good = read_bytes(dir / "good.safetensors");
  const std::string bad = dir / "bad.safetensors";
  auto error_for = [&](const std::string& bytes) {
    write_bytes(bad, bytes);
    const std::string e = error_of([&] { read_checkpoint(bad); });
    CHECK(e.rfind(bad + ": ", 0) == 0);  // starts with the file name
    CHECK(e.find('\n') == std::string::npos);
    return e;
  };
  const uint64_t n = header_length(good);

  CHECK(contains(error_of([&] { read_checkpoint(dir / "missing.safetensors"); }), "cannot open"));
  CHECK(contains(error_for(good.substr(0, 5)), "truncated: the file has 5 bytes, fewer than the 8-byte header length at byte 0"));
  CHECK(contains(error_for(good.substr(0, 8 + n / 2)), "truncated: the header length at byte 0 says"));
  // Cut inside the data: the last tensor runs past the end.
  CHECK(contains(error_for(good.substr(0, good.size() - 10)), "(truncated?)"));
  CHECK(contains(error_for(good.substr(0, good.size() - 10)), "tensor 'optimizer.v.out.bias'"));
  {
    std::string b = good;
    set_header_length(b, 1ull << 40);
    CHECK(contains(error_for(b), "bad header length 1099511627776 at byte 0"));
    set_header_length(b, n - 8);  // the JSON is cut short
    CHECK(contains(error_for(b), "the header is not valid JSON at byte"));
  }
  {
    std::string b = good;
    for (size_t i = 8; i < 20; ++i) b[i] = '#';
    CHECK(contains(error_for(b), "the header is not valid JSON at byte 8"));
  }
  CHECK(contains(error_for(patched(good, "\"F32\"", "\"F16\"")), "has dtype F16; bnlab reads F32 tensors only"));
  CHECK(contains(error_for(patched(good, "\"format_version\":\"2\"", "\"format_version\":\"7\"")),
                 "checkpoint format version '7' is not supported (this bnlab reads versions 1 to 2)"));
  CHECK(contains(error_for(patched(good, "bnlab-checkpoint", "other-checkpoint")),
                 "unknown format 'other-checkpoint' (expected 'bnlab-checkpoint')"));
  CHECK(contains(error_for(patched(good, "\\\"kind\\\":\\\"batch_norm\\\"", "\\\"kind\\\":\\\"bunch_norm\\\"")),
                 "__metadata__ \"spec\": field 'layers[2].kind': unknown layer kind 'bunch_norm'"));
  CHECK(contains(error_for(patched(good, "\\\"epoch\\\":1,\\\"optimizer_steps", "\\\"epoch\\\":0,\\\"optimizer_steps")), "progress says 0 epochs were completed but the history holds 1"));

  // Files written with the format layer alone: a tensor missing, one too many, a shape that does not fit the spec.
  const Checkpoint ck = read_checkpoint(dir / "good.safetensors");
  auto rewrite = [&](auto edit) {
    std::map<std::string, CheckpointTensor> tensors = ck.tensors;
    edit(tensors);
    std::vector<TensorRef> refs;
    for (const auto& [name, tensor] : tensors) refs.push_back({name, tensor.shape, tensor.data});
    write_safetensors(bad, refs, ck.metadata);
    return error_of([&] { read_checkpoint(bad); });
  };
  CHECK(contains(rewrite([](auto& m) { m.erase("bn2.running_var"); }),
                 "missing tensor 'bn2.running_var' (a 20-32-16-4 batch-norm model with adam has it with shape [16])"));
  CHECK(contains(rewrite([](auto& m) { m["extra"] = {{2}, {1, 2}}; }), "unexpected tensor 'extra'"));
  CHECK(contains(rewrite([](auto& m) { m["out.bias"] = {{2, 2}, {1, 2, 3, 4}}; }),
                 "tensor 'out.bias' has shape [2,2] but the checkpoint's 20-32-16-4 batch-norm model with adam needs [4]"));

  // Offsets, hand-made.
  auto raw_error = [&](const std::string& header, const std::string& data) {
    return error_for(raw_file(header, data));
  };
  const std::string eight(8, '\0');
  CHECK(contains(raw_error(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", eight),
                 "tensors 'a' and 'b' overlap in the data section"));
  CHECK(contains(raw_error(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", eight),
                 "tensor 'a': data_offsets [0,16] end at byte"));
  CHECK(contains(raw_error(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", eight),
                 "tensor 'a': data_offsets [0,8] hold 8 bytes but shape [3] of F32 needs 12"));
  CHECK(contains(raw_error(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", eight),
                 "not a bnlab checkpoint: __metadata__ has no \"format\" field"));
  CHECK(contains(raw_error(R"({"__metadata__":{"format":1}})", ""), "__metadata__ \"format\" is a number"));
  CHECK(contains(raw_error("[1,2]", ""), "the header is JSON but not an object"));
  // The format layer alone reads a foreign safetensors file fine.
  write_bytes(bad, raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", std::string("\0\0\x80\x3f\0\0\0\x40", 8)));
  const SafetensorsFile f = read_safetensors(bad);
  CHECK(f.tensors.at("a").data == std::vector<float>{1.0f, 2.0f});
  // An empty tensor and a scalar are valid too.
  write_safetensors(bad, {{"empty", {0, 3}, {}}, {"scalar", {}, std::vector<float>{7.0f}}}, {{"note", "x"}});
  const SafetensorsFile g = read_safetensors(bad);
  CHECK(g.tensors.at("empty").data.empty());
  CHECK(g.tensors.at("empty").shape == std::vector<int64_t>{0, 3});
  CHECK(g.tensors.at("scalar").shape.empty());
  CHECK(g.tensors.at("scalar").data == std::vector<float>{7.0f});
  CHECK(g.metadata.at("note") == "x");
}

// Regression tests for the fuzzer's findings (their inputs: tests/fuzz/corpus/checkpoint/found-*).
TEST_CASE("fuzz findings: a spec beyond bnlab's limits or a number beyond double's range is a one-line InputError") {
  const data::Splits& d = synthetic();
  TempDir dir;
  Trainer t(small_spec("batchnorm"), small_config(), d);
  train_and_save(t, 1, dir / "good.safetensors");
  const Checkpoint ck = read_checkpoint(dir / "good.safetensors");
  const std::string bad = dir / "bad.safetensors";
  // The good file's tensors with one metadata field replaced.
  auto error_with = [&](const std::string& key, const std::string& value) {
    std::map<std::string, std::string> metadata = ck.metadata;
    metadata[key] = value;
    std::vector<TensorRef> refs;
    for (const auto& [name, tensor] : ck.tensors) refs.push_back({name, tensor.shape, tensor.data});
    write_safetensors(bad, refs, metadata);
    const std::string e = error_of([&] { read_checkpoint(bad); });
    CHECK(e.rfind(bad + ": ", 0) == 0);
    CHECK(e.find('\n') == std::string::npos);
    return e;
  };
  // A spec of format 1 (the MLP family's parameters), edited; read with format_version "1".
  auto spec_error = [&](auto edit) {
    MlpSpec s = small_mlp("batchnorm");
    edit(s);
    std::map<std::string, std::string> metadata = ck.metadata;
    metadata["spec"] = format1_json(s);
    metadata["format_version"] = "1";
    std::vector<TensorRef> refs;
    for (const auto& [name, tensor] : ck.tensors) refs.push_back({name, tensor.shape, tensor.data});
    write_safetensors(bad, refs, metadata);
    return error_of([&] { read_checkpoint(bad); });
  };

  // found-header-number-overflow: the same in the safetensors header itself.
  write_bytes(bad, raw_file(R"({"a":1e999})", ""));
  CHECK(error_of([&] { read_checkpoint(bad); }) ==
        bad + ": the header is not valid JSON: [json.exception.out_of_range.406] number overflow parsing '1e999'");
  // found-metadata-number-overflow: 1e999 in a metadata JSON made nlohmann throw out_of_range, which escaped.
  std::string history = ck.metadata.at("history");
  const auto acc = history.find("\"train_acc\":");
  REQUIRE(acc != std::string::npos);
  history.insert(acc + 12, "1e999,\"x\":");
  CHECK(error_with("history", history) ==
        bad + ": __metadata__ \"history\": not valid JSON ([json.exception.out_of_range.406] number overflow parsing '1e999')");
  CHECK(error_of([] { model_spec_from_format1_json(R"({"inputs":1e999})"); }) ==
        "not valid JSON ([json.exception.out_of_range.406] number overflow parsing '1e999')");

  // found-classes-2pow32: 2^32 classes passed validate() and was truncated to the int32 of labels() (to 0).
  CHECK(spec_error([](MlpSpec& s) { s.classes = int64_t{1} << 32; }) ==
        bad + ": __metadata__ \"spec\": model classes must be in [2, 16777216], got 4294967296");
  CHECK(spec_error([](MlpSpec& s) { s.classes = (int64_t{1} << 32) + 2; }) ==
        bad + ": __metadata__ \"spec\": model classes must be in [2, 16777216], got 4294967298");
  CHECK(spec_error([](MlpSpec& s) { s.inputs = int64_t{1} << 40; }) ==
        bad + ": __metadata__ \"spec\": model input size must be in [1, 16777216], got 1099511627776");
  CHECK(spec_error([](MlpSpec& s) { s.hidden[1] = std::numeric_limits<int64_t>::max(); }) ==
        bad + ": __metadata__ \"spec\": hidden layer 2 size must be in [1, 16777216], got 9223372036854775807");
  // Sizes each within the limit, but a weight matrix beyond it (counted with checked arithmetic).
  CHECK(spec_error([](MlpSpec& s) { s.inputs = s.hidden[0] = MlpSpec::max_layer_size; }) ==
        bad + ": __metadata__ \"spec\": model 16777216-16777216-16-4 has more than 4294967296 dense parameters (bnlab's limit)");

  // found-1000-layers-slow: 1000 hidden layers took seconds to build (and 4000 over a minute under the sanitizers).
  CHECK(spec_error([](MlpSpec& s) { s.hidden.assign(1000, 1); }) ==
        bad + ": __metadata__ \"spec\": model has 1000 hidden layers; bnlab supports at most 256");
  // At the limit the spec is read, and the tensors are checked against it.
  CHECK(contains(spec_error([](MlpSpec& s) { s.hidden.assign(MlpSpec::max_hidden_layers, 2); }),
                 ": tensor 'fc1.weight' has shape [20,32] but the checkpoint's 20-2-2-"));
  MlpSpec deepest = small_mlp("batchnorm");
  deepest.hidden.assign(MlpSpec::max_hidden_layers, 1);
  CHECK(build_model(deepest.model_spec()).probes.size() == MlpSpec::max_hidden_layers);
}

TEST_CASE("a model loaded from a checkpoint evaluates exactly as the trainer that saved it") {
  const data::Splits& d = synthetic();
  TempDir dir;
  Trainer t(small_spec("batchnorm"), small_config(), d);
  train_and_save(t, 2, dir / "ck.safetensors");
  const Checkpoint ck = read_checkpoint(dir / "ck.safetensors");

  Predictor p(ck);
  for (Mode mode : {Mode::eval, Mode::eval_batch_stats}) {
    CAPTURE(to_string(mode));
    for (const data::Dataset* split : {&d.test, &d.val}) {
      const EvalMetrics want = t.evaluate(*split, mode), got = p.evaluate(*split, mode);
      CHECK(same_bits(got.loss, want.loss));
      CHECK(same_bits(got.acc, want.acc));
      CHECK(got.samples == want.samples);
    }
  }

  // The same by hand: Session + load_parameters, eval mode, chunks of the eval batch size.
  const Model model = build_model(ck.spec);
  Session s(compile(model.graph, model.loss, {.backward = false}));
  load_parameters(s, ck);
  double loss_sum = 0, correct = 0;
  for (int64_t start = 0; start < d.test.size(); start += ck.config.eval_batch_size) {
    const int64_t n = std::min(ck.config.eval_batch_size, d.test.size() - start);
    s.set_batch(n);
    std::copy(d.test.row(start), d.test.row(start + n), s.input(model.input).data);
    std::copy(d.test.labels.begin() + start, d.test.labels.begin() + start + n, s.labels(model.labels).begin());
    loss_sum += static_cast<double>(s.forward(Mode::eval)) * static_cast<double>(n);
    correct += s.saved(model.loss, "correct").data[0];
  }
  const EvalMetrics want = t.evaluate(d.test);
  CHECK(same_bits(loss_sum / static_cast<double>(d.test.size()), want.loss));
  CHECK(same_bits(correct / static_cast<double>(d.test.size()), want.acc));

  // Predictions: arg-max agrees with the accuracy; probabilities are distributions.
  const std::span<const float> rows(d.test.features);
  const std::vector<int32_t> classes = p.predict(rows);
  const std::vector<float> probs = p.probabilities(rows);
  REQUIRE(classes.size() == static_cast<size_t>(d.test.size()));
  REQUIRE(probs.size() == classes.size() * 4);
  int64_t right = 0;
  for (size_t i = 0; i < classes.size(); ++i) {
    right += classes[i] == d.test.labels[i];
    float sum = 0;
    for (size_t c = 0; c < 4; ++c) sum += probs[4 * i + c];
    CHECK(sum == doctest::Approx(1.0).epsilon(1e-5));
    CHECK(probs[4 * i + static_cast<size_t>(classes[i])] >= probs[4 * i + (static_cast<size_t>(classes[i]) + 1) % 4]);
  }
  CHECK(static_cast<double>(right) / static_cast<double>(d.test.size()) == want.acc);
  CHECK_THROWS_AS(p.probabilities(std::span<const float>(d.test.features).first(7)), UsageError);
}

TEST_CASE("serialization: exact round trips; missing, unknown and mistyped fields are named") {
  MlpSpec family = MlpSpec::preset("batchnorm");
  family.hidden = {7, 5, 3};
  family.weight_scale = 0.1;  // not exactly representable: must still read back bit for bit
  const ModelSpec s = family.model_spec();
  CHECK(model_spec_from_json(to_json(s)) == s);
  CHECK(model_spec_from_format1_json(format1_json(family)) == s);
  OptimizerConfig o;
  o.lr = 1.0 / 3.0;
  CHECK(to_json(optimizer_config_from_json(to_json(o))) == to_json(o));
  CHECK(optimizer_config_from_json(to_json(o)).lr == o.lr);
  EvalMetrics e{0.1 + 0.2, std::numeric_limits<double>::quiet_NaN(), 10};
  const EvalMetrics e2 = eval_metrics_from_json(to_json(e));
  CHECK(e2.loss == e.loss);
  CHECK(std::isnan(e2.acc));
  CHECK(e2.samples == 10);
  CHECK(history_from_json("[]").empty());

  auto error = [](auto f) { return error_of(f); };
  CHECK(error([] { model_spec_from_json("{}"); }) == "missing field 'input_shape'");
  CHECK(error([] { model_spec_from_json("{"); }).rfind("not valid JSON", 0) == 0);
  std::string text = to_json(s);
  CHECK(error([&] { model_spec_from_json(text.substr(0, text.size() - 1) + ",\"dropout\":0.5}"); }) == "unknown field 'dropout'");
  const auto units = text.find("\"units\":7");
  REQUIRE(units != std::string::npos);
  CHECK(error([&] { model_spec_from_json(std::string(text).replace(units, 9, "\"units\":\"x\"")); }) ==
        "field 'layers[0].units': expected an integer, got string");
  const auto kind = text.find("\"kind\":\"dense\"");
  REQUIRE(kind != std::string::npos);
  CHECK(error([&] { model_spec_from_json(std::string(text).replace(kind, 14, "\"kind\":\"conv\"")); }) ==
        "field 'layers[0].kind': unknown layer kind 'conv'; did you mean conv2d? (known: dense, conv2d, max_pool2d, avg_pool2d, global_avg_pool, flatten, batch_norm, layer_norm, group_norm, activation, dropout)");
  CHECK(error([] { model_spec_from_format1_json("{}"); }) == "missing field 'inputs'");
  text = format1_json(family);
  const auto hidden = text.find("[7,5,3]");
  REQUIRE(hidden != std::string::npos);
  CHECK(error([&] { model_spec_from_format1_json(std::string(text).replace(hidden, 7, "[7,\"x\",3]")); }) ==
        "field 'hidden[1]': expected an integer, got string");
  TrainConfig c;
  text = to_json(c);
  const auto lr = text.find("\"lr\":");
  REQUIRE(lr != std::string::npos);
  CHECK(error([&] { train_config_from_json(std::string(text).replace(lr, 5, "\"lr\":\"fast\",\"x\":")); }) ==
        "field 'optimizer.lr': expected a number, got string");
}

TEST_CASE("best_checkpoint_path keeps the extension") {
  CHECK(best_checkpoint_path("run.safetensors") == "run.best.safetensors");
  CHECK(best_checkpoint_path("runs/a/run.safetensors") == "runs/a/run.best.safetensors");
  CHECK(best_checkpoint_path("runs/ckpt") == "runs/ckpt.best");
}

TEST_CASE("the Python reader of docs/checkpoints.md reads a checkpoint with json + struct only") {
  if (std::system("python3 -c 'import json, struct' >/dev/null 2>&1") != 0) {
    bnlab::test::skip_test("python3 with json and struct not found (scripts/install-deps installs python3)");
    return;
  }
  const std::string doc = read_bytes(std::string(BNLAB_SOURCE_DIR) + "/docs/checkpoints.md");
  const auto begin = doc.find("```python\n");
  REQUIRE(begin != std::string::npos);
  const auto end = doc.find("\n```", begin + 10);
  REQUIRE(end != std::string::npos);
  TempDir dir;
  write_bytes(dir / "read.py", doc.substr(begin + 10, end - begin - 10) + "\n");

  const data::Splits& d = synthetic();
  Trainer t(small_spec("batchnorm"), small_config(), d);
  train_and_save(t, 1, dir / "ck.safetensors");
  const Checkpoint ck = read_checkpoint(dir / "ck.safetensors");
  const std::string command = "python3 " + (dir / "read.py") + " " + (dir / "ck.safetensors") + " > " + (dir / "out.txt") + " 2>&1";
  REQUIRE(std::system(command.c_str()) == 0);
  const std::string out = read_bytes(dir / "out.txt");
  CAPTURE(out);
  CHECK(contains(out, "format bnlab-checkpoint version 2\n"));
  CHECK(contains(out, "model 20-32-16-4 layers dense,activation,batch_norm,dense,activation,batch_norm,dense\n"));
  CHECK(contains(out, "epoch 1 optimizer_steps " + std::to_string(ck.optimizer_steps) + "\n"));
  std::istringstream lines(out);
  std::string line;
  size_t seen = 0;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string kind, name, shape, first;
    size_t count = 0;
    words >> kind;
    if (kind != "tensor") continue;
    words >> name >> shape >> count >> first;
    CAPTURE(line);
    const CheckpointTensor& tensor = ck.tensor(name);
    std::string want_shape = shape_string(tensor.shape);
    want_shape.erase(std::remove(want_shape.begin(), want_shape.end(), ' '), want_shape.end());
    CHECK(shape == want_shape);
    CHECK(count == tensor.data.size());
    CHECK(std::stod(first) == static_cast<double>(tensor.data[0]));  // Python's repr reads back exactly
    ++seen;
  }
  CHECK(seen == ck.tensors.size());
}

TEST_CASE("preprocessing: the statistics the trainer's data were standardized with, read back bit for bit; damaged ones named") {
  const data::Splits d = data::load("synthetic", {.seed = 1, .standardize = true});
  REQUIRE(d.preparation.standardization);
  TempDir dir;
  Trainer t(small_spec("plain"), small_config(), d);
  train_and_save(t, 1, dir / "z.safetensors");
  const Checkpoint ck = read_checkpoint(dir / "z.safetensors");
  REQUIRE(ck.preparation);
  CHECK(ck.preparation->divisor == 1);
  CHECK(ck.preparation->sample_shape == std::vector<int64_t>{20});
  REQUIRE(ck.preparation->standardization);
  CHECK(ck.preparation->standardization->mean == d.preparation.standardization->mean);  // float ==: every bit
  CHECK(ck.preparation->standardization->scale == d.preparation.standardization->scale);
  CHECK(training_preparation(ck).standardization->mean == d.preparation.standardization->mean);
  // Data scaled otherwise than the training data are refused by the predictor, naming both.
  Predictor predictor(ck);
  data::Dataset pixels = d.test;
  pixels.divisor = 255;
  pixels.source = "dir/test.csv";
  CHECK(error_of([&] { predictor.evaluate(pixels); }) ==
        "'synthetic/test' (dir/test.csv): the data are read as values divided by 255, but the model in " + (dir / "z.safetensors") +
            " was trained on values as they are (synthetic)");

  // A file from before "preprocessing": loads, and training_preparation reconstructs what it can.
  const std::string old = dir / "old.safetensors";
  auto write_with = [&](const std::function<void(std::map<std::string, std::string>&)>& edit) {
    std::map<std::string, std::string> metadata = ck.metadata;
    edit(metadata);
    std::vector<TensorRef> refs;
    for (const auto& [name, tensor] : ck.tensors) refs.push_back({name, tensor.shape, tensor.data});
    write_safetensors(old, refs, metadata);
  };
  write_with([](auto& m) { m.erase("preprocessing"); });
  const Checkpoint before = read_checkpoint(old);
  CHECK(!before.preparation);
  CHECK(training_preparation(before).divisor == 1);  // synthetic: values as they are
  CHECK(training_preparation(before).sample_shape == std::vector<int64_t>{20});
  CHECK(!training_preparation(before).standardization);

  auto error_with = [&](const std::string& value) {
    write_with([&](auto& m) { m["preprocessing"] = value; });
    return error_of([&] { read_checkpoint(old); });
  };
  CHECK(error_with(R"({"divisor":1,"sample_shape":[21],"standardization":null})") ==
        old + ": __metadata__ \"preprocessing\": sample_shape [21] holds 21 values, but the model takes 20 inputs");
  CHECK(error_with(R"({"divisor":1,"sample_shape":[16777216,16777216,16777216],"standardization":null})") ==
        old + ": __metadata__ \"preprocessing\": sample_shape [16777216,16777216,16777216] holds 4.72237e+21 values, but the model "
              "takes 20 inputs");
  CHECK(error_with(R"({"divisor":1,"sample_shape":[16777217],"standardization":null})") ==
        old + ": __metadata__ \"preprocessing\": field 'sample_shape[0]': 16777217 is out of range");
  CHECK(error_with(R"({"divisor":0,"sample_shape":[20],"standardization":null})") ==
        old + ": __metadata__ \"preprocessing\": field 'divisor': 0 is not a positive number");
  CHECK(error_with(R"({"divisor":1,"sample_shape":[20],"standardization":{"mean":[1],"scale":[1]}})") ==
        old + ": __metadata__ \"preprocessing\": standardization of 1 features, but the model takes 20 inputs");
  CHECK(error_with(R"({"divisor":1,"sample_shape":[20],"standardization":{"mean":[1],"scale":[0]}})") ==
        old + ": __metadata__ \"preprocessing\": field 'standardization.scale[0]': 0 is not a positive finite float");
  CHECK(error_with(R"({"divisor":1,"sample_shape":[20]})") == old + ": __metadata__ \"preprocessing\": missing field 'standardization'");
  CHECK(error_with(R"({"divisor":1,"sample_shape":[20],"standardization":null,"pixels":2})") ==
        old + ": __metadata__ \"preprocessing\": unknown field 'pixels'");
}

// CNNs from the command line, end to end on small IDX images (8×8): compare --model cnn, a model
// file trained, checkpointed, evaluated, predicted from and resumed exactly (dropout's step counter
// included), and the errors of models that do not fit the data or the flags.
#include <doctest/doctest.h>

#include "cli_test_support.hpp"

using namespace bnlab::test;

namespace {

// conv (same) → group norm → relu → max-pool → dropout → flatten → dense, for [8,8,1] images.
const char* kModelFile = R"({"input_shape": [8, 8, 1], "classes": 10, "layers": [
  {"kind": "conv2d", "name": "conv1", "filters": 4, "kernel": 3, "padding": "same"},
  {"kind": "group_norm", "name": "gn1", "groups": 2},
  {"kind": "activation", "name": "act1", "activation": "relu"},
  {"kind": "max_pool2d", "name": "pool1", "window": 2},
  {"kind": "dropout", "name": "drop1", "rate": 0.3},
  {"kind": "flatten", "name": "flatten"},
  {"kind": "dense", "name": "out", "units": 10}]})";

std::string mnist_8x8(const TempDir& dir) {
  const std::string data = dir / "mnist";
  fs::create_directories(data);
  write_mnist_like(data, {.train = 120, .test = 40, .side = 8});
  return data;
}

}  // namespace

TEST_CASE("compare --model cnn trains cnn-plain and cnn-batchnorm like for like, reproducibly") {
  TempDir dir;
  const std::string data = mnist_8x8(dir);
  const std::string args = "compare --model cnn --dataset mnist --data-dir " + data + " --hidden 8 --batch-size 16 --epochs 2 --json ";
  const Run a = run_bnlab(args + dir / "a.json", dir);
  REQUIRE_MESSAGE(a.status == 0, a.err);
  CHECK(contains(a.err, "compare cnn-plain vs cnn-batchnorm on mnist\n  96 train / 24 val / 40 test rows, 8x8x1-c32-p2-c64-p2-8-10\n"));
  const json doc = read_json(dir / "a.json");
  REQUIRE(doc["runs"].size() == 2);
  CHECK(doc["runs"][0]["name"] == "cnn-plain");
  CHECK(doc["runs"][1]["name"] == "cnn-batchnorm");
  for (const auto& run : doc["runs"]) {
    CHECK(run["config"]["model"] == "8x8x1-c32-p2-c64-p2-8-10");
    CHECK(run["config"]["input_shape"] == json::array({8, 8, 1}));
    CHECK(run["config"]["norm_placement"] == "before_activation");
    CHECK(run["epochs"].size() == 2);
  }
  CHECK(doc["runs"][0]["config"]["norm"] == "none");
  CHECK(doc["runs"][1]["config"]["norm"] == "batch");
  // The same command again: the same numbers (times aside).
  const Run b = run_bnlab(args + dir / "b.json", dir);
  REQUIRE(b.status == 0);
  CHECK(without_times(read_json(dir / "a.json")) == without_times(read_json(dir / "b.json")));
}

TEST_CASE("a model file: trained, evaluated and predicted from its checkpoint, and resumed exactly") {
  TempDir dir;
  const std::string data = mnist_8x8(dir);
  write_text(dir / "m.json", kModelFile);
  const std::string common = "train --model-file " + dir / "m.json" + " --dataset mnist --data-dir " + data + " --batch-size 16 --quiet";
  const std::string whole = dir / "whole.json";
  const Run t = run_bnlab(common + " --epochs 3 --json " + whole + " --checkpoint " + dir / "whole.safetensors", dir);
  REQUIRE_MESSAGE(t.status == 0, t.err);
  const json w = read_json(whole);
  CHECK(w["runs"][0]["name"] == "m");
  CHECK(w["runs"][0]["config"]["preset"] == "m");
  CHECK(w["runs"][0]["config"]["model"] == "8x8x1-c4-p2-10");

  // eval reproduces the run's test score from the checkpoint.
  const Run e = run_bnlab("eval --checkpoint " + dir / "whole.safetensors" + " --json " + dir / "eval.json", dir);
  REQUIRE_MESSAGE(e.status == 0, e.err);
  const json ev = read_json(dir / "eval.json")["runs"][0]["eval"];
  CHECK(ev["samples"] == 40);
  CHECK(ev["loss"] == w["runs"][0]["test"]["loss"]);  // bit for bit
  CHECK(ev["acc"] == w["runs"][0]["test"]["acc"]);

  // predict reads the IDX images as [8,8,1] samples.
  const Run p = run_bnlab("predict --checkpoint " + dir / "whole.safetensors" + " --input " + data + "/t10k-images-idx3-ubyte.gz" +
                              " --json " + dir / "predict.json", dir);
  REQUIRE_MESSAGE(p.status == 0, p.err);
  CHECK(read_json(dir / "predict.json")["rows"].size() == 40);

  // 1 epoch, then resumed to 3: the same metrics as 3 in one go (dropout draws the same masks).
  const Run first = run_bnlab(common + " --epochs 1 --checkpoint " + dir / "part.safetensors", dir);
  REQUIRE_MESSAGE(first.status == 0, first.err);
  const Run resumed = run_bnlab("train --resume " + dir / "part.safetensors" + " --epochs 3 --quiet --json " + dir / "resumed.json", dir);
  REQUIRE_MESSAGE(resumed.status == 0, resumed.err);
  CHECK(without_times(read_json(dir / "resumed.json")) == without_times(w));
}

TEST_CASE("sweep and compare take model files among their variants, named by the file") {
  TempDir dir;
  const std::string data = mnist_8x8(dir);
  write_text(dir / "m.json", kModelFile);
  const Run c = run_bnlab("compare --variants cnn-plain," + dir / "m.json" + " --dataset mnist --data-dir " + data +
                              " --hidden 4 --batch-size 16 --epochs 1 --quiet --json " + dir / "c.json", dir);
  // --hidden refines the preset, but not the model file: refused, naming the file.
  CHECK(c.status == 2);
  CHECK(contains(c.err, "--hidden: refines a preset, not a model file (edit " + dir / "m.json" + " instead)"));
  const Run s = run_bnlab("sweep --variants cnn-plain," + dir / "m.json" + " --batch-sizes 16 --seeds 0 --dataset mnist --data-dir " +
                              data + " --epochs 1 --quiet --out " + dir / "sweep", dir);
  REQUIRE_MESSAGE(s.status == 0, s.err);
  CHECK(fs::exists(dir / "sweep/runs/m-bs16-seed0.json"));
  CHECK(fs::exists(dir / "sweep/runs/cnn-plain-bs16-seed0.json"));
  const json m = read_json(dir / "sweep/runs/m-bs16-seed0.json");
  CHECK(m["config"]["preset"] == "m");
  CHECK(m["config"]["model"] == "8x8x1-c4-p2-10");
}

TEST_CASE("a CNN that does not fit the data, or flags that do not fit a model file, are one clear line") {
  TempDir dir;
  const std::string data = mnist_8x8(dir);
  write_text(dir / "m.json", kModelFile);
  Run r = run_bnlab("train --model cnn-plain --dataset synthetic --epochs 1", dir);
  CHECK(r.status == 2);
  CHECK(contains(r.err, "a CNN takes images [H,W,C], but the input is 1-dimensional"));
  r = run_bnlab("train --model-file " + dir / "m.json" + " --hidden 5 --dataset mnist --data-dir " + data, dir);
  CHECK(r.status == 2);
  CHECK(contains(r.err, "--hidden: refines a preset, not a model file (edit " + dir / "m.json" + " instead)"));
  r = run_bnlab("train --model-file " + dir / "m.json" + " --dataset synthetic", dir);
  CHECK(r.status == 2);
  CHECK(contains(r.err, "the model takes 64 inputs but 'synthetic/train' has 20 features"));
  write_text(dir / "bad.json", R"({"input_shape": [8, 8, 1], "classes": 10, "layers": [{"kind": "dense", "units": 10}]})");
  r = run_bnlab("train --model-file " + dir / "bad.json" + " --dataset mnist --data-dir " + data, dir);
  CHECK(r.status == 2);
  CHECK(contains(r.err, dir / "bad.json" + ": layer 1 (dense 'dense1'): takes [F], got [8,8,1]; add a flatten"));
  r = run_bnlab("compare --model cnn --variants plain,batchnorm --dataset synthetic", dir);
  CHECK(r.status == 2);
  CHECK(contains(r.err, "--model cnn: names the variants itself; give --model or --variants, not both"));
  r = run_bnlab("compare --model rnn --dataset synthetic", dir);
  CHECK(r.status == 2);
  CHECK(contains(r.err, "--model rnn: unknown model family; did you mean cnn? (known: mlp, cnn)"));
}

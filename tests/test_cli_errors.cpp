// The bad-input table of the reliability issue, end to end: for each wrong file, flag or
// hyperparameter, `bnlab` exits with 2 (bad usage or input) and one line on stderr naming what was
// wrong and where, and leaves no output file behind (no --json, --csv or checkpoint, complete or
// partial, and no *.tmp). Cases already covered by test_cli.cpp (unknown flag on train, batch size 0
// and negative, batch larger than the data, --lr -1 and nan, --epochs 0, unknown dataset, model and
// activation) are not repeated here.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cli_test_support.hpp"

using namespace bnlab::test;

namespace {

// A folder with a tiny MNIST-shaped dataset (4x4 images), a synthetic-data checkpoint (20 inputs,
// 4 classes) and a place for outputs, shared by the cases below.
struct Fixture {
  TempDir dir;
  std::string data, ck, out_json, out_csv, out_ck;
  Fixture() {
    data = dir / "mnist";
    fs::create_directories(data);
    write_mnist_like(data, {.train = 60, .test = 20, .side = 4});
    ck = dir / "synthetic.safetensors";
    const Run r = run_bnlab("train --dataset synthetic --model plain --hidden 8 --epochs 1 --quiet --checkpoint " + ck, dir);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    out_json = dir / "out.json";
    out_csv = dir / "out.csv";
    out_ck = dir / "out.safetensors";
  }
  // The flags that ask for every output a command can write.
  std::string train_outputs() const { return " --json " + out_json + " --csv " + out_csv + " --checkpoint " + out_ck; }
  // Nothing written: no outputs and no temporary files anywhere in the folder.
  void check_nothing_written() const { check_not_written({out_json, out_csv, out_ck}, dir.path()); }
  // A copy of the mnist folder with one file replaced.
  std::string variant(const std::string& name, const std::string& file, const Bytes& bytes, bool gzip) const {
    return dataset_variant(data, dir / name, file, bytes, gzip);
  }
};

Bytes pixels(size_t n) { return Bytes(n, 100); }

}  // namespace

TEST_CASE("missing files and folders") {
  Fixture fx;
  const std::string train = "train --dataset mnist --epochs 1 --quiet" + fx.train_outputs();
  check_error(run_bnlab(train + " --data-dir /nope/mnist", fx.dir), 2, {"/nope/mnist", "not found"});
  fx.check_nothing_written();

  const std::string partial = fx.dir / "partial";
  fs::create_directories(partial);
  fs::copy_file(fx.data + "/train-images-idx3-ubyte.gz", partial + "/train-images-idx3-ubyte.gz");
  check_error(run_bnlab(train + " --data-dir " + partial, fx.dir), 2, {"train-labels-idx1-ubyte", "exists"});
  fx.check_nothing_written();

  check_error(run_bnlab("eval --checkpoint /nope/run.safetensors --json " + fx.out_json, fx.dir), 2, {"/nope/run.safetensors"});
  check_error(run_bnlab("train --resume /nope/run.safetensors --json " + fx.out_json, fx.dir), 2, {"/nope/run.safetensors"});
  check_error(run_bnlab("predict --checkpoint " + fx.ck + " --input /nope/rows.csv --json " + fx.out_json, fx.dir), 2,
              {"/nope/rows.csv"});
  check_error(run_bnlab("eval --checkpoint " + fx.ck + " --data-dir /nope", fx.dir), 2, {"--data-dir /nope", "synthetic"});
  fx.check_nothing_written();
}

TEST_CASE("malformed IDX files: wrong magic, truncated images and labels, counts, labels out of range, no rows") {
  Fixture fx;
  const std::string train = "train --dataset mnist --epochs 1 --batch-size 4 --quiet" + fx.train_outputs() + " --data-dir ";

  Bytes bad_magic = idx_bytes({60, 4, 4}, pixels(60 * 16));
  bad_magic[2] = 0x09;
  check_error(run_bnlab(train + fx.variant("magic", "train-images-idx3-ubyte", bad_magic, true), fx.dir), 2,
              {"train-images-idx3-ubyte", "magic number 0x00000903", "byte offset 0"});
  fx.check_nothing_written();

  Bytes not_idx = {'P', 'K', 3, 4, 0, 0, 0, 0};
  check_error(run_bnlab(train + fx.variant("zip", "train-labels-idx1-ubyte", not_idx, false), fx.dir), 2,
              {"train-labels-idx1-ubyte", "not an IDX file", "magic number"});

  // 60 images announced, 50 present: 8 + 4*4 header bytes + 50*16 = 816.
  check_error(run_bnlab(train + fx.variant("short_images", "train-images-idx3-ubyte", idx_bytes({60, 4, 4}, pixels(50 * 16)), true), fx.dir),
              2, {"train-images-idx3-ubyte", "truncated", "byte offset 816", "expected 976"});
  Bytes labels = idx_bytes({60}, Bytes(60, 1));
  labels.resize(labels.size() - 7);
  check_error(run_bnlab(train + fx.variant("short_labels", "train-labels-idx1-ubyte", labels, false), fx.dir), 2,
              {"train-labels-idx1-ubyte", "truncated", "byte offset 61"});
  check_error(run_bnlab(train + fx.variant("short_header", "t10k-labels-idx1-ubyte", Bytes{0, 0, 8, 1, 0, 0}, false), fx.dir), 2,
              {"t10k-labels-idx1-ubyte", "truncated IDX header", "byte offset 6"});
  fx.check_nothing_written();

  check_error(run_bnlab(train + fx.variant("counts", "train-labels-idx1-ubyte", idx_bytes({59}, Bytes(59, 1)), false), fx.dir), 2,
              {"60 images", "59 labels"});
  Bytes out_of_range(60, 3);
  out_of_range[17] = 10;
  check_error(run_bnlab(train + fx.variant("label", "train-labels-idx1-ubyte", idx_bytes({60}, out_of_range), false), fx.dir), 2,
              {"train-labels-idx1-ubyte", "label 10", "byte offset 25", "class count 10"});
  fx.check_nothing_written();

  // An empty dataset, and an empty training split left by the options.
  const std::string empty = fx.variant("empty", "t10k-images-idx3-ubyte", idx_bytes({0, 4, 4}, {}), true);
  write_bytes(empty + "/t10k-labels-idx1-ubyte", idx_bytes({0}, {}));
  check_error(run_bnlab(train + empty, fx.dir), 2, {"mnist", "test set has no rows"});
  check_error(run_bnlab("train --dataset synthetic --limit-train 1 --val-fraction 0.9 --quiet" + fx.train_outputs(), fx.dir), 2,
              {"no rows to train on"});
  fx.check_nothing_written();
}

TEST_CASE("CSV data: wrong field count, a non-number, an empty file") {
  Fixture fx;
  const std::string dir = fx.dir / "csv";
  fs::create_directories(dir);
  const std::string good = "label,a,b,c\n0,0.1,0.2,0.3\n1,0.4,0.5,0.6\n0,0.7,0.8,0.9\n1,1.0,1.1,1.2\n";
  write_text(dir + "/test.csv", good);
  const std::string train = "train --dataset csv --data-dir " + dir + " --model plain --batch-size 2 --epochs 1 --quiet" + fx.train_outputs();

  write_text(dir + "/train.csv", "0,0.1,0.2,0.3\n1,0.4,0.5\n");
  check_error(run_bnlab(train, fx.dir), 2, {"train.csv", "line 2", "3 fields, expected 4"});
  write_text(dir + "/train.csv", "0,0.1,0.2,0.3\n1,0.4,abc,0.6\n");
  check_error(run_bnlab(train, fx.dir), 2, {"train.csv", "line 2, column 3", "'abc'", "not a finite number"});
  write_text(dir + "/train.csv", "0,0.1,0.2,0.3\n1,0.4,nan,0.6\n");
  check_error(run_bnlab(train, fx.dir), 2, {"train.csv", "line 2, column 3", "'nan'"});
  write_text(dir + "/train.csv", "label,a,b,c\n");
  check_error(run_bnlab(train, fx.dir), 2, {"csv", "training set has no rows"});
  fx.check_nothing_written();

  // The same for predict's CSV input (the checkpoint takes 20 inputs).
  std::string row, row19;
  for (int i = 0; i < 20; ++i) row += (i ? "," : "") + std::to_string(i * 0.1);
  for (int i = 0; i < 19; ++i) row19 += std::to_string(i * 0.1) + ",";
  const std::string rows = fx.dir / "rows.csv";
  const std::string predict = "predict --checkpoint " + fx.ck + " --input " + rows + " --json " + fx.out_json;
  write_text(rows, "1,2,3\n");
  check_error(run_bnlab(predict, fx.dir), 2, {"rows.csv", "line 1", "3 fields per row", "takes 20 inputs"});
  write_text(rows, row + "\n" + row + ",7\n");
  check_error(run_bnlab(predict, fx.dir), 2, {"rows.csv", "line 2", "21 fields, expected 20 as on line 1"});
  write_text(rows, row + "\n" + row19 + "x.y\n");
  check_error(run_bnlab(predict, fx.dir), 2, {"rows.csv", "line 2, column 20", "'x.y'", "not a finite number"});
  write_text(rows, "7," + row + "\n");
  check_error(run_bnlab(predict, fx.dir), 2, {"rows.csv", "line 1, column 1", "label '7'", "0 to 3"});
  write_text(rows, "\n\n");
  check_error(run_bnlab(predict, fx.dir), 2, {"rows.csv", "no rows"});
  fx.check_nothing_written();
}

TEST_CASE("input dimensions that do not fit the model") {
  Fixture fx;
  // The checkpoint takes 20 inputs; the mnist folder holds 4x4 = 16-pixel images.
  check_error(run_bnlab("predict --checkpoint " + fx.ck + " --input " + fx.data + "/t10k-images-idx3-ubyte.gz --json " + fx.out_json, fx.dir),
              2, {"t10k-images-idx3-ubyte.gz", "16 features per row", "IDX 4x4 images", "takes 20 inputs"});
  check_error(run_bnlab("predict --checkpoint " + fx.ck + " --input " + fx.data + "/t10k-labels-idx1-ubyte", fx.dir), 2,
              {"t10k-labels-idx1-ubyte", "1 features per row", "takes 20 inputs"});
  check_error(run_bnlab("eval --checkpoint " + fx.ck + " --dataset mnist --data-dir " + fx.data + " --json " + fx.out_json, fx.dir), 2,
              {"--checkpoint " + fx.ck, "takes 20 inputs", "mnist/test", "16 features"});
  fx.check_nothing_written();
}

TEST_CASE("bad flags: unknown, batch size 1 with batch norm, learning rate, epochs, eval and predict options") {
  Fixture fx;
  const std::string synthetic = "train --dataset synthetic --quiet" + fx.train_outputs();
  check_error(run_bnlab(synthetic + " --batch-size 1", fx.dir), 2, {"--batch-size 1", "batch norm"});
  // 3200 training rows in batches of 3199 leave a last batch of one sample.
  check_error(run_bnlab(synthetic + " --batch-size 3199", fx.dir), 2, {"--batch-size 3199", "1 sample", "--drop-last"});
  check_error(run_bnlab("compare --dataset synthetic --quiet --batch-size 1 --json " + fx.out_json, fx.dir), 2, {"--batch-size 1"});
  check_error(run_bnlab(synthetic + " --lr 0", fx.dir), 2, {"--lr", "0"});
  check_error(run_bnlab(synthetic + " --lr inf", fx.dir), 2, {"--lr"});
  check_error(run_bnlab(synthetic + " --lr abc", fx.dir), 2, {"--lr", "abc"});
  check_error(run_bnlab(synthetic + " --epochs -2", fx.dir), 2, {"--epochs", "-2"});
  check_error(run_bnlab(synthetic + " --threads 0", fx.dir), 2, {"--threads", "0"});
  check_error(run_bnlab(synthetic + " --save-best --val-fraction 0", fx.dir), 2, {"--save-best", "--val-fraction"});
  check_error(run_bnlab("train --dataset synthetic --save-best", fx.dir), 2, {"--save-best", "--checkpoint"});
  check_error(run_bnlab("train --dataset synthetic --checkpoint /nope/dir/run.safetensors", fx.dir), 2,
              {"--checkpoint /nope/dir/run.safetensors", "does not exist"});
  // The model's limits (MlpSpec::validate), the same ones a checkpoint's spec is held to.
  std::string deep = "4";
  for (int i = 1; i < 300; ++i) deep += ",4";
  check_error(run_bnlab(synthetic + " --hidden " + deep, fx.dir), 2, {"300 hidden layers", "at most 256"});
  check_error(run_bnlab(synthetic + " --hidden 20000000", fx.dir), 2, {"hidden layer 1", "20000000"});
  fx.check_nothing_written();

  // A list flag with a missing or malformed item is refused whole (CLI11 alone dropped the empty item).
  auto stderr_of = [&](const std::string& args) {
    const Run r = run_bnlab(args, fx.dir);
    CHECK(r.status == 2);
    return r.err;
  };
  CHECK(stderr_of(synthetic + " --hidden 128,,64") == "bnlab: error: --hidden 128,,64: item 2 is empty\n");
  CHECK(stderr_of(synthetic + " --hidden 128,") == "bnlab: error: --hidden 128,: item 2 is empty\n");
  CHECK(stderr_of(synthetic + " --hidden 12x") == "bnlab: error: --hidden 12x: item 1 '12x' is not an integer\n");
  CHECK(stderr_of("sweep --dataset synthetic --quiet --batch-sizes 16,,32") == "bnlab: error: --batch-sizes 16,,32: item 2 is empty\n");
  CHECK(stderr_of("sweep --dataset synthetic --quiet --seeds 0,-1") ==
        "bnlab: error: --seeds 0,-1: item 2 '-1' is not a non-negative integer (no minus sign)\n");
  CHECK(stderr_of("compare --dataset synthetic --quiet --variants plain,,batchnorm") ==
        "bnlab: error: --variants plain,,batchnorm: item 2 is empty\n");
  CHECK(stderr_of("study --quiet --items 1,,2") == "bnlab: error: --items 1,,2: item 2 is empty\n");
  fx.check_nothing_written();

  check_error(run_bnlab("eval --checkpoint " + fx.ck + " --bogus", fx.dir), 2, {"--bogus"});
  check_error(run_bnlab("eval", fx.dir), 2, {"--checkpoint"});
  check_error(run_bnlab("eval --checkpoint " + fx.ck + " --split training", fx.dir), 2, {"--split training: unknown split; did you mean train? (known: test, val, train)"});
  check_error(run_bnlab("predict --checkpoint " + fx.ck, fx.dir), 2, {"--input"});
  check_error(run_bnlab("predict --checkpoint " + fx.ck + " --input x.csv --limit -1", fx.dir), 2, {"--limit -1"});
  check_error(run_bnlab("predict --checkpoint " + fx.ck + " --input x.csv --json /nope/p.json", fx.dir), 2, {"--json /nope/p.json"});
  fx.check_nothing_written();
}

TEST_CASE("an empty split to evaluate") {
  Fixture fx;
  const std::string ck = fx.dir / "noval.safetensors";
  REQUIRE(run_bnlab("train --dataset synthetic --model plain --hidden 8 --epochs 1 --val-fraction 0 --quiet --checkpoint " + ck, fx.dir).status == 0);
  check_error(run_bnlab("eval --checkpoint " + ck + " --split val --json " + fx.out_json, fx.dir), 2,
              {"val split", "empty", "--val-fraction 0"});
  fx.check_nothing_written();
}

TEST_CASE("bad checkpoints: wrong header, truncated data, a dtype or shape that does not match") {
  Fixture fx;
  const std::string original = read_text(fx.ck);
  const std::string bad = fx.dir / "bad.safetensors";
  // Every command that reads a checkpoint refuses it the same way, before writing anything.
  const auto check_all = [&](std::initializer_list<std::string> parts) {
    const std::string rows = fx.dir / "rows.csv";
    write_text(rows, "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0\n");
    for (const std::string& command : {"eval --checkpoint " + bad + " --json " + fx.out_json,
                                       "predict --checkpoint " + bad + " --input " + rows + " --json " + fx.out_json,
                                       "train --resume " + bad + " --json " + fx.out_json + " --checkpoint " + fx.out_ck}) {
      CAPTURE(command);
      const Run r = run_bnlab(command, fx.dir);
      check_error(r, 2, parts);
      CHECK(contains(r.err, bad));
    }
    fx.check_nothing_written();
  };
  auto with_bytes = [&](std::string bytes) { write_text(bad, bytes); };

  SUBCASE("not a safetensors file: named for what it looks like") {
    with_bytes("hello, this is not a checkpoint at all");
    check_all({bad + " is not a bnlab checkpoint (it looks like a CSV file); a checkpoint is the .safetensors file a training run saves"});
    with_bytes("just some words\n");
    check_all({bad + " is not a bnlab checkpoint (it looks like a text file)"});
  }
  SUBCASE("no known kind: the safetensors reader says which byte") {
    with_bytes(std::string("\x01\x02\x03\xff\xff\xff\xff\xff") + "{}");
    check_all({"bad header length", "byte 0"});
  }
  SUBCASE("header that is not JSON") {
    std::string b = original;
    b[8] = '[';
    b[9] = '!';
    with_bytes(b);
    check_all({"not valid JSON", "byte"});
  }
  SUBCASE("truncated data") {
    with_bytes(original.substr(0, original.size() - 100));
    check_all({"truncated", "byte"});
  }
  SUBCASE("truncated header") {
    with_bytes(original.substr(0, 200));
    check_all({"truncated", "byte 8"});
  }
  SUBCASE("a dtype other than F32") {
    std::string b = original;
    const size_t at = b.find("\"F32\"");
    REQUIRE(at != std::string::npos);
    b.replace(at, 5, "\"F16\"");
    with_bytes(b);
    check_all({"dtype F16", "F32"});
  }
  SUBCASE("a tensor shape that does not match the model") {
    // The spec says the first dense layer has 8 units; make it 9 (same length, so the header stays well formed).
    std::string b = original;
    const size_t at = b.find("\\\"units\\\":8,");
    REQUIRE(at != std::string::npos);
    b.replace(at, 12, "\\\"units\\\":9,");
    with_bytes(b);
    check_all({"tensor 'fc1.weight' has shape [20,8]", "needs [20,9]"});
  }
}

TEST_CASE("errors that suggest the fix: did you mean, the expected type and range, flags without values") {
  Fixture fx;
  const std::string synthetic = "train --dataset synthetic --quiet" + fx.train_outputs();
  const auto exactly = [&](const std::string& args, const std::string& message) {
    const Run r = run_bnlab(args, fx.dir);
    check_error(r, 2, {});
    CHECK(r.err == "bnlab: error: " + message + "\n");
  };
  exactly(synthetic + " --epoch 1", "unknown flag --epoch; did you mean --epochs?");
  exactly(synthetic + " --epoch=1", "unknown flag --epoch; did you mean --epochs?");
  exactly(synthetic + " --bogus", "unknown flag --bogus (bnlab train --help lists its flags)");
  exactly("eval --checkpoint " + fx.ck + " --splt val", "unknown flag --splt; did you mean --split?");
  exactly("gradcheck --batch 4", "unknown flag --batch; did you mean --batch-size?");
  exactly("--bogus", "unknown flag --bogus (bnlab --help lists its flags)");
  exactly("train stray", "unexpected argument 'stray' (bnlab train --help lists what it takes)");
  exactly("trian", "unknown command 'trian'; did you mean train? (known: train, compare, gradcheck, eval, predict, sweep, study, report)");
  exactly("fly", "unknown command 'fly' (known: train, compare, gradcheck, eval, predict, sweep, study, report)");
  exactly(synthetic + " --model batchnrom",
          "--model batchnrom: unknown model; did you mean batchnorm? (known: plain, batchnorm, layernorm, cnn-plain, cnn-batchnorm, or a model file NAME.json)");
  exactly("compare --dataset synthetic --quiet --variants plain,batchnrom",
          "--variants batchnrom: unknown model; did you mean batchnorm? (known: plain, batchnorm, layernorm, cnn-plain, cnn-batchnorm, or a model file NAME.json)");
  exactly("train --dataset fashion_mnist --quiet",
          "--dataset fashion_mnist: unknown dataset; did you mean fashion-mnist? (known: fashion-mnist, mnist, kmnist, cifar10, csv, synthetic)");
  exactly("train --dataset imagenet --quiet", "--dataset imagenet: unknown dataset (known: fashion-mnist, mnist, kmnist, cifar10, csv, synthetic)");
  exactly("study --dataset mnsit --quiet",
          "--dataset mnsit: unknown dataset; did you mean mnist? (known: fashion-mnist, mnist, kmnist, cifar10, csv, synthetic)");
  exactly(synthetic + " --optimizer adma", "--optimizer: unknown optimizer 'adma'; did you mean adam? (known: sgd, momentum, adam, adamw)");
  exactly(synthetic + " --optimizer rmsprop", "--optimizer: unknown optimizer 'rmsprop' (known: sgd, momentum, adam, adamw)");
  exactly(synthetic + " --model plain --norm btach", "--norm: unknown norm 'btach'; did you mean batch? (known: none, batch, layer)");
  exactly(synthetic + " --activation rleu", "--activation: unknown activation 'rleu'; did you mean relu? (known: relu, tanh, sigmoid)");
  exactly(synthetic + " --on-nonfinite skp", "--on-nonfinite: unknown policy 'skp'; did you mean skip? (known: stop, skip)");
  exactly(synthetic + " --bn-preset kears", "--bn-preset kears: unknown preset; did you mean keras? (known: pytorch, keras)");
  exactly("study --budget quik --quiet", "--budget: unknown budget 'quik'; did you mean quick? (known: quick, full)");

  exactly(synthetic + " --epochs abc", "--epochs abc: expected an integer ≥ 1");
  exactly(synthetic + " --epochs 2.5", "--epochs 2.5: expected an integer ≥ 1");
  exactly(synthetic + " --lr abc", "--lr abc: expected a number > 0");
  exactly(synthetic + " --lr nan", "--lr nan: expected a finite number > 0");
  exactly(synthetic + " --lr 0,1", "--lr 0,1: expected a number > 0 (the decimal point is '.', not ',')");
  exactly(synthetic + " --seed -1", "--seed -1: expected a non-negative integer (no minus sign)");
  exactly(synthetic + " --bn-momentum x", "--bn-momentum x: expected a number in [0, 1]");
  exactly("gradcheck --batch-size x", "--batch-size x: expected an integer ≥ 1");
  exactly("gradcheck --classes 2.5", "--classes 2.5: expected an integer ≥ 2");
  exactly(synthetic + " --epochs", "--epochs: needs a value (bnlab train --help says which)");
  exactly(synthetic + " --epochs 1 --epochs 2", "--epochs: given more than once; give it once");
  fx.check_nothing_written();
}

TEST_CASE("a file of the wrong kind is named for what it is") {
  Fixture fx;
  // A metrics document where a checkpoint belongs, and the checkpoint where a metrics document or a
  // model file belongs.
  const std::string metrics = fx.dir / "run.json";
  REQUIRE(run_bnlab("train --dataset synthetic --model plain --hidden 8 --epochs 1 --quiet --json " + metrics, fx.dir).status == 0);
  const std::string not_ck = " is not a bnlab checkpoint (it looks like a JSON document); a checkpoint is the .safetensors file a training run saves";
  check_error(run_bnlab("train --resume " + metrics + " --json " + fx.out_json, fx.dir), 2, {metrics + not_ck});
  check_error(run_bnlab("eval --checkpoint " + metrics + " --json " + fx.out_json, fx.dir), 2, {metrics + not_ck});
  check_error(run_bnlab("predict --checkpoint " + metrics + " --input x.csv", fx.dir), 2, {metrics + not_ck});
  // … and a metrics document or a checkpoint given to predict as its input (it was read as CSV text).
  const auto not_input = [](const std::string& kind) {
    return " is not an input predict reads (it looks like " + kind + "); give IDX images, a PNG / PGM / PPM image or CSV rows";
  };
  check_error(run_bnlab("predict --checkpoint " + fx.ck + " --input " + metrics, fx.dir), 2, {metrics + not_input("a JSON document")});
  check_error(run_bnlab("predict --checkpoint " + fx.ck + " --input " + fx.ck, fx.dir), 2, {fx.ck + not_input("a safetensors checkpoint")});
  const std::string gz = fx.data + "/train-images-idx3-ubyte.gz";
  check_error(run_bnlab("eval --checkpoint " + gz, fx.dir), 2, {gz + " is not a bnlab checkpoint (it looks like a gzip-compressed IDX file)"});
  check_error(run_bnlab("report " + fx.ck, fx.dir), 2,
              {fx.ck + " is not a file bnlab can report on (it looks like a safetensors checkpoint); give a metrics document (--json "
                       "of train, compare, sweep or study), a run file of a sweep or study (DIR/runs/NAME.json), a --csv file, or a "
                       "sweep or study directory"});
  check_error(run_bnlab("report " + fx.data + "/train-labels-idx1-ubyte", fx.dir), 2, {"train-labels-idx1-ubyte is not a file bnlab can report on (it looks like an IDX file)"});
  check_error(run_bnlab("train --dataset synthetic --model-file " + fx.ck, fx.dir), 2,
              {fx.ck + " is not a model file (it looks like a safetensors checkpoint); a model file is a JSON document of layers (docs/model-files.md)"});

  // Data files: a PNG as the csv dataset's train.csv, a zip archive as an IDX file.
  const std::string csv = fx.dir / "csvdata";
  fs::create_directories(csv);
  write_bytes(csv + "/train.csv", {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'});
  write_text(csv + "/test.csv", "0,1\n1,2\n");
  check_error(run_bnlab("train --dataset csv --quiet --data-dir " + csv + fx.train_outputs(), fx.dir), 2,
              {csv + "/train.csv is not a CSV file (it looks like a PNG image); CSV rows are a label and the features, separated by commas"});
  const Bytes zip = {'P', 'K', 3, 4, 20, 0, 0, 0};
  check_error(run_bnlab("train --dataset mnist --quiet --data-dir " + fx.variant("zip2", "train-labels-idx1-ubyte", zip, false) + fx.train_outputs(),
                        fx.dir),
              2, {"train-labels-idx1-ubyte: not an IDX file (it looks like a zip archive): magic number 0x504B0304 at byte offset 0"});
  fx.check_nothing_written();
}

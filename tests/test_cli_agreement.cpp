// Inputs that must agree, and preprocessing that travels with the model (issue 15, points 4 and 5),
// end to end: the files of one dataset, a checkpoint and the data given to eval / predict, flags
// that contradict each other or the data. Each bad input exits with 2, one line on stderr naming
// both sides (files and shapes, or flags), and leaves no output behind; each good one gives the
// numbers the reference path gives.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "cli_test_support.hpp"

using namespace bnlab::test;

namespace {

// write_mnist_like's dataset with raw (not gzipped) images, so the test can read the bytes back.
void write_raw_mnist_like(const std::string& dir, MnistLike m) {
  write_mnist_like(dir, m);
  uint32_t state = 777;
  for (const auto& [prefix, n] : {std::pair<std::string, uint32_t>{"train", m.train}, {"t10k", m.test}}) {
    fs::remove(dir + "/" + prefix + "-images-idx3-ubyte.gz");
    const Bytes labels = read_raw(dir + "/" + prefix + "-labels-idx1-ubyte");
    Bytes pixels;
    for (uint32_t i = 0; i < n; ++i)
      for (uint32_t p = 0; p < m.side * m.side; ++p) {
        state = state * 1103515245u + 12345u;
        pixels.push_back(static_cast<uint8_t>(std::min<uint32_t>(255, labels[8 + i] * 20u + ((state >> 16) & 0x7fff) % 60)));
      }
    write_bytes(dir + "/" + prefix + "-images-idx3-ubyte", idx_bytes({n, m.side, m.side}, pixels));
  }
}

// The values of a raw IDX file, after its header.
Bytes idx_values(const std::string& path, size_t header) {
  const Bytes b = read_raw(path);
  REQUIRE(b.size() >= header);
  return Bytes(b.begin() + static_cast<std::ptrdiff_t>(header), b.end());
}

struct Fixture {
  TempDir dir;
  std::string data, out_json, out_csv, out_ck;
  Fixture() {
    data = dir / "mnist";
    fs::create_directories(data);
    write_raw_mnist_like(data, {.train = 60, .test = 20, .side = 4});
    out_json = dir / "out.json";
    out_csv = dir / "out.csv";
    out_ck = dir / "out.safetensors";
  }
  std::string outputs() const { return " --json " + out_json + " --csv " + out_csv + " --checkpoint " + out_ck; }
  void check_nothing_written() const { check_not_written({out_json, out_csv, out_ck}, dir.path()); }
  // A copy of the mnist folder with one file replaced (raw or gzipped).
  std::string variant(const std::string& name, const std::string& file, const Bytes& bytes, bool gzip) const {
    return dataset_variant(data, dir / name, file, bytes, gzip);
  }
  // Trains a small MLP on the mnist folder; returns the checkpoint.
  std::string train(const std::string& name, const std::string& extra = "") const {
    const std::string ck = dir / (name + ".safetensors");
    const Run r = run_bnlab("train --dataset mnist --data-dir " + data + " --model plain --hidden 8 --epochs 2 --batch-size 8 --quiet" +
                                extra + " --checkpoint " + ck,
                            dir);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    return ck;
  }
  // The test images as CSV rows: the label, then the 16 pixels as `pixel` writes them; a header first.
  std::string test_csv(const std::string& name, const std::function<std::string(uint8_t)>& pixel) const {
    const Bytes images = idx_values(data + "/t10k-images-idx3-ubyte", 16);
    const Bytes labels = idx_values(data + "/t10k-labels-idx1-ubyte", 8);
    std::string text = "label";
    for (int p = 1; p <= 16; ++p) text += ",pixel" + std::to_string(p);
    text += "\n";
    for (size_t i = 0; i < labels.size(); ++i) {
      text += std::to_string(labels[i]);
      for (size_t p = 0; p < 16; ++p) text += "," + pixel(images[i * 16 + p]);
      text += "\n";
    }
    const std::string path = dir / name;
    write_text(path, text);
    return path;
  }
};

std::string float_text(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v));
  return buf;
}

Bytes images_of(uint32_t n, uint32_t h, uint32_t w) { return idx_bytes({n, h, w}, Bytes(size_t{n} * h * w, 80)); }

}  // namespace

TEST_CASE("the files of one dataset must agree: sample shapes, label and image counts, CSV fields, CIFAR-10 batches") {
  Fixture fx;
  const std::string train = "train --dataset mnist --epochs 1 --batch-size 4 --quiet" + fx.outputs() + " --data-dir ";

  // Test images of 5x5 beside training images of 4x4: both files and both shapes.
  const std::string shapes = fx.variant("shapes", "t10k-images-idx3-ubyte", images_of(20, 5, 5), true);  // gzipped
  check_error(run_bnlab(train + shapes, fx.dir), 2,
              {shapes + "/t10k-images-idx3-ubyte.gz: samples are [5,5,1]", "but " + shapes + "/train-images-idx3-ubyte has [4,4,1]"});
  fx.check_nothing_written();

  // 20 test images, 19 labels.
  const std::string counts = fx.variant("counts", "t10k-labels-idx1-ubyte", idx_bytes({19}, Bytes(19, 2)), false);
  check_error(run_bnlab(train + counts, fx.dir), 2,
              {counts + "/t10k-images-idx3-ubyte has 20 images", counts + "/t10k-labels-idx1-ubyte has 19 labels"});
  fx.check_nothing_written();

  // CSV: the test file has one feature fewer than the training file.
  const std::string csv = fx.dir / "csv";
  fs::create_directories(csv);
  write_text(csv + "/train.csv", "0,0.1,0.2,0.3\n1,0.4,0.5,0.6\n0,0.7,0.8,0.9\n1,1.0,1.1,1.2\n");
  write_text(csv + "/test.csv", "0,0.1,0.2\n1,0.4,0.5\n");
  check_error(run_bnlab("train --dataset csv --model plain --batch-size 2 --epochs 1 --quiet" + fx.outputs() + " --data-dir " + csv, fx.dir), 2,
              {csv + "/test.csv: 3 fields per row (label and 2 features)", "but " + csv + "/train.csv has 4 (label and 3)"});
  fx.check_nothing_written();

  // CIFAR-10: every batch 3073-byte records. A CIFAR-100 batch (3074-byte records) or an empty one among them is named.
  const std::string cifar = fx.dir / "cifar";
  fs::create_directories(cifar);
  const Bytes record = [] {
    Bytes r(3073, 50);
    r[0] = 3;
    return r;
  }();
  Bytes two_records = record;
  two_records.insert(two_records.end(), record.begin(), record.end());
  for (int i = 1; i <= 5; ++i) write_bytes(cifar + "/data_batch_" + std::to_string(i) + ".bin", two_records);
  write_bytes(cifar + "/test_batch.bin", two_records);
  const std::string cifar_train = "train --dataset cifar10 --model plain --batch-size 2 --epochs 1 --quiet" + fx.outputs() + " --data-dir " + cifar;
  write_bytes(cifar + "/data_batch_3.bin", Bytes(2 * 3074, 1));
  check_error(run_bnlab(cifar_train, fx.dir), 2, {cifar + "/data_batch_3.bin", "file size 6148", "3074", "CIFAR-100", "3073"});
  write_bytes(cifar + "/data_batch_3.bin", two_records);
  write_bytes(cifar + "/data_batch_2.bin", {});
  check_error(run_bnlab(cifar_train, fx.dir), 2, {cifar + "/data_batch_2.bin", "empty file", "3073-byte records"});
  fx.check_nothing_written();
}

TEST_CASE("a checkpoint's model must fit the data given to eval and predict") {
  Fixture fx;
  const std::string ck = fx.train("mnist4");  // an MLP of 16 inputs, trained on 4x4 images / 255

  // eval on a dataset of 5x5 images: both files, both sizes.
  const std::string five = fx.dir / "five";
  fs::create_directories(five);
  write_mnist_like(five, {.train = 60, .test = 20, .side = 5});
  check_error(run_bnlab("eval --checkpoint " + ck + " --data-dir " + five + " --json " + fx.out_json, fx.dir), 2,
              {"--checkpoint " + ck, "takes 16 inputs", "'mnist/test' has 25 features", five + "/t10k-images-idx3-ubyte"});

  // predict on images of 16 pixels in another shape: the pixels would be scrambled.
  const std::string wide = fx.dir / "wide-images-idx3-ubyte";
  write_bytes(wide, images_of(3, 2, 8));
  check_error(run_bnlab("predict --checkpoint " + ck + " --input " + wide + " --json " + fx.out_json, fx.dir), 2,
              {wide + ": images are [2,8,1]", "the model in " + ck + " was trained on images of [4,4,1]"});

  // eval on data read with another scaling than training's: CSV values as they are.
  const std::string csv = fx.dir / "csv16";
  fs::create_directories(csv);
  std::string rows;
  for (int i = 0; i < 30; ++i) {
    rows += std::to_string(i % 10);
    for (int p = 0; p < 16; ++p) rows += "," + std::to_string((i * 7 + p) % 5);
    rows += "\n";
  }
  write_text(csv + "/train.csv", rows);
  write_text(csv + "/test.csv", rows);
  check_error(run_bnlab("eval --checkpoint " + ck + " --dataset csv --data-dir " + csv + " --json " + fx.out_json, fx.dir), 2,
              {"'csv/test' (" + csv + "/test.csv)", "read as values as they are", "the model in " + ck,
               "trained on values divided by 255 (mnist)", "--pixels"});
  fx.check_nothing_written();
}

TEST_CASE("the checkpoint records how inputs were prepared: divisor, sample shape, the standardization actually used") {
  Fixture fx;
  const std::string ck = fx.train("std", " --standardize --val-fraction 0");
  const json meta = checkpoint_parts(ck).header["__metadata__"];
  REQUIRE(meta.contains("preprocessing"));
  const json p = json::parse(meta["preprocessing"].get<std::string>());
  CHECK(p["divisor"] == 255);
  CHECK(p["sample_shape"] == json::array({4, 4, 1}));
  // With --val-fraction 0 the training split is every training image: its per-pixel mean and
  // (population) std, computed here from the bytes written.
  const Bytes px = idx_values(fx.data + "/train-images-idx3-ubyte", 16);
  REQUIRE(px.size() == 60 * 16);
  const auto& mean = p["standardization"]["mean"];
  const auto& scale = p["standardization"]["scale"];
  REQUIRE(mean.size() == 16);
  REQUIRE(scale.size() == 16);
  for (size_t f = 0; f < 16; ++f) {
    double sum = 0, sq = 0;
    for (size_t i = 0; i < 60; ++i) sum += static_cast<float>(px[i * 16 + f]) / 255.0f;
    const double m = sum / 60;
    for (size_t i = 0; i < 60; ++i) sq += std::pow(static_cast<float>(px[i * 16 + f]) / 255.0f - m, 2);
    CAPTURE(f);
    CHECK(mean[f].get<double>() == doctest::Approx(m).epsilon(1e-6));
    CHECK(scale[f].get<double>() == doctest::Approx(std::sqrt(sq / 60)).epsilon(1e-6));
  }

  // A model without --standardize records none; synthetic data are taken as they are.
  const json plain = json::parse(checkpoint_parts(fx.train("nostd")).header["__metadata__"]["preprocessing"].get<std::string>());
  CHECK(plain["standardization"].is_null());
  const std::string syn = fx.dir / "syn.safetensors";
  REQUIRE(run_bnlab("train --dataset synthetic --model plain --hidden 4 --epochs 1 --quiet --checkpoint " + syn, fx.dir).status == 0);
  const json s = json::parse(checkpoint_parts(syn).header["__metadata__"]["preprocessing"].get<std::string>());
  CHECK(s["divisor"] == 1);
  CHECK(s["sample_shape"] == json::array({20}));
}

TEST_CASE("predict prepares CSV rows exactly as the IDX path: 0-255 pixels with --pixels 255, [0,1] values as they are") {
  // Every byte divided in double then rounded to float (the CSV path) is the float division of the IDX path.
  for (int v = 0; v < 256; ++v) CHECK(static_cast<float>(v / 255.0) == static_cast<float>(v) / 255.0f);

  Fixture fx;
  for (const std::string extra : {"", " --standardize"}) {
    CAPTURE(extra);
    const std::string ck = fx.train(extra.empty() ? "plain" : "standardized", extra);
    const std::string idx_json = fx.dir / "idx.json", csv_json = fx.dir / "csv.json", unit_json = fx.dir / "unit.json";
    for (const std::string& p : {idx_json, csv_json, unit_json}) fs::remove(p);
    const Run idx = run_bnlab("predict --checkpoint " + ck + " --input " + fx.data + "/t10k-images-idx3-ubyte --json " + idx_json, fx.dir);
    REQUIRE_MESSAGE(idx.status == 0, idx.err);
    CHECK(contains(idx.err, "values divided by 255 (--pixels 255)"));
    CHECK(contains(idx.err, "standardized with the statistics stored in the checkpoint") == !extra.empty());

    // The Kaggle-style file: a header, the label, then 0-255 pixels. Taken as they are they would be
    // far outside what the model saw (every probability 1.0000): refused, saying what to pass.
    const std::string kaggle = fx.test_csv("kaggle.csv", [](uint8_t b) { return std::to_string(b); });
    // Where the message must point: the first pixel above 1 (line 1 is the header, column 1 the label).
    const auto first_above_one = [&](const std::string& path) {
      const Bytes px = idx_values(fx.data + "/t10k-images-idx3-ubyte", 16);
      size_t k = 0;
      while (px[k] <= 1) ++k;
      return path + ": line " + std::to_string(2 + k / 16) + ", column " + std::to_string(2 + k % 16) + ": value " +
             std::to_string(px[k]) + " is above 1";
    };
    check_error(run_bnlab("predict --checkpoint " + ck + " --input " + kaggle + " --json " + csv_json, fx.dir), 2,
                {first_above_one(kaggle), "is above 1", "the model in " + ck, "pixels divided by 255", "--pixels 255", "--pixels 1"});
    CHECK(!fs::exists(csv_json));
    const Run csv = run_bnlab("predict --checkpoint " + ck + " --input " + kaggle + " --pixels 255 --json " + csv_json, fx.dir);
    REQUIRE_MESSAGE(csv.status == 0, csv.err);
    CHECK(contains(csv.err, "values divided by 255 (--pixels 255)"));
    // The same classes and probabilities, to the last bit, as the IDX file of the same images.
    const json a = read_json(idx_json), b = read_json(csv_json);
    REQUIRE(b["rows"].size() == 20);
    for (size_t i = 0; i < 20; ++i) {
      CAPTURE(i);
      CHECK(b["rows"][i]["class"] == a["rows"][i]["class"]);
      CHECK(b["rows"][i]["probabilities"] == a["rows"][i]["probabilities"]);
    }
    // And the labels came along: the accuracy is that of the predicted classes, counted here.
    const Bytes labels = idx_values(fx.data + "/t10k-labels-idx1-ubyte", 8);
    int correct = 0;
    for (size_t i = 0; i < 20; ++i) correct += a["rows"][i]["class"].get<int>() == labels[i];
    CHECK(b["accuracy"].get<double>() == doctest::Approx(correct / 20.0));

    // Values already in [0, 1] (each written with 9 digits, enough for a float) need no flag.
    const std::string unit = fx.test_csv("unit.csv", [](uint8_t v) { return float_text(static_cast<float>(v) / 255.0f); });
    const Run u = run_bnlab("predict --checkpoint " + ck + " --input " + unit + " --json " + unit_json, fx.dir);
    REQUIRE_MESSAGE(u.status == 0, u.err);
    CHECK(contains(u.err, "values as they are (--pixels 1)"));
    const json c = read_json(unit_json);
    for (size_t i = 0; i < 20; ++i) CHECK(c["rows"][i]["probabilities"] == a["rows"][i]["probabilities"]);
  }
}

TEST_CASE("predict needs no training data: the statistics travel in the checkpoint") {
  Fixture fx;
  const std::string moved = fx.dir / "moved";
  fs::create_directories(moved);
  for (const auto& e : fs::directory_iterator(fx.data)) fs::copy_file(e.path(), moved + "/" + e.path().filename().string());
  const std::string ck = fx.dir / "m.safetensors";
  REQUIRE(run_bnlab("train --dataset mnist --data-dir " + moved + " --model plain --hidden 8 --epochs 1 --batch-size 8 --standardize --quiet --checkpoint " + ck, fx.dir).status == 0);
  const std::string before = fx.dir / "before.json", after = fx.dir / "after.json";
  REQUIRE(run_bnlab("predict --checkpoint " + ck + " --input " + fx.data + "/t10k-images-idx3-ubyte --json " + before, fx.dir).status == 0);
  fs::remove_all(moved);  // the training files are gone
  const Run r = run_bnlab("predict --checkpoint " + ck + " --input " + fx.data + "/t10k-images-idx3-ubyte --json " + after, fx.dir);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(read_json(after)["rows"] == read_json(before)["rows"]);

  // eval of the same model on the same images gives the accuracy predict's classes give.
  const Run e = run_bnlab("eval --checkpoint " + ck + " --data-dir " + fx.data + " --json " + fx.out_json, fx.dir);
  REQUIRE_MESSAGE(e.status == 0, e.err);
  const Bytes labels = idx_values(fx.data + "/t10k-labels-idx1-ubyte", 8);
  const json rows = read_json(after)["rows"];
  int correct = 0;
  for (size_t i = 0; i < 20; ++i) correct += rows[i]["class"].get<int>() == labels[i];
  CHECK(read_json(fx.out_json)["runs"][0]["eval"]["acc"].get<double>() == doctest::Approx(correct / 20.0));
  fs::remove(fx.out_json);

  // --data-dir would be ignored now: refused, naming why.
  check_error(run_bnlab("predict --checkpoint " + ck + " --input " + fx.data + "/t10k-images-idx3-ubyte --data-dir " + fx.data, fx.dir), 2,
              {"--data-dir " + fx.data, "reads no training data", ck, "carries its standardization statistics"});
  const std::string plain = fx.train("plain");
  check_error(run_bnlab("predict --checkpoint " + plain + " --input " + fx.data + "/t10k-images-idx3-ubyte --data-dir " + fx.data, fx.dir), 2,
              {"--data-dir " + fx.data, plain, "was not trained with --standardize"});
  check_error(run_bnlab("predict --checkpoint " + plain + " --input " + fx.data + "/t10k-images-idx3-ubyte --pixels 100", fx.dir), 2,
              {"--pixels 100", "must be 255", "or 1"});
  fx.check_nothing_written();
}

TEST_CASE("predict refuses to guess the scale of IDX bytes for a model trained on unscaled values") {
  Fixture fx;
  const std::string ck = fx.dir / "syn16.safetensors";
  REQUIRE(run_bnlab("train --dataset synthetic --model plain --hidden 4 --epochs 1 --quiet --checkpoint " + ck, fx.dir).status == 0);
  // The synthetic model takes 20 inputs: IDX rows of 20 bytes.
  const std::string images = fx.dir / "rows-idx3-ubyte";
  write_bytes(images, idx_bytes({2, 4, 5}, Bytes(40, 9)));
  check_error(run_bnlab("predict --checkpoint " + ck + " --input " + images + " --json " + fx.out_json, fx.dir), 2,
              {images + ": IDX images hold 0-255 pixel bytes", "the model in " + ck + " was trained on values as they are (synthetic)",
               "--pixels 255", "--pixels 1"});
  fx.check_nothing_written();
  const Run r = run_bnlab("predict --checkpoint " + ck + " --input " + images + " --pixels 1 --quiet", fx.dir);
  CHECK(r.status == 0);
  CHECK(r.err.empty());
}

TEST_CASE("flags that contradict each other or the data") {
  Fixture fx;
  const std::string mnist = "train --dataset mnist --data-dir " + fx.data + " --epochs 1 --batch-size 4 --quiet" + fx.outputs();

  check_error(run_bnlab("train --dataset synthetic --model plain --norm batch --quiet" + fx.outputs(), fx.dir), 2,
              {"--norm batch contradicts --model plain (a model without normalization, named so in every output)", "--model batchnorm is that model"});
  check_error(run_bnlab("train --dataset synthetic --norm none --quiet" + fx.outputs(), fx.dir), 2,
              {"--norm none contradicts --model batchnorm (a model with batch normalization", "--model plain is that model"});
  check_error(run_bnlab(mnist + " --model cnn-plain --norm layer", fx.dir), 2,
              {"--norm layer contradicts --model cnn-plain", "--model-file"});

  const std::string model_file = fx.dir / "m.json";
  write_text(model_file, R"({"input_shape":[20],"classes":4,"layers":[{"kind":"dense","units":4}]})");
  check_error(run_bnlab("train --dataset synthetic --model cnn-plain --model-file " + model_file + " --quiet" + fx.outputs(), fx.dir), 2,
              {"--model", "--model-file", "excludes"});

  // A limit beyond the rows there are used to mean "all of them".
  check_error(run_bnlab(mnist + " --limit-train 61", fx.dir), 2,
              {"--limit-train 61 is more than the 60 rows of 'mnist/train'", fx.data + "/train-images-idx3-ubyte"});
  check_error(run_bnlab(mnist + " --limit-test 21", fx.dir), 2,
              {"--limit-test 21 is more than the 20 rows of 'mnist/test'", fx.data + "/t10k-images-idx3-ubyte"});
  check_error(run_bnlab("compare --dataset synthetic --quiet --limit-train 5000 --json " + fx.out_json, fx.dir), 2,
              {"--limit-train 5000 is more than the 4000 rows of 'synthetic/train'"});
  check_error(run_bnlab(mnist + " --csv-pixels", fx.dir), 2, {"--csv-pixels is for --dataset csv", "--dataset mnist"});
  fx.check_nothing_written();

  // Exactly all rows is allowed, and trains on all of them.
  const Run all = run_bnlab("train --dataset mnist --data-dir " + fx.data + " --epochs 1 --batch-size 4 --quiet --limit-train 60 --limit-test 20 --json " + fx.out_json, fx.dir);
  REQUIRE_MESSAGE(all.status == 0, all.err);
  CHECK(read_json(fx.out_json)["runs"][0]["config"]["train_size"] == 48);
  CHECK(read_json(fx.out_json)["runs"][0]["config"]["test_size"] == 20);
  fs::remove(fx.out_json);
}

TEST_CASE("output folders: bnlab creates what a flag names, never the folders above it") {
  Fixture fx;
  const std::string missing = fx.dir / "no/such";
  check_error(run_bnlab("compare --dataset synthetic --quiet --checkpoint-dir " + missing + "/cks", fx.dir), 2,
              {"--checkpoint-dir " + missing + "/cks", "directory " + missing + " does not exist"});
  check_error(run_bnlab("train --dataset synthetic --quiet --checkpoint " + missing + "/run.safetensors", fx.dir), 2,
              {"--checkpoint " + missing + "/run.safetensors", "directory " + missing + " does not exist"});
  check_error(run_bnlab("train --dataset synthetic --quiet --json " + missing + "/run.json", fx.dir), 2,
              {"--json " + missing + "/run.json", "directory " + missing + " does not exist"});
  check_error(run_bnlab("study --dataset synthetic --items 1 --epochs 1 --seeds 0 --quiet --out " + missing + "/study", fx.dir), 2,
              {"--out " + missing + "/study", "directory " + missing + " does not exist"});
  check_error(run_bnlab("sweep --dataset synthetic --epochs 1 --batch-sizes 64 --quiet --out " + missing + "/sweep", fx.dir), 2,
              {"--out " + missing + "/sweep", "directory " + missing + " does not exist"});
  const std::string doc = fx.dir / "m.json";
  REQUIRE(run_bnlab("train --dataset synthetic --model plain --hidden 4 --epochs 1 --quiet --json " + doc, fx.dir).status == 0);
  check_error(run_bnlab("report " + doc + " --out " + missing + "/report", fx.dir), 2,
              {"--out " + missing + "/report", "directory " + missing + " does not exist"});
  CHECK(!fs::exists(fx.dir / "no"));
  // A file where the folder should be.
  const std::string afile = fx.dir / "afile";
  write_text(afile, "x");
  check_error(run_bnlab("compare --dataset synthetic --quiet --checkpoint-dir " + afile, fx.dir), 2,
              {"--checkpoint-dir " + afile, "is not a directory"});

  // The folder itself is created when the one above it exists.
  const std::string cks = fx.dir / "cks";
  const Run r = run_bnlab("compare --dataset synthetic --hidden 4 --epochs 1 --quiet --checkpoint-dir " + cks, fx.dir);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(fs::exists(cks + "/plain.safetensors"));
  CHECK(fs::exists(cks + "/batchnorm.safetensors"));
}

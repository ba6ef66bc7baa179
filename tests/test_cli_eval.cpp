// Evaluation that explains itself, end to end: eval's confusion matrix and per-class accuracy with
// the dataset's class names (on the terminal and in its JSON, the diagonal giving exactly the
// accuracy), eval --split train|val|test, and predict's class names and image files (PNG, PGM)
// giving exactly what the same pixels from the dataset give.
#include <doctest/doctest.h>

#include <png.h>

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "cli_test_support.hpp"
#include "data/idx.hpp"

using namespace bnlab::test;

namespace {

std::string fmt_fixed4(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

// The numbers after the name column of the table's line for class `t`: the counts, the rows, and
// the accuracy as text.
std::vector<std::string> table_fields(const std::string& out, const std::string& label) {
  for (const std::string& line : lines_of(out))
    if (line.rfind(label, 0) == 0) {
      std::istringstream in(line.substr(label.size()));
      std::vector<std::string> fields;
      for (std::string f; in >> f;) fields.push_back(f);
      return fields;
    }
  return {};
}

void write_png(const std::string& path, uint32_t width, uint32_t height, uint32_t format, const void* pixels) {
  png_image im{};
  im.version = PNG_IMAGE_VERSION;
  im.width = width;
  im.height = height;
  im.format = format;
  REQUIRE_MESSAGE(png_image_write_to_file(&im, path.c_str(), 0, pixels, 0, nullptr), im.message);
}

std::string pgm_p5(uint32_t width, uint32_t height, const Bytes& pixels, const std::string& maxval = "255") {
  std::string s = "P5\n# written by test_cli_eval\n" + std::to_string(width) + " " + std::to_string(height) + "\n" + maxval + "\n";
  s.append(pixels.begin(), pixels.end());
  return s;
}

}  // namespace

TEST_CASE("eval prints the confusion matrix and per-class accuracy with the class names; the diagonal gives its accuracy exactly") {
  TempDir dir;
  const std::string data = dir / "fashion";
  fs::create_directories(data);
  write_mnist_like(data, {.train = 200, .test = 50, .side = 4});
  const std::string ck = dir / "run.safetensors", train_json = dir / "train.json", eval_json = dir / "eval.json";
  const Run t = run_bnlab("train --dataset fashion-mnist --data-dir " + data + " --hidden 16 --batch-size 8 --epochs 2 --quiet --checkpoint " +
                              ck + " --json " + train_json, dir);
  REQUIRE_MESSAGE(t.status == 0, t.err);
  const json trained = read_json(train_json)["runs"][0];

  for (const std::string split : {"test", "val", "train"}) {
    CAPTURE(split);
    const Run e = run_bnlab("eval --checkpoint " + ck + " --split " + split + " --json " + eval_json, dir);
    REQUIRE_MESSAGE(e.status == 0, e.err);
    const json ev = read_json(eval_json)["runs"][0]["eval"];
    CHECK(ev["split"] == split);
    const int64_t samples = ev["samples"].get<int64_t>();
    CHECK(samples == trained["config"][split + "_size"].get<int64_t>());
    if (split == "test") {
      CHECK(ev["acc"] == trained["test"]["acc"]);
    }
    if (split == "val") {
      CHECK(ev["acc"] == trained["epochs"][1]["val_acc"]);  // the same seeded split as training
    }

    REQUIRE(ev["class_names"].size() == 10);
    CHECK(ev["class_names"][0] == "T-shirt/top");
    CHECK(ev["class_names"][9] == "Ankle boot");
    REQUIRE(ev["confusion"].size() == 10);
    REQUIRE(ev["per_class"].size() == 10);
    int64_t total = 0, diagonal = 0;
    for (size_t k = 0; k < 10; ++k) {
      CAPTURE(k);
      const json& row = ev["confusion"][k];
      REQUIRE(row.size() == 10);
      int64_t rows = 0;
      for (const json& n : row) rows += n.get<int64_t>();
      const json& pc = ev["per_class"][k];
      CHECK(pc["class"] == k);
      CHECK(pc["name"] == ev["class_names"][k]);
      CHECK(pc["samples"] == rows);
      CHECK(pc["correct"] == row[k]);
      if (rows > 0) {
        CHECK(pc["acc"].get<double>() == static_cast<double>(row[k].get<int64_t>()) / static_cast<double>(rows));
      } else {
        CHECK(pc["acc"].is_null());
      }
      total += rows;
      diagonal += row[k].get<int64_t>();

      // The terminal shows the same counts, the rows and the accuracy, under the class's id and name.
      const std::string name = ev["class_names"][k].get<std::string>();
      const std::vector<std::string> fields = table_fields(e.err, std::to_string(k) + " " + name + std::string(11 - name.size(), ' '));
      REQUIRE(fields.size() == 12);
      for (size_t p = 0; p < 10; ++p) CHECK(fields[p] == std::to_string(row[p].get<int64_t>()));
      CHECK(fields[10] == std::to_string(rows));
      CHECK(fields[11] == (rows > 0 ? fmt_fixed4(pc["acc"].get<double>()) : "-"));
    }
    CHECK(total == samples);
    // Exactly the accuracy eval reports (and, for test and val, what training reported).
    CHECK(static_cast<double>(diagonal) / static_cast<double>(samples) == ev["acc"].get<double>());
    CHECK(e.out.empty());  // text for people: stderr
    CHECK(contains(e.err, "rows: true class; columns: predicted class (arg-max of the logits, a tie to the lowest id)"));
    for (const std::string& line : lines_of(e.err)) CHECK_MESSAGE(line.size() <= 100, line);
  }
  check_error(run_bnlab("eval --checkpoint " + ck + " --split tset", dir), 2, {"--split tset: unknown split; did you mean test? (known: test, val, train)"});

  // --quiet: the result line alone; --threads 2: the same rows, loss and accuracy (the forward pass
  // splits rows over threads, so no sum changes order), and the same confusion matrix.
  const Run one = run_bnlab("eval --checkpoint " + ck + " --json " + eval_json, dir);
  REQUIRE_MESSAGE(one.status == 0, one.err);
  const json single = read_json(eval_json)["runs"][0]["eval"];
  const Run quiet = run_bnlab("eval --checkpoint " + ck + " --threads 2 --quiet --json " + eval_json, dir);
  REQUIRE_MESSAGE(quiet.status == 0, quiet.err);
  CHECK(quiet.out.empty());
  REQUIRE(lines_of(quiet.err).size() == 1);
  CHECK(lines_of(quiet.err)[0] == lines_of(one.err)[0]);
  const json threaded = read_json(eval_json)["runs"][0]["eval"];
  CHECK(threaded["loss"] == single["loss"]);
  CHECK(threaded["acc"] == single["acc"]);
  CHECK(threaded["confusion"] == single["confusion"]);
}

TEST_CASE("predict names the class, and reads PNG and PGM images exactly as the same pixels from the dataset") {
  TempDir dir;
  const std::string data = dir / "fashion";
  fs::create_directories(data);
  write_mnist_like(data, {.train = 100, .test = 10, .side = 28});
  const std::string images = data + "/t10k-images-idx3-ubyte.gz";
  const bnlab::data::IdxArray idx = bnlab::data::read_idx(images);
  Bytes first(idx.values.begin(), idx.values.begin() + 784);

  // The first test image as a PNG, a binary PGM and a text PGM.
  const std::string png = dir / "first.png", p5 = dir / "first.pgm", p2 = dir / "first-ascii.pgm";
  write_png(png, 28, 28, PNG_FORMAT_GRAY, first.data());
  write_text(p5, pgm_p5(28, 28, first));
  std::string ascii = "P2\n28 28\n255\n";
  for (size_t i = 0; i < first.size(); ++i) ascii += std::to_string(first[i]) + (i % 28 == 27 ? "\n" : " ");
  write_text(p2, ascii);

  for (const bool standardize : {false, true}) {
    CAPTURE(standardize);
    const std::string ck = dir / "run.safetensors", want_json = dir / "idx.json", got_json = dir / "image.json";
    const Run t = run_bnlab("train --dataset fashion-mnist --data-dir " + data + " --model plain --hidden 8 --batch-size 10 --epochs 1 --quiet" +
                                (standardize ? " --standardize" : "") + " --checkpoint " + ck, dir);
    REQUIRE_MESSAGE(t.status == 0, t.err);
    const Run want = run_bnlab("predict --checkpoint " + ck + " --input " + images + " --limit 1 --json " + want_json, dir);
    REQUIRE_MESSAGE(want.status == 0, want.err);
    const json w = read_json(want_json);
    const int cls = w["rows"][0]["class"].get<int>();
    const std::string name = w["class_names"][static_cast<size_t>(cls)].get<std::string>();
    CHECK(w["rows"][0]["name"] == name);
    CHECK(w["class_names"][9] == "Ankle boot");

    for (const auto& [file, format] : std::vector<std::pair<std::string, std::string>>{
             {png, "PNG 28x28 grayscale image"}, {p5, "PGM (P5) 28x28 grayscale image"}, {p2, "PGM (P2) 28x28 grayscale image"}}) {
      CAPTURE(file);
      const Run r = run_bnlab("predict --checkpoint " + ck + " --input " + file + " --json " + got_json, dir);
      REQUIRE_MESSAGE(r.status == 0, r.err);
      const json g = read_json(got_json);
      CHECK(g["format"] == format);
      REQUIRE(g["rows"].size() == 1);
      CHECK(g["rows"][0]["class"] == cls);
      CHECK(g["rows"][0]["probabilities"] == w["rows"][0]["probabilities"]);  // bit for bit
      // "     1     9 Ankle boot  0.9700": the id, the name and its probability, on one line.
      const std::vector<std::string> lines = lines_of(r.out);
      REQUIRE(lines.size() == 2);
      CHECK(contains(lines[0], "name"));
      const double p = w["rows"][0]["probabilities"][static_cast<size_t>(cls)].get<double>();
      CHECK(contains(lines[1], std::to_string(cls) + " " + name));
      CHECK(contains(lines[1], fmt_fixed4(p)));
      CHECK(lines[1].size() <= 100);
    }
  }

  // What is refused, one line each, naming the file and what it is.
  const std::string ck = dir / "run.safetensors";
  const auto predict = [&](const std::string& file) { return run_bnlab("predict --checkpoint " + ck + " --input " + file, dir); };
  const Bytes png_bytes = read_raw(png);
  write_bytes(dir / "truncated.png", Bytes(png_bytes.begin(), png_bytes.begin() + static_cast<long>(png_bytes.size() * 6 / 10)));
  check_error(predict(dir / "truncated.png"), 2, {"truncated.png", "a truncated or corrupt PNG (libpng: "});
  Bytes corrupt = png_bytes;
  corrupt[corrupt.size() - 20] ^= 0xff;  // inside the image data (or its CRC), before IEND
  write_bytes(dir / "corrupt.png", corrupt);
  check_error(predict(dir / "corrupt.png"), 2, {"corrupt.png", "a truncated or corrupt PNG (libpng: "});
  write_bytes(dir / "header.png", Bytes(png_bytes.begin(), png_bytes.begin() + 12));
  check_error(predict(dir / "header.png"), 2, {"header.png", "not a readable PNG (libpng: "});
  std::vector<uint16_t> deep(784, 1000);
  write_png(dir / "deep.png", 28, 28, PNG_FORMAT_LINEAR_Y, deep.data());
  check_error(predict(dir / "deep.png"), 2, {"deep.png", "a 16-bit PNG", "8 bits per channel"});
  Bytes rgb(28 * 28 * 3, 7);
  write_png(dir / "colour.png", 28, 28, PNG_FORMAT_RGB, rgb.data());
  check_error(predict(dir / "colour.png"), 2,
              {"colour.png", "a PNG 28x28 RGB ([28,28,3])", "takes 28x28 grayscale images ([28,28,1])", "does not resize images or convert"});
  Bytes grey_alpha(28 * 28 * 2, 9);
  write_png(dir / "alpha.png", 28, 28, PNG_FORMAT_GA, grey_alpha.data());
  check_error(predict(dir / "alpha.png"), 2, {"alpha.png", "alpha channel"});
  write_text(dir / "narrow.pgm", pgm_p5(27, 28, Bytes(27 * 28, 1)));
  check_error(predict(dir / "narrow.pgm"), 2, {"narrow.pgm", "a PGM (P5) 27x28 grayscale ([28,27,1])", "takes 28x28 grayscale images ([28,28,1])"});
  write_text(dir / "deep.pgm", pgm_p5(28, 28, Bytes(784 * 2, 1), "65535"));
  check_error(predict(dir / "deep.pgm"), 2, {"deep.pgm", "a 16-bit PGM (P5) (maxval 65535)"});
  write_text(dir / "dim.pgm", pgm_p5(28, 28, first, "15"));
  check_error(predict(dir / "dim.pgm"), 2, {"dim.pgm", "maxval 15", "maxval 255 only"});
  write_text(dir / "short.pgm", pgm_p5(28, 28, Bytes(first.begin(), first.begin() + 500)));
  check_error(predict(dir / "short.pgm"), 2, {"short.pgm", "truncated PGM (P5)", "needs 784 pixel bytes from byte", "the file has 500"});
  write_text(dir / "short-ascii.pgm", "P2\n28 28\n255\n1 2 3\n");
  check_error(predict(dir / "short-ascii.pgm"), 2, {"short-ascii.pgm", "value 4 of 784 is missing"});
  write_text(dir / "headless.pgm", "P5\n28\n");
  check_error(predict(dir / "headless.pgm"), 2, {"headless.pgm", "expected the height (a number) at byte 6, but the file ends there"});
}

TEST_CASE("predict on an RGB image of a [32,32,3] model: PNG and PPM give the CSV pixels' prediction, named from batches.meta.txt") {
  TempDir dir;
  const std::string cifar = dir / "cifar";
  fs::create_directories(cifar);
  // Records of 1 label byte and 3072 pixel bytes (red plane, green, blue), the label in the brightness.
  uint32_t state = 7;
  const auto next = [&state] {
    state = state * 1103515245u + 12345u;
    return (state >> 16) & 0x7fff;
  };
  const auto batch = [&](int records) {
    Bytes b;
    for (int r = 0; r < records; ++r) {
      const auto label = static_cast<uint8_t>(next() % 10);
      b.push_back(label);
      for (int p = 0; p < 3072; ++p) b.push_back(static_cast<uint8_t>(label * 20 + next() % 60));
    }
    return b;
  };
  for (int i = 1; i <= 5; ++i) write_bytes(cifar + "/data_batch_" + std::to_string(i) + ".bin", batch(4));
  const Bytes test = batch(2);
  write_bytes(cifar + "/test_batch.bin", test);
  write_text(cifar + "/batches.meta.txt", "plane\ncar\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n");
  const std::string ck = dir / "rgb.safetensors";
  const Run t = run_bnlab("train --dataset cifar10 --data-dir " + cifar + " --model plain --hidden 8 --batch-size 4 --epochs 1 --quiet --checkpoint " + ck, dir);
  REQUIRE_MESSAGE(t.status == 0, t.err);

  // The first test image, channels last: (h·32 + w)·3 + c.
  Bytes hwc(3072);
  for (int p = 0; p < 1024; ++p)
    for (int c = 0; c < 3; ++c) hwc[static_cast<size_t>(p * 3 + c)] = test[static_cast<size_t>(1 + c * 1024 + p)];
  std::string csv;
  for (size_t i = 0; i < hwc.size(); ++i) csv += (i ? "," : "") + std::to_string(hwc[i]);
  write_text(dir / "first.csv", csv + "\n");
  write_png(dir / "first.png", 32, 32, PNG_FORMAT_RGB, hwc.data());
  std::string ppm = "P6\n32 32\n255\n";
  ppm.append(hwc.begin(), hwc.end());
  write_text(dir / "first.ppm", ppm);

  const Run want = run_bnlab("predict --checkpoint " + ck + " --input " + (dir / "first.csv") + " --pixels 255 --json " + (dir / "csv.json"), dir);
  REQUIRE_MESSAGE(want.status == 0, want.err);
  const json w = read_json(dir / "csv.json");
  CHECK(w["class_names"][0] == "plane");
  for (const std::string file : {"first.png", "first.ppm"}) {
    CAPTURE(file);
    const Run r = run_bnlab("predict --checkpoint " + ck + " --input " + (dir / file) + " --json " + (dir / "image.json"), dir);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    const json g = read_json(dir / "image.json");
    CHECK(g["format"] == (file == "first.png" ? "PNG 32x32 RGB image" : "PPM (P6) 32x32 RGB image"));
    CHECK(g["rows"][0]["class"] == w["rows"][0]["class"]);
    CHECK(g["rows"][0]["name"] == w["rows"][0]["name"]);
    CHECK(g["rows"][0]["probabilities"] == w["rows"][0]["probabilities"]);
    CHECK(contains(r.out, w["rows"][0]["name"].get<std::string>()));
  }
  // A grayscale image for the RGB model: refused, both named.
  write_png(dir / "grey.png", 32, 32, PNG_FORMAT_GRAY, hwc.data());
  check_error(run_bnlab("predict --checkpoint " + ck + " --input " + (dir / "grey.png"), dir), 2,
              {"grey.png", "a PNG 32x32 grayscale ([32,32,1])", "takes 32x32 RGB images ([32,32,3])"});
}

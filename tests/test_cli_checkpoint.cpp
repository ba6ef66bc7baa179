// Checkpoints from the command line, end to end: train --checkpoint / --save-best, train --resume
// (exact: the same metrics and weights as an uninterrupted run), eval, predict, compare
// --checkpoint-dir, and interruption by SIGINT / SIGTERM followed by a resume.
#include <doctest/doctest.h>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "cli_test_support.hpp"
#include "data/idx.hpp"
#include "data/registry.hpp"
#include "train/checkpoint.hpp"
#include "train/trainer.hpp"

using namespace bnlab::test;

namespace {

json metadata_field(const CheckpointParts& ck, const std::string& key) {
  return json::parse(ck.header.at("__metadata__").at(key).get<std::string>());
}

// Waits until `done()` or about 60 s have passed.
template <class F>
bool wait_for(F done) {
  for (int i = 0; i < 30000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return false;
}

// Slow enough (400 steps, about 0.1 s an epoch) that a signal sent right after the first epoch
// lands in the middle of a later one, with five epochs to spare.
const std::vector<std::string> kSlowRun = {"train", "--dataset", "synthetic", "--hidden", "128,128", "--batch-size", "8",
                                           "--epochs", "6"};

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

std::string joined(const std::vector<std::string>& args) {
  std::string s;
  for (const auto& a : args) s += (s.empty() ? "" : " ") + a;
  return s;
}

}  // namespace

TEST_CASE("train --checkpoint saves the run; --save-best keeps the best validation epoch beside it") {
  TempDir dir;
  const std::string ck = dir / "run.safetensors", json_path = dir / "run.json";
  const Run r = run_bnlab("train --dataset synthetic --epochs 3 --quiet --checkpoint " + ck + " --save-best --json " + json_path, dir);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  const std::string best = dir / "run.best.safetensors";
  REQUIRE(fs::exists(ck));
  REQUIRE(fs::exists(best));
  CHECK(leftover_tmp_files(dir.path()).empty());

  const json metrics = read_json(json_path);
  const CheckpointParts last = checkpoint_parts(ck);
  CHECK(last.header["__metadata__"]["format"] == "bnlab-checkpoint");
  CHECK(metadata_field(last, "progress")["epoch"] == 3);
  CHECK(metadata_field(last, "history").size() == 3);
  CHECK(metadata_field(last, "data")["val_fraction"] == 0.2);
  CHECK(last.header["__metadata__"]["dataset"] == "synthetic");
  CHECK(last.header["fc1.weight"]["shape"] == json::array({20, 128}));

  // The best epoch: the first with the highest validation accuracy.
  int best_epoch = 0;
  double best_acc = -1;
  for (const json& e : metrics["runs"][0]["epochs"])
    if (e["val_acc"].get<double>() > best_acc) {
      best_acc = e["val_acc"].get<double>();
      best_epoch = e["epoch"].get<int>();
    }
  CHECK(metadata_field(checkpoint_parts(best), "progress")["epoch"] == best_epoch);
  CHECK(metrics["runs"][0]["best_checkpoint"] ==
        json({{"path", best}, {"epoch", best_epoch}, {"metric", "val_acc"}, {"value", best_acc}}));
}

// "0.8712", as the progress lines print a number.
std::string f4(double v) {
  char s[32];
  std::snprintf(s, sizeof s, "%.4f", v);
  return s;
}

TEST_CASE("--save-best says which epoch it saved and why, on stderr and in the metrics") {
  TempDir dir;
  const std::string ck = dir / "run.safetensors", best = dir / "run.best.safetensors", json_path = dir / "run.json";
  const Run r = run_bnlab("train --dataset synthetic --model plain --epochs 4 --checkpoint " + ck + " --save-best --json " + json_path, dir);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  const json metrics = read_json(json_path);
  // What it must have said, from the epochs the document holds: a line after each new best.
  std::vector<std::string> want;
  int best_epoch = 0;
  double best_acc = -1;
  for (const json& e : metrics["runs"][0]["epochs"]) {
    const double acc = e["val_acc"].get<double>();
    if (acc <= best_acc) continue;
    const std::string why = best_epoch == 0 ? "to " + best : "(previous best " + f4(best_acc) + ", epoch " + std::to_string(best_epoch) + ")";
    want.push_back("saved best: epoch " + std::to_string(e["epoch"].get<int>()) + ", val_acc " + f4(acc) + " " + why);
    best_acc = acc;
    best_epoch = e["epoch"].get<int>();
  }
  REQUIRE(want.size() >= 2);  // the "previous best" form too
  std::vector<std::string> said;
  for (const std::string& line : lines_of(r.err))
    if (line.rfind("saved best: ", 0) == 0) said.push_back(line);
  CHECK(said == want);
  CHECK(metrics["runs"][0]["best_checkpoint"] ==
        json({{"path", best}, {"epoch", best_epoch}, {"metric", "val_acc"}, {"value", best_acc}}));
  CHECK(metadata_field(checkpoint_parts(best), "progress")["epoch"] == best_epoch);
}

TEST_CASE("while train runs, --json and --csv hold the epochs done so far with status running; SIGINT leaves interrupted") {
  TempDir dir;
  const std::string live = dir / "live.json", csv = dir / "live.csv";
  const std::string out = dir / "out.txt", err = dir / "err.txt";
  // Long enough to be still running when two epochs are in the file, on any CPU (600 epochs of 0.03
  // to 0.1 s; SIGINT ends it after the second).
  const pid_t pid = spawn_bnlab({"train", "--dataset", "synthetic", "--hidden", "128,128", "--batch-size", "8", "--epochs", "600",
                                 "--json", live, "--csv", csv},
                                out, err);
  REQUIRE(wait_for([&] { return fs::exists(live); }));
  json doc;
  // Every read parses (each rewrite is atomic) and shows the run as it stands.
  REQUIRE(wait_for([&] {
    doc = read_json(live);
    return doc["runs"][0]["epochs"].size() >= 2;
  }));
  const json& run = doc["runs"][0];
  CHECK(run["status"] == "running");
  CHECK(!run.contains("test"));
  for (size_t i = 0; i < run["epochs"].size(); ++i) CHECK(run["epochs"][i]["epoch"] == i + 1);
  const auto rows = lines_of(read_text(csv));
  REQUIRE(rows.size() >= 3);  // the header and at least the two epochs the JSON had
  CHECK(rows[1].rfind("batchnorm,1,", 0) == 0);
  CHECK(rows[2].rfind("batchnorm,2,", 0) == 0);

  REQUIRE(kill(pid, SIGINT) == 0);
  REQUIRE(wait_status(pid) == 130);
  const json end = read_json(live);
  CHECK(end["runs"][0]["status"] == "interrupted");
  CHECK(end["interrupted"]["signal"] == "SIGINT");
  CHECK(end["runs"][0]["epochs"].size() >= run["epochs"].size());
  CHECK(end["interrupted"]["epoch"] == end["runs"][0]["epochs"].size() + 1);
  CHECK(lines_of(read_text(csv)).size() == end["runs"][0]["epochs"].size() + 1);
  CHECK(leftover_tmp_files(dir.path()).empty());
}

TEST_CASE("train 2 epochs, resume for 2 more = 4 epochs in one go: every metric and every weight") {
  // At a constant rate, and with a step schedule whose rate halves every epoch (the resume is in the
  // middle of it: the rates of epochs 3 and 4 come from the checkpoint's schedule).
  for (const std::string schedule : {"", " --lr-schedule step --lr-step-epochs 1 --lr-gamma 0.5"}) {
    CAPTURE(schedule);
    TempDir dir;
    const std::string common = "train --dataset synthetic --threads 2 --quiet" + schedule;
    const std::string whole = dir / "whole.json", whole_ck = dir / "whole.safetensors";
    REQUIRE(run_bnlab(common + " --epochs 4 --json " + whole + " --checkpoint " + whole_ck, dir).status == 0);

    const std::string ck = dir / "run.safetensors", first = dir / "first.json", resumed = dir / "resumed.json";
    REQUIRE(run_bnlab(common + " --epochs 2 --json " + first + " --checkpoint " + ck, dir).status == 0);
    CHECK(read_json(first)["runs"][0]["epochs"].size() == 2);
    const Run r = run_bnlab("train --resume " + ck + " --epochs 4 --json " + resumed, dir);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(contains(r.err, "from " + ck + " at epoch 2 of 4"));
    CHECK(contains(r.err, "epoch 3/4"));
    CHECK(!contains(r.err, "epoch 2/4"));
    CHECK(!contains(r.err, "warning"));

    // The metrics document of the resumed run holds the whole history, epochs 1 to 4.
    const json a = without_times(read_json(whole)), b = without_times(read_json(resumed));
    REQUIRE(b["runs"][0]["epochs"].size() == 4);
    CHECK(b["runs"][0]["epochs"][0]["epoch"] == 1);
    CHECK(a == b);
    const double halving = schedule.empty() ? 1 : 0.5;
    for (int e = 0; e < 4; ++e) CHECK(b["runs"][0]["epochs"][e]["lr"].get<double>() == 1e-3 * std::pow(halving, e));
    // The resume saved back to its checkpoint: the same tensors, bit for bit, as the one-go run's.
    const CheckpointParts x = checkpoint_parts(whole_ck), y = checkpoint_parts(ck);
    CHECK(metadata_field(y, "progress") == metadata_field(x, "progress"));
    CHECK(x.data.size() == y.data.size());
    CHECK(x.data == y.data);
  }
}

TEST_CASE("train --resume refuses flags that would change the run, and warns about another thread count") {
  TempDir dir;
  const std::string ck = dir / "run.safetensors";
  REQUIRE(run_bnlab("train --dataset synthetic --model plain --hidden 16 --epochs 2 --quiet --checkpoint " + ck, dir).status == 0);
  const std::string before = read_text(ck);
  for (const std::string flag : {"--lr 0.1", "--model batchnorm", "--batch-size 64", "--seed 3", "--dataset synthetic",
                                  "--standardize", "--val-fraction 0.1", "--hidden 8"}) {
    CAPTURE(flag);
    const Run r = run_bnlab("train --resume " + ck + " " + flag, dir);
    check_error(r, 2, {flag.substr(0, flag.find(' ')), "cannot be combined with --resume", ck});
  }
  check_error(run_bnlab("train --resume " + ck + " --epochs 1", dir), 2, {"--epochs 1", "already completed 2"});
  check_error(run_bnlab("train --resume " + ck + " --save-best --checkpoint /nope/x.safetensors", dir), 2, {"--checkpoint /nope"});
  CHECK(read_text(ck) == before);

  const std::string other = dir / "more.safetensors";
  const Run r = run_bnlab("train --resume " + ck + " --epochs 3 --threads 2 --quiet --checkpoint " + other, dir);
  CAPTURE(r.err);
  CHECK(r.status == 0);
  CHECK(contains(r.err, "bnlab: warning: --threads 2 differs from the 1 thread"));
  CHECK(metadata_field(checkpoint_parts(other), "progress")["epoch"] == 3);
  CHECK(read_text(ck) == before);  // --checkpoint elsewhere leaves the resumed file as it was
}

TEST_CASE("eval of a checkpoint reports the test and validation metrics the training run reported") {
  TempDir dir;
  const std::string ck = dir / "run.safetensors", train_json = dir / "train.json", eval_json = dir / "eval.json";
  REQUIRE(run_bnlab("train --dataset synthetic --epochs 2 --standardize --limit-test 500 --quiet --checkpoint " + ck + " --json " + train_json,
                dir).status == 0);
  const json trained = read_json(train_json)["runs"][0];

  const Run test = run_bnlab("eval --checkpoint " + ck + " --json " + eval_json, dir);
  REQUIRE_MESSAGE(test.status == 0, test.err);
  CHECK(contains(test.err, "batchnorm 20-128-64-4 (epoch 2) on synthetic/test: 500 rows"));
  const json doc = read_json(eval_json);
  CHECK(doc["command"] == "eval");
  const json& run = doc["runs"][0];
  CHECK(run["eval"]["split"] == "test");
  CHECK(run["eval"]["samples"] == 500);
  CHECK(run["eval"]["loss"] == trained["test"]["loss"]);  // bit for bit
  CHECK(run["eval"]["acc"] == trained["test"]["acc"]);
  CHECK(run["test"] == trained["test"]);
  CHECK(run["config"]["standardize"] == true);
  CHECK(run["config"]["test_size"] == 500);
  CHECK(run["epochs"].size() == 2);

  const Run val = run_bnlab("eval --checkpoint " + ck + " --split val --json " + eval_json, dir);
  REQUIRE_MESSAGE(val.status == 0, val.err);
  const json v = read_json(eval_json)["runs"][0];
  CHECK(v["eval"]["split"] == "val");
  CHECK(v["eval"]["loss"] == trained["epochs"][1]["val_loss"]);
  CHECK(v["eval"]["acc"] == trained["epochs"][1]["val_acc"]);
  CHECK(!v.contains("test"));
  CHECK(leftover_tmp_files(dir.path()).empty());
}

TEST_CASE("predict: IDX images and CSV rows, with and without labels, standardized as at training") {
  TempDir dir;
  const std::string data = dir / "mnist";
  fs::create_directories(data);
  write_mnist_like(data, {.train = 200, .test = 50, .side = 4});
  const std::string images = data + "/t10k-images-idx3-ubyte.gz";
  const bnlab::data::IdxArray pixels = bnlab::data::read_idx(images);
  const bnlab::data::IdxArray labels = bnlab::data::read_idx(data + "/t10k-labels-idx1-ubyte");

  for (const bool standardize : {false, true}) {
    CAPTURE(standardize);
    const std::string ck = dir / "mnist.safetensors", train_json = dir / "train.json", out = dir / "predict.json";
    const Run t = run_bnlab("train --dataset mnist --data-dir " + data + " --hidden 16 --batch-size 8 --epochs 3 --quiet" +
                            (standardize ? " --standardize" : "") + " --checkpoint " + ck + " --json " + train_json, dir);
    REQUIRE_MESSAGE(t.status == 0, t.err);
    const double test_acc = read_json(train_json)["runs"][0]["test"]["acc"].get<double>();

    // IDX images: one row per image; the classes match the labels as often as eval counted.
    const Run p = run_bnlab("predict --checkpoint " + ck + " --input " + images + " --json " + out, dir);
    REQUIRE_MESSAGE(p.status == 0, p.err);
    CHECK(contains(p.err, "standardized") == standardize);
    const json doc = read_json(out);
    CHECK(doc["command"] == "predict");
    CHECK(doc["format"] == "IDX 4x4 images");
    REQUIRE(doc["rows"].size() == 50);
    CHECK(lines_of(p.out).size() == 51);  // a header and one line per row
    int correct = 0;
    for (size_t i = 0; i < 50; ++i) {
      const json& row = doc["rows"][i];
      CHECK(row["row"] == i + 1);
      REQUIRE(row["probabilities"].size() == 10);
      double sum = 0, top = -1;
      int arg = -1;
      for (int k = 0; k < 10; ++k) {
        const double q = row["probabilities"][static_cast<size_t>(k)].get<double>();
        sum += q;
        if (q > top) {
          top = q;
          arg = k;
        }
      }
      CHECK(sum == doctest::Approx(1.0).epsilon(1e-5));
      CHECK(row["class"] == arg);
      correct += row["class"].get<int>() == labels.values[i];
    }
    CHECK(static_cast<double>(correct) / 50.0 == test_acc);

    // The same images as CSV rows with the label first: the accuracy is reported, and equal.
    std::string csv = "label";
    for (int k = 0; k < 16; ++k) csv += ",p" + std::to_string(k);
    csv += "\n";
    for (size_t i = 0; i < 50; ++i) {
      csv += std::to_string(labels.values[i]);
      for (size_t k = 0; k < 16; ++k) {
        char buf[32];
        std::snprintf(buf, sizeof buf, ",%.9g", static_cast<double>(static_cast<float>(pixels.values[i * 16 + k]) / 255.0f));
        csv += buf;
      }
      csv += "\n";
    }
    write_text(dir / "rows.csv", csv);
    const Run c = run_bnlab("predict --checkpoint " + ck + " --input " + (dir / "rows.csv") + " --json " + out, dir);
    REQUIRE_MESSAGE(c.status == 0, c.err);
    const json labelled = read_json(out);
    CHECK(labelled["format"] == "CSV");
    CHECK(labelled["accuracy"].get<double>() == test_acc);
    CHECK(labelled["rows"][0]["label"] == labels.values[0]);
    CHECK(contains(c.err, "accuracy "));
    CHECK(!contains(c.out, "accuracy "));  // stdout: the prediction table alone
    for (size_t i = 0; i < 50; ++i) CHECK(labelled["rows"][i]["class"] == doc["rows"][i]["class"]);

    // Features only, the first three rows.
    std::string features;
    for (const std::string& line : lines_of(csv)) {
      if (line.rfind("label", 0) == 0) continue;
      features += line.substr(line.find(',') + 1) + "\n";
    }
    write_text(dir / "features.csv", features);
    const Run f = run_bnlab("predict --checkpoint " + ck + " --input " + (dir / "features.csv") + " --limit 3 --quiet --json " + out, dir);
    REQUIRE_MESSAGE(f.status == 0, f.err);
    CHECK(f.err.empty());
    const json plain = read_json(out);
    REQUIRE(plain["rows"].size() == 3);
    CHECK(!plain.contains("accuracy"));
    CHECK(!plain["rows"][0].contains("label"));
    // (Not bit for bit: a batch of 3 rows may take another matrix-product kernel than one of 50.)
    for (size_t i = 0; i < 3; ++i) CHECK(plain["rows"][i]["class"] == doc["rows"][i]["class"]);
    CHECK(lines_of(f.out).size() == 4);
  }
  CHECK(leftover_tmp_files(dir.path()).empty());
}

TEST_CASE("compare --checkpoint-dir saves each variant; train --resume continues one") {
  TempDir dir;
  const std::string ckdir = dir / "cks", json_path = dir / "compare.json", resumed = dir / "resumed.json";
  const Run r = run_bnlab("compare --dataset synthetic --epochs 2 --quiet --checkpoint-dir " + ckdir + " --json " + json_path, dir);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  REQUIRE(fs::exists(ckdir + "/plain.safetensors"));
  REQUIRE(fs::exists(ckdir + "/batchnorm.safetensors"));
  CHECK(leftover_tmp_files(dir.path()).empty());

  // Nothing left to train (2 of 2 epochs): the resume only tests, and reports what compare did.
  const Run t = run_bnlab("train --resume " + ckdir + "/batchnorm.safetensors --quiet --json " + resumed, dir);
  REQUIRE_MESSAGE(t.status == 0, t.err);
  const json a = without_times(read_json(json_path))["runs"][1], b = without_times(read_json(resumed))["runs"][0];
  CHECK(b["name"] == "batchnorm");
  CHECK(a["epochs"] == b["epochs"]);
  CHECK(a["test"] == b["test"]);
  CHECK(a["config"] == b["config"]);
}

TEST_CASE("SIGINT during train: the last completed epoch and the metrics so far are saved; --resume finishes the run exactly") {
  TempDir dir;
  const std::string ck = dir / "run.safetensors", partial = dir / "partial.json", csv = dir / "partial.csv";
  const std::string out = dir / "out.txt", err = dir / "err.txt";
  const pid_t pid = spawn_bnlab(with(kSlowRun, {"--checkpoint", ck, "--json", partial, "--csv", csv}), out, err);
  // The checkpoint appears (renamed into place) once the first epoch is done.
  REQUIRE(wait_for([&] { return fs::exists(ck); }));
  REQUIRE(kill(pid, SIGINT) == 0);
  const int status = wait_status(pid);
  const std::string stderr_text = read_text(err);
  CAPTURE(stderr_text);
  REQUIRE(status == 130);

  const auto lines = lines_of(stderr_text);
  REQUIRE(!lines.empty());
  CHECK(lines.back().rfind("bnlab: SIGINT during epoch ", 0) == 0);
  CHECK(contains(lines.back(), "resume with: bnlab train --resume " + ck));
  CHECK(read_text(out).empty());  // no test score: the run did not finish
  CHECK(leftover_tmp_files(dir.path()).empty());

  const int saved = metadata_field(checkpoint_parts(ck), "progress")["epoch"].get<int>();
  CHECK(saved >= 1);
  CHECK(saved < 6);
  const json doc = read_json(partial);
  CHECK(doc["interrupted"]["signal"] == "SIGINT");
  CHECK(doc["interrupted"]["epoch"] == saved + 1);
  CHECK(doc["runs"][0]["status"] == "interrupted");
  CHECK(doc["runs"][0]["epochs"].size() == static_cast<size_t>(saved));
  CHECK(!doc["runs"][0].contains("test"));
  CHECK(lines_of(read_text(csv)).size() == static_cast<size_t>(saved) + 1);

  const std::string resumed = dir / "resumed.json", whole = dir / "whole.json";
  const Run r = run_bnlab("train --resume " + ck + " --quiet --json " + resumed, dir);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  REQUIRE(run_bnlab(joined(kSlowRun) + " --quiet --json " + whole, dir).status == 0);
  const json a = without_times(read_json(whole)), b = without_times(read_json(resumed));
  CHECK(b["runs"][0]["epochs"].size() == 6);
  CHECK(a == b);
}

TEST_CASE("SIGTERM during train without --checkpoint: saved to ./bnlab-interrupted.safetensors, exit status 143") {
  TempDir dir;
  const std::string out = dir / "out.txt", err = dir / "err.txt";
  const pid_t pid = spawn_bnlab(kSlowRun, out, err, dir.path().string());
  // Without a checkpoint file to watch, the first epoch's line on stderr says it is done.
  REQUIRE(wait_for([&] { return contains(read_text(err), "epoch 1/6"); }));
  REQUIRE(kill(pid, SIGTERM) == 0);
  const int status = wait_status(pid);
  const std::string stderr_text = read_text(err);
  CAPTURE(stderr_text);
  REQUIRE(status == 143);
  const std::string ck = dir / "bnlab-interrupted.safetensors";
  REQUIRE(fs::exists(ck));
  CHECK(contains(lines_of(stderr_text).back(), "bnlab: SIGTERM during epoch"));
  CHECK(contains(lines_of(stderr_text).back(), "resume with: bnlab train --resume bnlab-interrupted.safetensors"));
  CHECK(metadata_field(checkpoint_parts(ck), "progress")["epoch"].get<int>() >= 1);
  CHECK(leftover_tmp_files(dir.path()).empty());
}

TEST_CASE("SIGINT during compare: every variant's last completed epoch is saved") {
  TempDir dir;
  const std::string ckdir = dir / "cks", json_path = dir / "compare.json";
  const std::string out = dir / "out.txt", err = dir / "err.txt";
  const pid_t pid = spawn_bnlab({"compare", "--dataset", "synthetic", "--hidden", "128,128", "--batch-size", "8", "--epochs", "6",
                                 "--checkpoint-dir", ckdir, "--json", json_path},
                                out, err);
  REQUIRE(wait_for([&] { return fs::exists(ckdir + "/plain.safetensors"); }));
  REQUIRE(kill(pid, SIGINT) == 0);
  const int status = wait_status(pid);
  const std::string stderr_text = read_text(err);
  CAPTURE(stderr_text);
  REQUIRE(status == 130);
  CHECK(contains(lines_of(stderr_text).back(), "bnlab: SIGINT during epoch"));
  const json doc = read_json(json_path);
  REQUIRE(doc["runs"].size() == 2);
  for (const json& run : doc["runs"]) {
    const std::string ck = ckdir + "/" + run["name"].get<std::string>() + ".safetensors";
    REQUIRE(fs::exists(ck));
    CHECK(metadata_field(checkpoint_parts(ck), "progress")["epoch"] == run["epochs"].size());
    CHECK(!run.contains("test"));
    CHECK(run["status"] == "interrupted");
  }
  CHECK(doc["interrupted"]["checkpoints"].size() == 2);
  CHECK(leftover_tmp_files(dir.path()).empty());
}

// True when `a` and `b` have the same structure and the same strings, booleans and integers, and
// their floating-point numbers agree to `rel` relative (a number written as 0 and one written as 0.0
// are equal numbers).
bool near_json(const json& a, const json& b, double rel, const std::string& at = "") {
  if (a.is_number() && b.is_number() && (a.is_number_float() || b.is_number_float())) {
    const double x = a.get<double>(), y = b.get<double>();
    if (std::abs(x - y) <= rel * std::max({1.0, std::abs(x), std::abs(y)})) return true;
    MESSAGE(at << ": " << x << " vs " << y);
    return false;
  }
  if (a.type() != b.type() && !(a.is_number() && b.is_number())) {
    MESSAGE(at << ": " << a.dump() << " vs " << b.dump());
    return false;
  }
  if (a.is_object()) {
    if (a.size() != b.size()) {
      MESSAGE(at << ": " << a.size() << " vs " << b.size() << " fields");
      return false;
    }
    for (const auto& [key, value] : a.items())
      if (!b.contains(key) || !near_json(value, b[key], rel, at + "." + key)) return false;
    return true;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (!near_json(a[i], b[i], rel, at + "[" + std::to_string(i) + "]")) return false;
    return true;
  }
  if (a == b) return true;
  MESSAGE(at << ": " << a.dump() << " vs " << b.dump());
  return false;
}

// The fields bnlab added after the reference files were written (learning-rate schedules, early
// stopping, the step-loss spread), taken out of `doc` after checking them: the config's defaults (a constant rate, no early
// stopping), each epoch's rate — null (unknown) for an epoch the old file stored, `lr` for one trained now.
json without_schedule_fields(json doc) {
  for (auto& run : doc["runs"]) {
    json& c = run["config"];
    CHECK(c["lr_schedule"] == "constant");
    CHECK(c["early_stop"] == 0);
    for (const char* key : {"lr_schedule", "lr_step_epochs", "lr_gamma", "lr_min", "lr_warmup_epochs", "lr_warmup_start", "early_stop",
                            "early_stop_metric", "early_stop_min_delta"})
      c.erase(key);
    for (auto& e : run["epochs"]) {
      CHECK((e["lr"].is_null() || e["lr"] == c["lr"]));
      e.erase("lr");
      // Added since as well: the spread of the step losses (null where the old bnlab trained the epoch).
      CHECK((e["train_loss_std"].is_null() || e["train_loss_std"].get<double>() > 0));
      e.erase("train_loss_std");
    }
  }
  return doc;
}

// tests/data/format1-batchnorm.safetensors was written by bnlab at checkpoint format 1 (the MLP
// family's parameters as the spec; commit 6c4fa9b): `bnlab train --dataset synthetic --model
// batchnorm --hidden 16,8 --epochs 2 --seed 3 --checkpoint format1-batchnorm.safetensors`. Beside
// it, that bnlab's metrics (times removed) of `bnlab eval` on it and of `bnlab train --resume` on a
// copy to 3 epochs. Today's bnlab must give the same run: the same configuration and history, and
// the same numbers — bit for bit on the build that wrote the files (native, that session's CPU);
// a build for another CPU or with OpenBLAS sums the products in another order, so the recomputed
// numbers are compared to 1e-5 relative. Beside that, within one build, resuming the format-1 file
// and resuming the format-2 file it is saved back as must agree bit for bit.
TEST_CASE("a checkpoint of format 1 still loads, evaluates and resumes as the bnlab that wrote it") {
  const std::string data = std::string(BNLAB_SOURCE_DIR) + "/tests/data/";
  TempDir dir;
  const std::string ck = dir / "old.safetensors";
  fs::copy_file(data + "format1-batchnorm.safetensors", ck);
  REQUIRE(checkpoint_parts(ck).header["__metadata__"]["format_version"] == "1");

  const Run eval = run_bnlab("eval --checkpoint " + ck + " --json " + (dir / "eval.json"), dir);
  REQUIRE(eval.status == 0);
  CHECK(contains(eval.err, "batchnorm 20-16-8-4 (epoch 2) on synthetic/test: 1000 rows, loss 0.6750 acc 0.7610"));
  json got = without_schedule_fields(without_times(read_json(dir / "eval.json"))), want = read_json(data + "format1-batchnorm.eval.json");
  got["runs"][0]["eval"].erase("checkpoint");  // where the file was read from
  want["runs"][0]["eval"].erase("checkpoint");
  // Added since that bnlab (the per-class counts, docs/metrics.md): its class names are the ids (a
  // format-1 file has none), and the confusion matrix's diagonal gives the accuracy it reported.
  json& added = got["runs"][0]["eval"];
  CHECK(added["class_names"] == json({"0", "1", "2", "3"}));
  int64_t diagonal = 0;
  for (size_t k = 0; k < 4; ++k) diagonal += added["confusion"][k][k].get<int64_t>();
  CHECK(static_cast<double>(diagonal) / 1000.0 == added["acc"].get<double>());
  for (const char* field : {"class_names", "per_class", "confusion"}) added.erase(field);
  CHECK(near_json(got, want, 1e-5));
  // The two stored epochs are read back, not recomputed: exact.
  CHECK(got["runs"][0]["epochs"] == want["runs"][0]["epochs"]);

  // The same state saved as format 2 by the library (read, restored into a trainer, saved), then
  // both files resumed.
  const std::string v2 = dir / "v2.safetensors";
  {
    const bnlab::Checkpoint c1 = bnlab::read_checkpoint(ck);
    REQUIRE(c1.data.has_value());
    const bnlab::data::Splits d = bnlab::data::load(c1.dataset, *c1.data);
    bnlab::Trainer t(c1.spec, c1.config, d);
    bnlab::restore(t, c1);
    bnlab::save_checkpoint(v2, t, c1.history, c1.data);
  }
  CHECK(checkpoint_parts(v2).header["__metadata__"]["format_version"] == std::to_string(bnlab::kCheckpointVersion));

  const Run resume = run_bnlab("train --resume " + ck + " --epochs 3 --quiet --json " + (dir / "resumed.json"), dir);
  REQUIRE(resume.status == 0);
  const json with_rates = without_times(read_json(dir / "resumed.json"));
  CHECK(with_rates["runs"][0]["epochs"][1]["lr"].is_null());  // stored by the old bnlab: unknown
  CHECK(with_rates["runs"][0]["epochs"][2]["lr"] == 0.001);   // trained now
  CHECK(with_rates["runs"][0]["epochs"][1]["train_loss_std"].is_null());
  CHECK(with_rates["runs"][0]["epochs"][2]["train_loss_std"].get<double>() > 0);
  // The stored document predates runs[].status and the schedule's fields (added since; the rest
  // must not change).
  CHECK(with_rates["runs"][0]["status"] == "finished");
  json resumed = without_schedule_fields(with_rates);
  resumed["runs"][0].erase("status");
  CHECK(near_json(resumed, read_json(data + "format1-batchnorm.resumed-to-3.json"), 1e-5));
  CHECK(checkpoint_parts(ck).header["__metadata__"]["format_version"] == std::to_string(bnlab::kCheckpointVersion));

  REQUIRE(run_bnlab("train --resume " + v2 + " --epochs 3 --quiet --json " + (dir / "resumed-v2.json"), dir).status == 0);
  json resumed_v2 = without_schedule_fields(without_times(read_json(dir / "resumed-v2.json")));
  resumed_v2["runs"][0].erase("status");
  CHECK(resumed_v2 == resumed);
}

// End-to-end tests of the `bnlab` binary: run it as a user would, with stdout and stderr captured
// to files, and check what it prints, what it writes, and its exit status. Every training run uses
// the generated synthetic dataset and a few epochs, so each takes well under a second.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "cli_test_support.hpp"

using namespace bnlab::test;

namespace {

bool is_fraction(const json& v) { return v.is_number() && v.get<double>() >= 0 && v.get<double>() <= 1; }

// A number as the progress lines and tables print it: "0.4123" (4 decimals), "-" for null.
std::string f4(const json& v) {
  if (v.is_null()) return "-";
  char s[64];
  std::snprintf(s, sizeof s, "%.4f", v.get<double>());
  return s;
}

// The time per step of an epoch entry as the epoch line prints it: "2.13 ms/step", "41.2 ms/step".
std::string ms_per_step(const json& e) {
  const double ms = 1000 * e["seconds"].get<double>() / e["steps"].get<double>();
  char s[64];
  std::snprintf(s, sizeof s, "%.*f ms/step", ms < 10 ? 2 : ms < 100 ? 1 : 0, ms);
  return s;
}

void check_metrics_run(const json& run, const std::string& name, const std::string& norm, int epochs) {
  CAPTURE(name);
  CHECK(run["name"] == name);
  const json& c = run["config"];
  CHECK(c["dataset"] == "synthetic");
  CHECK(c["model"] == "20-128-64-4");
  CHECK(c["preset"] == name);
  CHECK(c["norm"] == norm);
  CHECK(c["norm_placement"] == "after_activation");
  CHECK(c["activation"] == "relu");
  CHECK(c["init"] == "glorot_uniform");
  CHECK(c["optimizer"] == "adam");
  CHECK(c["lr"].is_number_float());
  CHECK(c["lr"].get<double>() == doctest::Approx(1e-3));
  CHECK(c["batch_size"] == 32);
  CHECK(c["epochs"] == epochs);
  CHECK(c["seed"] == 0);
  CHECK(c["threads"].is_number_integer());
  CHECK(c["train_size"] == 3200);
  CHECK(c["val_size"] == 800);
  CHECK(c["test_size"] == 1000);

  const json& list = run["epochs"];
  REQUIRE(list.is_array());
  REQUIRE(list.size() == static_cast<size_t>(epochs));
  const size_t hidden_layers = 2;
  const size_t parameters = norm == "batch" ? 10 : 6;  // fc1, fc2, out weight+bias; bn gamma+beta
  for (int i = 0; i < epochs; ++i) {
    const json& e = list[static_cast<size_t>(i)];
    CAPTURE(i);
    CHECK(e["epoch"] == i + 1);
    CHECK(e["train_loss"].is_number());
    CHECK(e["train_loss"].get<double>() > 0);
    CHECK(is_fraction(e["train_acc"]));
    CHECK(e["val_loss"].is_number());
    CHECK(is_fraction(e["val_acc"]));
    CHECK(e["seconds"].get<double>() >= 0);
    CHECK(e["samples_per_second"].get<double>() > 0);
    CHECK(e["steps"] == 100);
    REQUIRE(e["layers"].size() == hidden_layers);
    CHECK(e["layers"][0]["layer"] == "fc1");
    CHECK(e["layers"][1]["std"].is_number());
    REQUIRE(e["grad_norms"].size() == parameters);
    CHECK(e["grad_norms"][0]["parameter"] == "fc1.weight");
    CHECK(e["grad_norms"][0]["mean_norm"].get<double>() > 0);
  }
  CHECK(run["test"]["loss"].get<double>() > 0);
  CHECK(is_fraction(run["test"]["acc"]));
  // A small MLP learns the synthetic problem well within a few epochs.
  CHECK(run["test"]["acc"].get<double>() > 0.8);
  CHECK(run["total_seconds"].get<double>() >= 0);
}

}  // namespace

TEST_CASE("--version, --help and no command") {
  TempDir s;
  const Run v = run_bnlab("--version", s);
  CHECK(v.status == 0);
  CHECK(contains(v.out, "0.1.0"));
  const Run h = run_bnlab("--help", s);
  CHECK(h.status == 0);
  for (const char* command : {"train", "compare", "gradcheck"}) CHECK(contains(h.out, command));
  const Run th = run_bnlab("train --help", s);
  CHECK(th.status == 0);
  CHECK(contains(th.out, "--batch-size"));
  CHECK(contains(th.out, "synthetic"));  // the dataset list
  const Run none = run_bnlab("", s);
  CHECK(none.status == 2);
  CHECK(contains(none.err, "bnlab: error: "));
}

TEST_CASE("train writes the metrics document of docs/metrics.md and the CSV") {
  TempDir s;
  const std::string json_path = s / "run.json", csv_path = s / "run.csv";
  const Run r = run_bnlab("train --dataset synthetic --epochs 3 --json " + json_path + " --csv " + csv_path, s);
  INFO(r.err);
  REQUIRE(r.status == 0);
  const json doc = read_json(json_path);
  CHECK(doc["tool"] == "bnlab");
  CHECK(doc["version"] == "0.1.0");
  CHECK(doc["command"] == "train");
  REQUIRE(doc["runs"].size() == 1);
  check_metrics_run(doc["runs"][0], "batchnorm", "batch", 3);
  CHECK(doc["runs"][0]["status"] == "finished");

  // Everything for people on stderr (not a terminal: one line per epoch, no bar), stdout empty.
  CHECK(r.out.empty());
  const std::vector<std::string> lines = lines_of(r.err);
  REQUIRE(lines.size() >= 2);
  CHECK(lines[0] == "train batchnorm 20-128-64-4 on synthetic");
  CHECK(lines[1] == "  3200 train / 800 val / 1000 test rows, adam lr 0.001, batch 32, 3 epochs");
  std::vector<std::string> epoch_lines;
  for (const auto& line : lines_of(r.err))
    if (line.rfind("epoch ", 0) == 0) epoch_lines.push_back(line);
  REQUIRE(epoch_lines.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    const json& e = doc["runs"][0]["epochs"][i];
    CAPTURE(epoch_lines[i]);
    CHECK(epoch_lines[i].rfind("epoch " + std::to_string(i + 1) + "/3  train loss " + f4(e["train_loss"]) + " acc " +
                                   f4(e["train_acc"]) + "  val loss " + f4(e["val_loss"]) + " acc " + f4(e["val_acc"]) + "  ",
                               0) == 0);
    CHECK(contains(epoch_lines[i], ms_per_step(e)));
    CHECK(contains(epoch_lines[i], " samples/s"));
    CHECK(contains(epoch_lines[i], "  ETA ") == (i < 2));  // the whole run's; none after the last epoch
  }
  CHECK(contains(r.err, "batchnorm 20-128-64-4: test loss " + f4(doc["runs"][0]["test"]["loss"]) + " acc " +
                            f4(doc["runs"][0]["test"]["acc"])));

  const auto csv = lines_of(read_text(csv_path));
  REQUIRE(csv.size() == 4);
  CHECK(csv[0] == "run,epoch,train_loss,train_acc,val_loss,val_acc,seconds,samples_per_second,train_loss_std");
  CHECK(csv[1].rfind("batchnorm,1,", 0) == 0);
  CHECK(csv[3].rfind("batchnorm,3,", 0) == 0);
  CHECK(!fs::exists(json_path + ".tmp"));
  CHECK(!fs::exists(csv_path + ".tmp"));
}

TEST_CASE("an empty validation split is written as null, and the JSON stays valid") {
  TempDir s;
  const std::string json_path = s / "noval.json";
  const Run r = run_bnlab("train --dataset synthetic --model plain --epochs 1 --val-fraction 0 --quiet --json " + json_path, s);
  INFO(r.err);
  REQUIRE(r.status == 0);
  const json doc = read_json(json_path);
  const json& e = doc["runs"][0]["epochs"][0];
  CHECK(e["val_loss"].is_null());
  CHECK(e["val_acc"].is_null());
  CHECK(doc["runs"][0]["config"]["val_size"] == 0);
  CHECK(doc["runs"][0]["config"]["train_size"] == 4000);
}

TEST_CASE("compare prints both variants side by side and a summary, and writes one run per variant") {
  TempDir s;
  const std::string json_path = s / "compare.json";
  const Run r = run_bnlab("compare --dataset synthetic --epochs 2 --json " + json_path, s);
  INFO(r.err);
  INFO(r.out);
  REQUIRE(r.status == 0);
  const json doc = read_json(json_path);
  CHECK(doc["command"] == "compare");
  REQUIRE(doc["runs"].size() == 2);
  check_metrics_run(doc["runs"][0], "plain", "none", 2);
  check_metrics_run(doc["runs"][1], "batchnorm", "batch", 2);
  for (const json& run : doc["runs"]) CHECK(run["status"] == "finished");

  // All of it on stderr, as train's; nothing on stdout. The settings in two short lines.
  CHECK(r.out.empty());
  const std::vector<std::string> lines = lines_of(r.err);
  REQUIRE(lines.size() >= 7);
  CHECK(lines[0] == "compare plain vs batchnorm on synthetic");
  CHECK(lines[1] == "  3200 train / 800 val / 1000 test rows, 20-128-64-4");
  CHECK(lines[2] == "  adam lr 0.001, batch 32, 2 epochs, seed 0");
  CHECK(lines[4] == "epoch |   loss    acc val_loss val_acc      s |   loss    acc val_loss val_acc      s |");
  // One table row per epoch holding both variants' numbers, as the document has them; the ETA of
  // the whole run after every row but the last.
  int rows = 0;
  for (const auto& line : lines) {
    for (int epoch = 1; epoch <= 2; ++epoch) {
      if (line.rfind("    " + std::to_string(epoch) + " |", 0) != 0) continue;
      ++rows;
      CAPTURE(line);
      CHECK(std::count(line.begin(), line.end(), '|') == 3);
      std::string cells;
      for (const json& run : doc["runs"]) {
        const json& e = run["epochs"][epoch - 1];
        cells += " | " + f4(e["train_loss"]) + " " + f4(e["train_acc"]) + "   " + f4(e["val_loss"]) + "  " + f4(e["val_acc"]);
        CHECK(contains(line, cells));
        cells += line.substr(line.find(cells) + cells.size(), 7);  // the seconds
      }
      CHECK(contains(line, "  ETA ") == (epoch == 1));
    }
  }
  CHECK(rows == 2);
  // The summary: each variant's test score, and the difference.
  const json& plain = doc["runs"][0]["test"];
  const json& bn = doc["runs"][1]["test"];
  CHECK(contains(r.err, "batchnorm - plain"));
  std::string acc_row;
  for (const auto& line : lines)
    if (line.rfind("test acc ", 0) == 0) acc_row = line;
  CAPTURE(acc_row);
  CHECK(contains(acc_row, f4(plain["acc"])));
  CHECK(contains(acc_row, f4(bn["acc"])));
  CHECK(contains(r.err, "first epoch val acc >= 0.85"));
  CHECK(contains(r.err, "mean s/epoch"));
  for (const auto& line : lines) CHECK(line.size() <= 100);
}

TEST_CASE("compare --variants picks the models") {
  TempDir s;
  const std::string json_path = s / "three.json";
  const Run r = run_bnlab("compare --dataset synthetic --epochs 1 --variants plain,batchnorm,layernorm --json " + json_path, s);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.err, "layernorm - plain"));
  // Three full groups would not fit 100 columns: the compact ones (accuracies and seconds).
  const std::vector<std::string> lines = lines_of(r.err);
  REQUIRE(lines.size() >= 5);
  CHECK(lines[4] == "epoch |    acc val_acc      s |    acc val_acc      s |    acc val_acc      s |");
  for (const auto& line : lines) CHECK(line.size() <= 100);
  const json doc = read_json(json_path);
  REQUIRE(doc["runs"].size() == 3);
  CHECK(doc["runs"][2]["config"]["norm"] == "layer");
}

TEST_CASE("the same seed twice gives the same metrics apart from times") {
  TempDir s;
  const std::string a = s / "a.json", b = s / "b.json", c = s / "c.json";
  const std::string common = "compare --dataset synthetic --epochs 2 --quiet --json ";
  REQUIRE(run_bnlab(common + a, s).status == 0);
  REQUIRE(run_bnlab(common + b, s).status == 0);
  CHECK(without_times(read_json(a)) == without_times(read_json(b)));
  // ...and another seed gives other numbers (so the comparison above is not vacuous).
  REQUIRE(run_bnlab(common + c + " --seed 1", s).status == 0);
  CHECK(without_times(read_json(a))["runs"][0]["epochs"] != without_times(read_json(c))["runs"][0]["epochs"]);
}

TEST_CASE("--quiet prints no per-epoch lines") {
  TempDir s;
  // Only the result: train's test score, compare's summary (on stderr, stdout stays empty).
  const Run t = run_bnlab("train --dataset synthetic --epochs 2 --quiet", s);
  REQUIRE(t.status == 0);
  CHECK(t.out.empty());
  REQUIRE(lines_of(t.err).size() == 1);
  CHECK(lines_of(t.err)[0].rfind("batchnorm 20-128-64-4: test loss ", 0) == 0);
  const Run c = run_bnlab("compare --dataset synthetic --epochs 2 --quiet", s);
  REQUIRE(c.status == 0);
  CHECK(c.out.empty());
  for (const auto& line : lines_of(c.err)) {
    CHECK(line.rfind("    1 |", 0) != 0);
    CHECK(line.rfind("compare ", 0) != 0);
  }
  CHECK(contains(c.err, "test acc"));
}

TEST_CASE("bad usage: exit status 2, one line on stderr naming the flag, no output file") {
  struct Case {
    std::string args;
    std::string names;  // what the message must mention
  };
  const std::vector<Case> cases = {
      {"train --dataset synthetic --no-such-flag", "--no-such-flag"},
      {"train --dataset synthetic --batch-size 0", "--batch-size"},
      {"train --dataset synthetic --batch-size -3", "--batch-size"},
      {"train --dataset synthetic --batch-size 5000", "--batch-size 5000"},
      {"train --dataset synthetic --lr -1", "--lr"},
      {"train --dataset synthetic --lr nan", "--lr"},
      {"train --dataset synthetic --epochs 0", "--epochs"},
      {"train --dataset nope", "nope"},
      {"train --dataset synthetic --model nope", "--model"},
      {"train --dataset synthetic --activation swish", "--activation"},
      {"train --dataset synthetic --hidden 16,0", "--hidden"},
      {"train --dataset synthetic --dropout 1", "--dropout"},
      {"train --dataset synthetic --val-fraction 1.5", "--val-fraction"},
      {"compare --dataset synthetic --batch-size 0", "--batch-size"},
      {"compare --dataset synthetic --variants plain,nope", "--variants"},
      {"compare --dataset synthetic --norm batch", "--norm"},
      {"bogus", "bogus"},
  };
  TempDir s;
  const std::string json_path = s / "bad.json";
  for (const Case& c : cases) {
    CAPTURE(c.args);
    const Run r = run_bnlab(c.args + " --json " + json_path, s);
    CAPTURE(r.err);
    CHECK(r.status == 2);
    const auto lines = lines_of(r.err);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].rfind("bnlab: error: ", 0) == 0);
    CHECK(contains(lines[0], c.names));
    CHECK(!fs::exists(json_path));
    CHECK(!fs::exists(json_path + ".tmp"));
  }

  // A directory that does not exist is found before any training starts.
  const Run r = run_bnlab("train --dataset synthetic --json /no/such/dir/x.json", s);
  CHECK(r.status == 2);
  REQUIRE(lines_of(r.err).size() == 1);
  CHECK(contains(r.err, "--json /no/such/dir/x.json"));
  CHECK(!contains(r.err, "epoch "));
  const Run csv = run_bnlab("train --dataset synthetic --csv /no/such/dir/x.csv", s);
  CHECK(csv.status == 2);
  CHECK(contains(csv.err, "--csv"));
}

TEST_CASE("a failure while training: exit status 1, one line; the metrics say it diverged") {
  TempDir s;
  const std::string json_path = s / "diverged.json";
  // A learning rate this large sends the loss to infinity within a few steps.
  const Run r = run_bnlab("train --dataset synthetic --model plain --optimizer sgd --lr 1e30 --epochs 2 --json " + json_path, s);
  CAPTURE(r.err);
  CHECK(r.status == 1);
  const auto lines = lines_of(r.err);
  REQUIRE(!lines.empty());
  CHECK(lines.back().rfind("bnlab: error: ", 0) == 0);
  CHECK(contains(lines.back(), "non-finite"));
  // The metrics say how far it got: diverged in its first epoch, the error, no test score.
  const json diverged = read_json(json_path);
  const json& run = diverged["runs"][0];
  CHECK(run["status"] == "diverged");
  CHECK(lines.back().rfind("bnlab: error: " + run["error"].get<std::string>() + " (try a smaller --lr", 0) == 0);
  CHECK(contains(run["error"].get<std::string>(), "non-finite training loss at epoch 1, step "));
  CHECK(run["epochs"].empty());
  CHECK(!run.contains("test"));
  CHECK(!fs::exists(json_path + ".tmp"));

  // With --on-nonfinite skip the run finishes and the metrics count the skipped steps.
  const Run skip = run_bnlab("train --dataset synthetic --model plain --optimizer sgd --lr 1e30 --epochs 1 --quiet "
                         "--on-nonfinite skip --json " + json_path, s);
  CAPTURE(skip.err);
  REQUIRE(skip.status == 0);
  const json doc = read_json(json_path);
  CHECK(doc["runs"][0]["config"]["on_nonfinite"] == "skip");
  CHECK(doc["runs"][0]["epochs"][0]["skipped_steps"].get<int64_t>() > 0);
}

TEST_CASE("gradcheck of a small batch-norm model passes; an impossible tolerance fails with status 1") {
  TempDir s;
  const std::string model = "gradcheck --model batchnorm --inputs 20 --hidden 8,6 --classes 4 --batch-size 8";
  const Run pass = run_bnlab(model, s);
  INFO(pass.out);
  INFO(pass.err);
  CHECK(pass.status == 0);
  CHECK(pass.out.empty());  // the table is text for people: stderr
  CHECK(contains(pass.err, "PASS"));
  CHECK(contains(pass.err, "bn1.gamma"));
  CHECK(contains(pass.err, "max rel error"));
  CHECK(contains(pass.err, "train mode, 1 thread\n"));

  const Run fail = run_bnlab(model + " --tolerance 1e-300", s);
  CHECK(fail.status == 1);
  CHECK(contains(fail.err, "FAIL"));

  // A subset of each tensor's elements when asked.
  const Run subset = run_bnlab(model + " --max-elements 5", s);
  CHECK(subset.status == 0);
  CHECK(contains(subset.err, "5/160"));

  // Every mode, and 2 threads on layers of 40 features (batch norm splits its features at 16 per
  // part, so the split is crossed); --quiet leaves the verdict line alone.
  for (const std::string mode : {"train", "eval", "eval-batch-stats"}) {
    CAPTURE(mode);
    const Run m = run_bnlab("gradcheck --model batchnorm --inputs 12 --hidden 40,40 --classes 3 --batch-size 6 --max-elements 40 "
                            "--threads 2 --quiet --mode " + mode, s);
    CHECK(m.status == 0);
    CHECK(m.out.empty());
    REQUIRE(lines_of(m.err).size() == 1);
    CHECK(lines_of(m.err)[0].rfind("PASS: max relative error ", 0) == 0);
  }
  const Run shown = run_bnlab(model + " --mode eval --threads 2", s);
  CHECK(shown.status == 0);
  CHECK(contains(shown.err, "double precision, eval mode, 2 threads\n"));
  check_error(run_bnlab(model + " --mode evl", s), 2, {"--mode evl: unknown mode; did you mean eval?"});

  const Run bad = run_bnlab("gradcheck --batch-size 1", s);
  CHECK(bad.status == 2);
  CHECK(contains(bad.err, "--batch"));
}

TEST_CASE("--json /dev/stdout and --csv to a pipe: the document follows what bnlab printed, the pipe is read, nothing is replaced") {
  TempDir dir;
  // stdout a regular file: it holds the document alone, once (not rewritten per epoch), the text
  // is on stderr.
  const Run r = run_bnlab("train --dataset synthetic --limit-train 400 --epochs 3 --json /dev/stdout", dir);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(contains(r.err, ": test loss "));
  const json doc = json::parse(r.out);
  CHECK(doc["command"] == "train");
  CHECK(doc["runs"][0]["status"] == "finished");
  CHECK(doc["runs"][0]["epochs"].size() == 3);
  // A pipe: `--csv /dev/stdout | cat` as a shell user writes it.
  const Run piped = run_shell("sh -c '" + std::string(BNLAB_TOOL_PATH) +
                                  " train --dataset synthetic --limit-train 400 --epochs 1 --quiet --csv /dev/stdout | cat'",
                              dir);
  REQUIRE_MESSAGE(piped.status == 0, piped.err);
  CHECK(contains(piped.out, "run,epoch,"));
  CHECK(fs::is_character_file("/dev/null"));
}

// Data-parallel training under mpirun, end to end (the bnlab binary as 2 or 3 ranks on this machine):
// N ranks with synchronized batch norm train the model one process trains (20 steps, parameters and
// running statistics within 1e-5 relative), for the MLP and the CNN and for a global batch that N
// does not divide; local statistics train another model; runs are deterministic; resume needs the
// same rank count; a rank that fails or is killed ends the job with one clear message and no
// half-written output. The trainer's arithmetic is tested on threads in test_data_parallel.cpp.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <thread>

#include "cli_test_support.hpp"

using namespace bnlab::test;

namespace {

// `mpirun -np N bnlab <args>`, or bnlab alone for N = 0 (not -q: the killed-rank case reads mpirun's
// notice).
Run run_ranks(int ranks, const std::string& args, const TempDir& dir) {
  if (ranks == 0) return run_bnlab(args, dir);
  return run_shell(std::string(BNLAB_MPIRUN) + " --allow-run-as-root --oversubscribe -np " + std::to_string(ranks) + " " +
                       BNLAB_TOOL_PATH + " " + args,
                   dir);
}

// bnlab's own lines on stderr (mpirun adds its banners after a rank fails).
std::vector<std::string> bnlab_lines(const std::string& err) {
  std::vector<std::string> out;
  for (const std::string& l : lines_of(err))
    if (l.rfind("bnlab", 0) == 0) out.push_back(l);
  return out;
}

// The tensors of a checkpoint (parameters, running statistics, Adam's moments) as floats.
std::vector<float> tensors_of(const std::string& path) {
  const CheckpointParts p = checkpoint_parts(path);
  std::vector<float> v(p.data.size() / sizeof(float));
  std::memcpy(v.data(), p.data.data(), v.size() * sizeof(float));
  return v;
}

double relative_difference(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double diff = 0, norm = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    norm += static_cast<double>(b[i]) * b[i];
  }
  return std::sqrt(diff / norm);
}

// 640 training rows: one epoch is 20 steps of 32.
const std::string kTwentySteps = "--dataset synthetic --limit-train 800 --epochs 1 --quiet";

}  // namespace

TEST_CASE("2 and 3 ranks with sync statistics train the MLP one process trains, after 20 steps") {
  TempDir dir;
  for (const char* model : {"batchnorm", "plain"}) {
    CAPTURE(model);
    const std::string args = "train " + kTwentySteps + " --model " + model + " --checkpoint ";
    const Run alone = run_ranks(0, args + (dir / "alone.safetensors") + " --json " + (dir / "alone.json"), dir);
    REQUIRE_MESSAGE(alone.status == 0, alone.err);
    for (int ranks : {2, 3}) {  // the global batch of 32: 16 + 16, or 11 + 11 + 10 rows
      CAPTURE(ranks);
      const std::string ck = dir / ("ranks" + std::to_string(ranks) + ".safetensors");
      const std::string js = dir / ("ranks" + std::to_string(ranks) + ".json");
      const Run r = run_ranks(ranks, args + ck + " --json " + js + " --data-parallel --bn-stats sync", dir);
      REQUIRE_MESSAGE(r.status == 0, r.err);
      CHECK(relative_difference(tensors_of(ck), tensors_of(dir / "alone.safetensors")) < 1e-5);
      const json a = read_json(dir / "alone.json")["runs"][0], b = read_json(js)["runs"][0];
      CHECK(b["epochs"][0]["steps"] == 20);
      CHECK(b["epochs"][0]["train_loss"].get<double>() == doctest::Approx(a["epochs"][0]["train_loss"].get<double>()).epsilon(1e-5));
      CHECK(b["test"]["acc"] == a["test"]["acc"]);
      CHECK(b["config"]["data_parallel"] == json{{"workers", ranks}, {"bn_stats", "sync"}});
      CHECK_FALSE(a["config"].contains("data_parallel"));
    }
  }
}

TEST_CASE("2 ranks with sync statistics train a CNN (spatial batch norm) one process trains, after 20 steps") {
  TempDir dir;
  // The synthetic rows' 20 values as a 4×5×1 image.
  std::ofstream(dir / "cnn.json") << R"({"input_shape": [4, 5, 1], "classes": 4, "layers": [
    {"kind": "conv2d", "filters": 8, "kernel": 3, "padding": "same"}, {"kind": "batch_norm"},
    {"kind": "activation", "activation": "relu"}, {"kind": "max_pool2d", "window": 2},
    {"kind": "flatten"}, {"kind": "dense", "units": 16}, {"kind": "batch_norm"},
    {"kind": "activation", "activation": "relu"}, {"kind": "dense", "units": 4}]})";
  // SGD: with Adam the biases that feed batch norm, whose exact gradient is 0, step by
  // lr·sign(rounding noise) (test_data_parallel.cpp compares a CNN under Adam tensor by tensor).
  const std::string args = "train " + kTwentySteps + " --model-file " + (dir / "cnn.json") + " --optimizer sgd --lr 0.05 --checkpoint ";
  const Run alone = run_ranks(0, args + (dir / "alone.safetensors"), dir);
  REQUIRE_MESSAGE(alone.status == 0, alone.err);
  const Run r = run_ranks(2, args + (dir / "two.safetensors") + " --data-parallel", dir);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(relative_difference(tensors_of(dir / "two.safetensors"), tensors_of(dir / "alone.safetensors")) < 1e-5);
}

TEST_CASE("local statistics train another model than sync; both are deterministic for a given rank count") {
  TempDir dir;
  const std::string args = "train " + kTwentySteps + " --model batchnorm --data-parallel --checkpoint ";
  for (const char* stats : {"local", "sync"})
    for (const char* copy : {"a", "b"}) {
      const Run r = run_ranks(2, args + (dir / (std::string(stats) + copy + ".safetensors")) + " --bn-stats " + stats, dir);
      REQUIRE_MESSAGE(r.status == 0, r.err);
    }
  CHECK(tensors_of(dir / "locala.safetensors") == tensors_of(dir / "localb.safetensors"));
  CHECK(tensors_of(dir / "synca.safetensors") == tensors_of(dir / "syncb.safetensors"));
  CHECK(relative_difference(tensors_of(dir / "locala.safetensors"), tensors_of(dir / "synca.safetensors")) > 1e-4);
  // Local statistics are ghost batch norm: one process normalizing each half of every batch alone.
  const Run ghost = run_ranks(0, "train " + kTwentySteps + " --model batchnorm --bn-ghost-batches 2 --checkpoint " + (dir / "ghost.safetensors"), dir);
  REQUIRE_MESSAGE(ghost.status == 0, ghost.err);
  CHECK(relative_difference(tensors_of(dir / "locala.safetensors"), tensors_of(dir / "ghost.safetensors")) < 1e-5);
}

TEST_CASE("a data-parallel run resumes exactly with the same rank count and is refused with another") {
  TempDir dir;
  const std::string base = "train --dataset synthetic --limit-train 800 --model batchnorm --quiet --data-parallel";
  REQUIRE(run_ranks(2, base + " --epochs 2 --checkpoint " + (dir / "whole.safetensors"), dir).status == 0);
  REQUIRE(run_ranks(2, base + " --epochs 1 --checkpoint " + (dir / "part.safetensors"), dir).status == 0);
  const Run other = run_ranks(0, "train --resume " + (dir / "part.safetensors") + " --epochs 2", dir);
  CHECK(other.status == 2);
  CHECK(bnlab_lines(other.err) ==
        std::vector<std::string>{"bnlab: error: " + (dir / "part.safetensors") + " was trained by 2 data-parallel ranks: resume it as 2 ranks "
                                 "(mpirun -np 2 bnlab train --resume " + (dir / "part.safetensors") +
                                 " --data-parallel); with one process the global batches would be divided into other shares"});
  const Run three = run_ranks(3, "train --resume " + (dir / "part.safetensors") + " --epochs 2 --data-parallel", dir);
  CHECK(three.status == 2);
  CHECK(contains(three.err, "with 3 ranks the global batches would be divided into other shares"));
  const Run resumed = run_ranks(2, "train --resume " + (dir / "part.safetensors") + " --epochs 2 --data-parallel --quiet", dir);
  REQUIRE_MESSAGE(resumed.status == 0, resumed.err);
  CHECK(tensors_of(dir / "part.safetensors") == tensors_of(dir / "whole.safetensors"));
}

TEST_CASE("under mpirun, train without --data-parallel and --bn-stats without it are refused once") {
  TempDir dir;
  const Run r = run_ranks(2, "train " + kTwentySteps, dir);
  CHECK(r.status == 2);
  CHECK(bnlab_lines(r.err) == std::vector<std::string>{
                                  "bnlab: error: bnlab train runs as 2 mpirun ranks only with --data-parallel (otherwise every "
                                  "rank would train the same model alone and write the same files)"});
  check_error(run_bnlab("train " + kTwentySteps + " --bn-stats local", dir), 2,
              {"--bn-stats local: chooses how data-parallel ranks share batch-norm statistics, so it needs --data-parallel"});
  check_error(run_bnlab("train " + kTwentySteps + " --data-parallel --bn-stats global", dir), 2,
              {"--bn-stats: unknown batch-norm statistics 'global'; did you mean local? (known: sync, local)"});
}

TEST_CASE("a rank whose data are missing or differ stops every rank with one line naming it") {
  TempDir dir;
  write_mnist_like(dir.path().string(), {.train = 100, .test = 20, .side = 4});
  const std::string mpirun = std::string(BNLAB_MPIRUN) + " --allow-run-as-root --oversubscribe ";
  const std::string args = " train --dataset mnist --model plain --epochs 1 --data-parallel --json " + (dir / "m.json");
  const std::string out = dir / "out.txt", err = dir / "err.txt";
  // MPMD: rank 1 alone gets another --data-parallel folder.
  const std::string command = mpirun + "-np 1 " + BNLAB_TOOL_PATH + args + " --data-dir " + dir.path().string() + " : -np 1 " +
                              BNLAB_TOOL_PATH + args + " --data-dir " + (dir / "missing") + " >" + out + " 2>" + err;
  const int raw = std::system(command.c_str());
  CHECK(WEXITSTATUS(raw) == 2);
  const std::vector<std::string> lines = bnlab_lines(read_text(err));
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].rfind("bnlab: error: rank 1 on ", 0) == 0);
  CHECK(contains(lines[0], dir / "missing"));
  CHECK_FALSE(fs::exists(dir / "m.json"));

  // The same files with another --limit-train on rank 1: it loads other rows.
  const std::string differ = mpirun + "-np 1 " + BNLAB_TOOL_PATH + args + " --data-dir " + dir.path().string() + " : -np 1 " +
                             BNLAB_TOOL_PATH + args + " --data-dir " + dir.path().string() + " --limit-train 50 >" + out + " 2>" + err;
  CHECK(WEXITSTATUS(std::system(differ.c_str())) == 2);
  const std::vector<std::string> differ_lines = bnlab_lines(read_text(err));
  REQUIRE(differ_lines.size() == 1);
  CHECK(contains(differ_lines[0], "rank 1 on "));
  CHECK(contains(differ_lines[0], "differ from rank 0's: every rank must read the same files"));
  CHECK_FALSE(fs::exists(dir / "m.json"));
}

TEST_CASE("a killed rank ends the job within seconds, and no output is half-written") {
  TempDir dir;
  const std::string out = dir / "out.txt", err = dir / "err.txt";
  // Long enough to be killed while it trains (fashion-mnist would need the Debian package; synthetic
  // with many epochs is always there).
  const std::string command = std::string(BNLAB_MPIRUN) + " --allow-run-as-root --oversubscribe -np 2 " + BNLAB_TOOL_PATH +
                              " train --dataset synthetic --model batchnorm --epochs 100000 --data-parallel --quiet --json " +
                              (dir / "m.json") + " --checkpoint " + (dir / "c.safetensors") + " >" + out + " 2>" + err +
                              " & echo $! > " + (dir / "pid");
  REQUIRE(std::system(command.c_str()) == 0);
  // Wait until the ranks train (a checkpoint of the first epoch exists), then kill rank 1.
  for (int i = 0; i < 200 && !fs::exists(dir / "c.safetensors"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(fs::exists(dir / "c.safetensors"));
  const std::string mpirun_pid = lines_of(read_text(dir / "pid")).at(0);
  const std::string ranks = dir / "ranks";
  REQUIRE(std::system(("pgrep -P " + mpirun_pid + " > " + ranks).c_str()) == 0);
  const std::vector<std::string> pids = lines_of(read_text(ranks));
  REQUIRE(pids.size() == 2);
  const auto start = std::chrono::steady_clock::now();
  ::kill(std::stoi(pids[1]), SIGKILL);
  bool ended = false;
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(20)) {
    if (::kill(std::stoi(mpirun_pid), 0) != 0) {
      ended = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(ended);
  if (!ended) ::kill(std::stoi(mpirun_pid), SIGKILL);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
  CHECK(contains(read_text(err), "exited on signal 9"));
  // The live metrics of the epochs done: whole, and still "running" (no rank lived to say otherwise).
  const json live = read_json(dir / "m.json");
  CHECK(live["runs"][0]["status"] == "running");
  CHECK(live["runs"][0]["epochs"].size() >= 1);
  CHECK(leftover_tmp_files(dir.path()).empty());
  // The last complete checkpoint is still a valid one.
  CHECK(run_bnlab("eval --checkpoint " + (dir / "c.safetensors"), dir).status == 0);
}

TEST_CASE("Ctrl-C to mpirun stops every rank after the same step; rank 0 saves the last epoch and says how to resume") {
  TempDir dir;
  const std::string out = dir / "out.txt", err = dir / "err.txt", ck = dir / "c.safetensors";
  const std::string command = std::string(BNLAB_MPIRUN) + " --allow-run-as-root --oversubscribe -np 2 " + BNLAB_TOOL_PATH +
                              " train --dataset synthetic --model batchnorm --epochs 100000 --data-parallel --quiet --checkpoint " +
                              ck + " >" + out + " 2>" + err + " & echo $! > " + (dir / "pid");
  REQUIRE(std::system(command.c_str()) == 0);
  for (int i = 0; i < 200 && !fs::exists(ck); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(fs::exists(ck));
  const int mpirun_pid = std::stoi(lines_of(read_text(dir / "pid")).at(0));
  ::kill(mpirun_pid, SIGINT);
  for (int i = 0; i < 400 && ::kill(mpirun_pid, 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(::kill(mpirun_pid, 0) != 0);
  const std::vector<std::string> lines = bnlab_lines(read_text(err));
  REQUIRE(lines.size() == 1);  // rank 0 alone reports
  CHECK(contains(lines[0], "completed epochs to " + ck));
  CHECK(contains(lines[0], "resume with: mpirun -np 2 bnlab train --resume " + ck + " --data-parallel"));
  // The saved epochs ("saved 3 completed epochs") resume as 2 ranks, for one more.
  const size_t at = lines[0].find("saved ") + 6;
  const int done = std::stoi(lines[0].substr(at));
  const Run resumed = run_ranks(2, "train --resume " + ck + " --data-parallel --quiet --epochs " + std::to_string(done + 1), dir);
  CHECK_MESSAGE(resumed.status == 0, resumed.err);
}

TEST_CASE("compare --data-parallel: rank 0 alone prints the table and writes the metrics, both variants data-parallel") {
  TempDir dir;
  const std::string args = "compare --dataset synthetic --limit-train 800 --epochs 2 --json " + (dir / "m.json");
  const Run alone = run_ranks(0, args, dir);
  REQUIRE_MESSAGE(alone.status == 0, alone.err);
  const json one = read_json(dir / "m.json");
  const Run r = run_ranks(2, args + " --data-parallel", dir);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  const json two = read_json(dir / "m.json");
  // One table: the header line once, one row per epoch.
  size_t headers = 0;
  for (const std::string& l : lines_of(r.err)) headers += l.rfind("compare plain vs batchnorm", 0) == 0;
  CHECK(headers == 1);
  CHECK(contains(r.err, "2 data-parallel ranks (batch-norm statistics sync)"));
  CHECK(r.out.empty());
  REQUIRE(two["runs"].size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    CHECK(two["runs"][i]["config"]["data_parallel"] == json{{"workers", 2}, {"bn_stats", "sync"}});
    CHECK(two["runs"][i]["epochs"][0]["train_loss"].get<double>() ==
          doctest::Approx(one["runs"][i]["epochs"][0]["train_loss"].get<double>()).epsilon(1e-5));
  }
}

TEST_CASE("a diverging data-parallel run stops every rank at the same step; rank 0 alone says where") {
  TempDir dir;
  const Run r = run_ranks(2, "train " + kTwentySteps + " --model plain --lr 1e30 --data-parallel --json " + (dir / "m.json"), dir);
  CHECK(r.status == 1);
  const std::vector<std::string> lines = bnlab_lines(r.err);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].rfind("bnlab: error: non-finite ", 0) == 0);
  CHECK(contains(lines[0], "at epoch 1, step "));
  CHECK_FALSE(contains(r.err, "MPI_ABORT"));
}

// Times whole training epochs of the reference experiment and prints one JSON line per measured
// epoch — the bnlab side of benchmarks/compare_frameworks.py (torch_models.py and
// libtorch_models.cpp print the same lines).
//
//   build/benchmarks/bnlab_epoch --variant batchnorm --batch 32 --threads 1 --epochs 3
//   {"framework":"bnlab","engine":"trainer","variant":"batchnorm","batch":32,"threads":1,"epoch":1,"epoch_seconds":0.61,…}
//
// --variant plain|batchnorm          the 784-128-64-10 MLP presets (default plain)
// --variant cnn-plain|cnn-batchnorm  the reference CNN presets (models/cnn.hpp) on [28,28,1] images;
//                   trainer engine only.
// --engine trainer  Trainer::train_epoch (what `bnlab train` runs), per-layer internals off, empty
//                   validation split: shuffle, gather into the input slot, step. (default)
// --engine session  the same loop written out over Session + Optimizer + BatchOrder (MLP only).
// --engine floor    the hand-written raw-Eigen epoch of benchmarks/floor_mlp.hpp (plain only,
//                   always one thread whatever --threads says).
// --threads N       bnlab's thread count (TrainConfig::threads / SessionOptions::threads).
// --data synthetic  48,000 (--samples) rows of 784 features uniform in [0,1), uniform labels (default);
//                   for a CNN the same rows as images [28,28,1] (Dataset::shape)
// --data fashion-mnist  the real training split (48,000 rows after the 20% validation split).
// --warmup N        untimed epochs first (default 1).
// epoch_seconds is wall time; cpu_seconds the process's CPU time over the same epoch (all threads),
// steadier than wall time on a shared machine.
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <string>

#include "bench_common.hpp"
#include "data/registry.hpp"
#include "floor_mlp.hpp"
#include "train/trainer.hpp"

namespace {

struct Args {
  std::string engine = "trainer";
  std::string variant = "plain";
  std::string data = "synthetic";
  int64_t batch = 32;
  int threads = 1;
  int epochs = 3;
  int warmup = 1;
  int64_t samples = bench::kEpochSamples;
  uint64_t seed = 0;
};

[[noreturn]] void usage(const std::string& message) {
  std::fprintf(stderr, "bnlab_epoch: %s\n", message.c_str());
  std::fprintf(stderr,
               "usage: bnlab_epoch [--engine trainer|session|floor] [--variant plain|batchnorm|cnn-plain|cnn-batchnorm]\n"
               "                   [--batch N] [--threads N] [--epochs N] [--warmup N] [--samples N]\n"
               "                   [--data synthetic|fashion-mnist] [--seed N]\n"
               "the CNN variants run on the trainer engine only; floor is plain only\n");
  std::exit(2);
}

int64_t integer(const std::string& flag, const char* value, int64_t min) {
  char* end = nullptr;
  const long long v = std::strtoll(value, &end, 10);
  if (end == value || *end != '\0' || v < min) usage(flag + " needs an integer >= " + std::to_string(min) + ", got '" + value + "'");
  return v;
}

bool is_cnn(const std::string& variant) { return variant.rfind("cnn-", 0) == 0; }

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) usage(flag + " needs a value");
    const char* v = argv[++i];
    if (flag == "--engine") a.engine = v;
    else if (flag == "--variant") a.variant = v;
    else if (flag == "--data") a.data = v;
    else if (flag == "--batch") a.batch = integer(flag, v, 1);
    else if (flag == "--threads") a.threads = static_cast<int>(integer(flag, v, 1));
    else if (flag == "--epochs") a.epochs = static_cast<int>(integer(flag, v, 1));
    else if (flag == "--warmup") a.warmup = static_cast<int>(integer(flag, v, 0));
    else if (flag == "--samples") a.samples = integer(flag, v, 2);
    else if (flag == "--seed") a.seed = static_cast<uint64_t>(integer(flag, v, 0));
    else usage("unknown flag " + flag);
  }
  if (a.engine != "trainer" && a.engine != "session" && a.engine != "floor") usage("--engine must be trainer, session or floor");
  if (a.variant != "plain" && a.variant != "batchnorm" && a.variant != "cnn-plain" && a.variant != "cnn-batchnorm")
    usage("--variant must be plain, batchnorm, cnn-plain or cnn-batchnorm");
  if (is_cnn(a.variant) && a.engine != "trainer") usage("the CNN variants run on the trainer engine only");
  if (a.engine == "floor" && a.variant != "plain") usage("the floor engine has the plain variant only");
  if (a.data != "synthetic" && a.data != "fashion-mnist") usage("--data must be synthetic or fashion-mnist");
  return a;
}

using Clock = std::chrono::steady_clock;

}  // namespace

int main(int argc, char** argv) try {
  const Args a = parse(argc, argv);
  bnlab::data::Splits splits;
  if (a.data == "synthetic") {
    splits.train = bench::synthetic_images(a.samples);
    if (is_cnn(a.variant)) splits.train.shape = {28, 28, 1};  // the same rows, as images (channels last)
  } else {
    splits = bnlab::data::load("fashion-mnist", {.val_fraction = 0.2, .seed = a.seed});  // IDX: [28,28,1]
  }
  splits.val = {};
  splits.test = {};
  const bnlab::data::Dataset& train = splits.train;

  // Each engine is one epoch function; the clock measures it whole (shuffle included).
  std::function<double()> run_epoch;
  std::unique_ptr<bnlab::Trainer> trainer;
  std::unique_ptr<bench::BnlabModel> model;
  std::unique_ptr<bench::FloorMlp> floor;
  std::unique_ptr<bnlab::data::BatchOrder> order;
  int64_t epoch = 0;
  if (a.engine == "trainer") {
    bnlab::TrainConfig config;
    config.model = a.variant;
    config.batch_size = a.batch;
    config.optimizer = bench::reference_adam();
    config.seed = a.seed;
    config.threads = a.threads;
    config.record_internals = false;
    trainer = std::make_unique<bnlab::Trainer>(bnlab::preset_spec(a.variant, train.sample_shape(), bench::kClasses), config, splits);
    run_epoch = [&] { return trainer->train_epoch().train_loss; };
  } else {
    order = std::make_unique<bnlab::data::BatchOrder>(train.size(), a.batch, false, a.seed);
    if (a.engine == "session") {
      model = std::make_unique<bench::BnlabModel>(a.variant, a.batch, a.seed, a.threads);
      run_epoch = [&] { order->reshuffle(epoch++); return static_cast<double>(model->epoch(train, *order)); };
    } else {
      floor = std::make_unique<bench::FloorMlp>(a.batch, a.seed);
      run_epoch = [&] { order->reshuffle(epoch++); return static_cast<double>(floor->epoch(train, *order)); };
    }
  }

  const char* framework = a.engine == "floor" ? "floor" : "bnlab";
  for (int e = 0; e < a.warmup + a.epochs; ++e) {
    const auto start = Clock::now();
    const std::clock_t cpu_start = std::clock();
    const double loss = run_epoch();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    const double cpu_seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
    if (e < a.warmup) continue;
    std::printf(
        "{\"framework\":\"%s\",\"engine\":\"%s\",\"variant\":\"%s\",\"batch\":%lld,\"threads\":%d,\"epoch\":%d,"
        "\"epoch_seconds\":%.6f,\"cpu_seconds\":%.6f,\"samples\":%lld,\"data\":\"%s\",\"loss\":%.6f}\n",
        framework, a.engine.c_str(), a.variant.c_str(), static_cast<long long>(a.batch), a.threads, e - a.warmup + 1,
        seconds, cpu_seconds, static_cast<long long>(train.size()), a.data.c_str(), loss);
    std::fflush(stdout);
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bnlab_epoch: %s\n", e.what());
  return 1;
}

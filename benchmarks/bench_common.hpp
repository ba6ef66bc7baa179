// What the benchmarks share: the synthetic data set every epoch runs on, the arithmetic of the
// reference model, and one bnlab training setup (session + Adam) for a preset.
//
//   bnlab::data::Dataset d = bench::synthetic_images(48000);   // 48,000 × 784 in [0,1), 10 classes
//   bench::BnlabModel m("batchnorm", 32);                       // compiled, Adam lr 1e-3 eps 1e-7
//   m.fill_random(7);  m.step();                                // forward(train) + backward + Adam
//   m.epoch(d, order);                                           // gather + step for every batch
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "data/batching.hpp"
#include "data/dataset.hpp"
#include "graph/compile.hpp"
#include "graph/random.hpp"
#include "graph/session.hpp"
#include "models/model.hpp"
#include "models/presets.hpp"
#include "train/optimizer.hpp"

namespace bench {

// Threads of bnlab's sessions in the Google Benchmark suites (SessionOptions::threads): the
// environment variable BNLAB_BENCH_THREADS, default 1. The floor is always single-threaded.
inline const int kBenchThreads = [] {
  const char* s = std::getenv("BNLAB_BENCH_THREADS");
  return s ? std::max(1, std::atoi(s)) : 1;
}();

inline constexpr int64_t kEpochSamples = 48000;  // Fashion-MNIST's training split after 20% validation
inline constexpr int64_t kFeatures = 784;
inline constexpr int32_t kClasses = 10;

// Matrix-product FLOPs of one training sample of 784-128-64-10: forward (3 products), weight
// gradients (3) and input gradients of layers 2 and 3 (the first layer needs none).
inline constexpr double kForwardFlopsPerSample = 2.0 * (784 * 128 + 128 * 64 + 64 * 10);        // 218,368
inline constexpr double kBackwardFlopsPerSample = kForwardFlopsPerSample + 2.0 * (128 * 64 + 64 * 10);  // 236,032
inline constexpr double kFlopsPerSample = kForwardFlopsPerSample + kBackwardFlopsPerSample;     // 454,400

// `rows` samples of 784 features uniform in [0, 1) (like scaled pixels) and uniform labels.
inline bnlab::data::Dataset synthetic_images(int64_t rows, uint64_t seed = 1) {
  bnlab::data::Dataset d;
  d.name = "bench-synthetic";
  d.feature_count = kFeatures;
  d.num_classes = kClasses;
  d.features.resize(static_cast<size_t>(rows * kFeatures));
  d.labels.resize(static_cast<size_t>(rows));
  bnlab::Rng rng(seed);
  for (float& v : d.features) v = static_cast<float>(rng.uniform());
  for (int32_t& y : d.labels) y = static_cast<int32_t>(rng.below(kClasses));
  return d;
}

inline bnlab::OptimizerConfig reference_adam() {
  return {.kind = bnlab::OptimizerKind::adam, .lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-7};
}

// One reference variant compiled for training at `max_batch`, with Adam: what the trainer runs,
// without its metrics.
struct BnlabModel {
  bnlab::Model mlp;
  bnlab::Session session;
  bnlab::Optimizer optimizer;

  BnlabModel(const std::string& preset, int64_t max_batch, uint64_t seed = 0, int threads = kBenchThreads)
      : mlp(bnlab::build_model(bnlab::preset_spec(preset, 784, 10))),
        session(bnlab::compile(mlp.graph, mlp.loss), {.seed = seed, .max_batch = max_batch, .threads = threads}),
        optimizer(reference_adam(), session.parameters()) {
    session.set_batch(max_batch);
  }

  // Random inputs in [0,1) and labels for the current batch (for step benchmarks).
  void fill_random(uint64_t seed) {
    bnlab::Rng rng(seed);
    auto x = session.input(mlp.input).vec();
    for (Eigen::Index i = 0; i < x.size(); ++i) x[i] = static_cast<float>(rng.uniform());
    for (int32_t& y : session.labels(mlp.labels)) y = static_cast<int32_t>(rng.below(kClasses));
  }

  float step() {
    const float loss = session.forward(bnlab::Mode::train);
    session.backward();
    optimizer.step(session.parameters(), session.gradients(), session.pool());
    return loss;
  }

  // One epoch the way the trainer runs it: every batch of `order` gathered straight into the input
  // slot, then a step. Returns the last loss.
  float epoch(const bnlab::data::Dataset& d, const bnlab::data::BatchOrder& order) {
    float loss = 0;
    for (int64_t b = 0; b < order.num_batches(); ++b) {
      const auto rows = order.batch(b);
      session.set_batch(static_cast<int64_t>(rows.size()));
      d.gather(rows, session.input(mlp.input).data, session.labels(mlp.labels).data(), session.pool());
      loss = step();
    }
    return loss;
  }
};

}  // namespace bench

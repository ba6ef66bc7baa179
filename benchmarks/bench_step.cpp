// A whole training step of each reference variant (forward in train mode + backward + Adam), its
// parts, and whole epochs of 48,000 synthetic 784-feature samples, at batch 32, 64, 256, 1024.
//
//   build/benchmarks/bench_step                                  # everything
//   build/benchmarks/bench_step --benchmark_filter='Step/'       # the steps alone
//   build/benchmarks/bench_step --benchmark_filter=Epoch         # seconds per epoch (epoch_s)
//
// Sessions use BNLAB_BENCH_THREADS threads (default 1).
// Counters: items_per_second = samples per second; FLOPS = matrix-product FLOP/s of the step
// (454,400 FLOP per sample, the same count as the floor; 218,368 of them forward, 236,032 backward);
// epoch_s = seconds per epoch. Rates and epoch_s are per CPU second (Google Benchmark's default).
//
// Epoch_*:        gather shuffled rows (BatchOrder + Dataset::gather) into the input slot, step.
// TrainerEpoch_*: Trainer::train_epoch on the same data with an empty validation split; the second
//                 argument says whether per-layer internals are recorded (the CLI's default).
#include <benchmark/benchmark.h>

#include "bench_common.hpp"
#include "train/trainer.hpp"

namespace {

void set_counters(benchmark::State& state, int64_t samples_per_iteration, double flops_per_sample = bench::kFlopsPerSample) {
  const auto samples = static_cast<double>(state.iterations()) * static_cast<double>(samples_per_iteration);
  state.SetItemsProcessed(static_cast<int64_t>(samples));
  state.counters["FLOPS"] = benchmark::Counter(samples * flops_per_sample, benchmark::Counter::kIsRate);
}

void step(benchmark::State& state, const char* preset) {
  const int64_t batch = state.range(0);
  bench::BnlabModel m(preset, batch);
  m.fill_random(7);
  for (auto _ : state) benchmark::DoNotOptimize(m.step());
  set_counters(state, batch);
}

// The parts of a step, each alone: forward(train), backward, Adam's update.
void forward(benchmark::State& state, const char* preset) {
  const int64_t batch = state.range(0);
  bench::BnlabModel m(preset, batch);
  m.fill_random(7);
  for (auto _ : state) benchmark::DoNotOptimize(m.session.forward(bnlab::Mode::train));
  set_counters(state, batch, bench::kForwardFlopsPerSample);
}

void backward(benchmark::State& state, const char* preset) {
  const int64_t batch = state.range(0);
  bench::BnlabModel m(preset, batch);
  m.fill_random(7);
  m.session.forward(bnlab::Mode::train);
  for (auto _ : state) {
    m.session.backward();
    benchmark::ClobberMemory();
  }
  set_counters(state, batch, bench::kBackwardFlopsPerSample);
}

void adam(benchmark::State& state, const char* preset) {
  bench::BnlabModel m(preset, 32);
  for (auto _ : state) {
    m.optimizer.step(m.session.parameters(), m.session.gradients(), m.session.pool());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(m.session.parameters().data.size()));
}

const bnlab::data::Dataset& epoch_data() {
  static const bnlab::data::Dataset d = bench::synthetic_images(bench::kEpochSamples);
  return d;
}

// The data path alone: one epoch of shuffled batches gathered into the input slot.
void BM_Gather(benchmark::State& state) {
  const int64_t batch = state.range(0);
  const auto& d = epoch_data();
  bench::BnlabModel m("plain", batch);
  bnlab::data::BatchOrder order(d.size(), batch, false, 0);
  for (auto _ : state) {
    for (int64_t b = 0; b < order.num_batches(); ++b) {
      const auto rows = order.batch(b);
      m.session.set_batch(static_cast<int64_t>(rows.size()));
      d.gather(rows, m.session.input(m.mlp.input).data, m.session.labels(m.mlp.labels).data(), m.session.pool());
    }
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * d.size());
  state.counters["epoch_s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                 benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void epoch(benchmark::State& state, const char* preset) {
  const int64_t batch = state.range(0);
  const auto& d = epoch_data();
  bench::BnlabModel m(preset, batch);
  bnlab::data::BatchOrder order(d.size(), batch, false, 0);
  int64_t e = 0;
  for (auto _ : state) {
    order.reshuffle(e++);
    benchmark::DoNotOptimize(m.epoch(d, order));
  }
  set_counters(state, d.size());
  state.counters["epoch_s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                 benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void trainer_epoch(benchmark::State& state, const char* preset) {
  static const bnlab::data::Splits splits{epoch_data(), {}, {}};
  bnlab::TrainConfig config;
  config.model = preset;
  config.batch_size = state.range(0);
  config.optimizer = bench::reference_adam();
  config.record_internals = state.range(1) != 0;
  config.threads = bench::kBenchThreads;
  bnlab::Trainer trainer(bnlab::preset_spec(preset, 784, 10), config, splits);
  for (auto _ : state) benchmark::DoNotOptimize(trainer.train_epoch().train_loss);
  set_counters(state, splits.train.size());
  state.counters["epoch_s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                 benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_Step_plain(benchmark::State& s) { step(s, "plain"); }
void BM_Step_batchnorm(benchmark::State& s) { step(s, "batchnorm"); }
void BM_Forward_plain(benchmark::State& s) { forward(s, "plain"); }
void BM_Forward_batchnorm(benchmark::State& s) { forward(s, "batchnorm"); }
void BM_Backward_plain(benchmark::State& s) { backward(s, "plain"); }
void BM_Backward_batchnorm(benchmark::State& s) { backward(s, "batchnorm"); }
void BM_Adam_plain(benchmark::State& s) { adam(s, "plain"); }
void BM_Adam_batchnorm(benchmark::State& s) { adam(s, "batchnorm"); }
void BM_Epoch_plain(benchmark::State& s) { epoch(s, "plain"); }
void BM_Epoch_batchnorm(benchmark::State& s) { epoch(s, "batchnorm"); }
void BM_TrainerEpoch_plain(benchmark::State& s) { trainer_epoch(s, "plain"); }
void BM_TrainerEpoch_batchnorm(benchmark::State& s) { trainer_epoch(s, "batchnorm"); }

void batches(benchmark::internal::Benchmark* b) {
  b->ArgName("batch");
  for (int64_t batch : {32, 64, 256, 1024}) b->Arg(batch);
}
void trainer_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"batch", "internals"});
  for (int64_t batch : {32, 64, 256, 1024})
    for (int64_t internals : {0, 1}) b->Args({batch, internals});
}

}  // namespace

BENCHMARK(BM_Step_plain)->Apply(batches);
BENCHMARK(BM_Step_batchnorm)->Apply(batches);
BENCHMARK(BM_Forward_plain)->Apply(batches);
BENCHMARK(BM_Forward_batchnorm)->Apply(batches);
BENCHMARK(BM_Backward_plain)->Apply(batches);
BENCHMARK(BM_Backward_batchnorm)->Apply(batches);
BENCHMARK(BM_Adam_plain);
BENCHMARK(BM_Adam_batchnorm);
BENCHMARK(BM_Gather)->Apply(batches)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Epoch_plain)->Apply(batches)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Epoch_batchnorm)->Apply(batches)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TrainerEpoch_plain)->Apply(trainer_args)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TrainerEpoch_batchnorm)->Apply(trainer_args)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();

// The floor: the hand-written minimal training step and epoch of the plain model (floor_mlp.hpp),
// single thread, at batch 32, 64, 256, 1024; and the matrix products alone, to tell how much of
// the floor itself is GEMM.
//
//   build/benchmarks/bench_floor                                 # everything
//   build/benchmarks/bench_floor --benchmark_filter=FloorEpoch   # seconds per epoch (epoch_s)
//
// Counters: items_per_second = training samples per second; FLOPS = matrix-product FLOP/s
// (454,400 FLOP per sample); epoch_s = seconds per epoch of 48,000 samples.
#include <benchmark/benchmark.h>

#include "bench_common.hpp"
#include "floor_mlp.hpp"

namespace {

using Mat = bench::FloorMlp::Mat;

void set_step_counters(benchmark::State& state, int64_t batch) {
  const auto samples = static_cast<double>(state.iterations()) * static_cast<double>(batch);
  state.SetItemsProcessed(static_cast<int64_t>(samples));
  state.counters["FLOPS"] = benchmark::Counter(samples * bench::kFlopsPerSample, benchmark::Counter::kIsRate);
}

void BM_FloorStep(benchmark::State& state) {
  const int64_t batch = state.range(0);
  bench::FloorMlp floor(batch);
  const bnlab::data::Dataset d = bench::synthetic_images(batch);
  std::vector<int64_t> rows(static_cast<size_t>(batch));
  for (int64_t i = 0; i < batch; ++i) rows[static_cast<size_t>(i)] = i;
  floor.gather(d, rows);
  for (auto _ : state) benchmark::DoNotOptimize(floor.step(batch));
  set_step_counters(state, batch);
}

// The 8 matrix products of one step alone, on buffers of the same shapes and layouts.
void BM_FloorProducts(benchmark::State& state) {
  const int64_t b = state.range(0);
  Mat x = Mat::Random(b, 784), a1(b, 128), a2(b, 64), z(b, 10), d2(b, 64), d1(b, 128);
  Mat w1 = Mat::Random(784, 128), w2 = Mat::Random(128, 64), w3 = Mat::Random(64, 10);
  Mat g1(784, 128), g2(128, 64), g3(64, 10);
  for (auto _ : state) {
    a1.noalias() = x * w1;
    a2.noalias() = a1 * w2;
    z.noalias() = a2 * w3;
    g3.noalias() = a2.transpose() * z;
    d2.noalias() = z * w3.transpose();
    g2.noalias() = a1.transpose() * d2;
    d1.noalias() = d2 * w2.transpose();
    g1.noalias() = x.transpose() * d1;
    benchmark::ClobberMemory();
  }
  set_step_counters(state, b);
}

void BM_FloorEpoch(benchmark::State& state) {
  const int64_t batch = state.range(0);
  static const bnlab::data::Dataset d = bench::synthetic_images(bench::kEpochSamples);
  bench::FloorMlp floor(batch);
  bnlab::data::BatchOrder order(d.size(), batch, /*drop_last=*/false, /*seed=*/0);
  int64_t epoch = 0;
  for (auto _ : state) {
    order.reshuffle(epoch++);
    benchmark::DoNotOptimize(floor.epoch(d, order));
  }
  set_step_counters(state, bench::kEpochSamples);
  state.counters["epoch_s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                 benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// One product of the model in the layouts that could hold it: row-major (bnlab's TensorView) and
// column-major, for the forward product, the weight gradient and the input gradient. Arguments:
// batch, layer (0: 784→128, 1: 128→64, 2: 64→10).
template <class M>
void gemm(benchmark::State& state, int which) {
  const int64_t b = state.range(0);
  const int64_t dims[3][2] = {{784, 128}, {128, 64}, {64, 10}};
  const int64_t k = dims[state.range(1)][0], n = dims[state.range(1)][1];
  M x = M::Random(b, k), w = M::Random(k, n), y(b, n), g = M::Random(b, n), dw(k, n), dx(b, k);
  for (auto _ : state) {
    if (which == 0) y.noalias() = x * w;
    if (which == 1) dw.noalias() = x.transpose() * g;
    if (which == 2) dx.noalias() = g * w.transpose();
    benchmark::ClobberMemory();
  }
  state.counters["FLOPS"] = benchmark::Counter(2.0 * static_cast<double>(b * k * n) * static_cast<double>(state.iterations()),
                                               benchmark::Counter::kIsRate);
}

using ColMat = Eigen::MatrixXf;
void BM_Gemm_Forward_RowMajor(benchmark::State& s) { gemm<Mat>(s, 0); }
void BM_Gemm_Forward_ColMajor(benchmark::State& s) { gemm<ColMat>(s, 0); }
void BM_Gemm_WeightGrad_RowMajor(benchmark::State& s) { gemm<Mat>(s, 1); }
void BM_Gemm_WeightGrad_ColMajor(benchmark::State& s) { gemm<ColMat>(s, 1); }
void BM_Gemm_InputGrad_RowMajor(benchmark::State& s) { gemm<Mat>(s, 2); }
void BM_Gemm_InputGrad_ColMajor(benchmark::State& s) { gemm<ColMat>(s, 2); }

void batches(benchmark::internal::Benchmark* b) {
  b->ArgName("batch");
  for (int64_t batch : {32, 64, 256, 1024}) b->Arg(batch);
}
void batches_layers(benchmark::internal::Benchmark* b) {
  b->ArgNames({"batch", "layer"});
  for (int64_t batch : {32, 64, 256, 1024})
    for (int64_t layer : {0, 1, 2}) b->Args({batch, layer});
}

}  // namespace

BENCHMARK(BM_FloorStep)->Apply(batches);
BENCHMARK(BM_FloorProducts)->Apply(batches);
BENCHMARK(BM_FloorEpoch)->Apply(batches)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Gemm_Forward_RowMajor)->Apply(batches_layers);
BENCHMARK(BM_Gemm_Forward_ColMajor)->Apply(batches_layers);
BENCHMARK(BM_Gemm_WeightGrad_RowMajor)->Apply(batches_layers);
BENCHMARK(BM_Gemm_WeightGrad_ColMajor)->Apply(batches_layers);
BENCHMARK(BM_Gemm_InputGrad_RowMajor)->Apply(batches_layers);
BENCHMARK(BM_Gemm_InputGrad_ColMajor)->Apply(batches_layers);

BENCHMARK_MAIN();

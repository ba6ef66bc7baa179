// Every op of the registry, forward and backward, at the shapes the reference models use, at batch
// 32, 64, 256, 1024. The kernels are called directly on the views a compiled session planned for a
// one-op graph, so what is timed is the kernel alone (no seed copy, no executor loop). Sessions
// use BNLAB_BENCH_THREADS threads (default 1).
//
//   build/benchmarks/bench_ops                                    # everything
//   build/benchmarks/bench_ops --benchmark_filter='batch_norm'    # one op
//
// Shapes: matmul [B,784]·[784,128] (weight gradient only, as the first layer), [B,128]·[128,64]
// and [B,64]·[64,10] (weight and input gradients); bias_add, relu, tanh, add, batch_norm and
// layer_norm at [B,128]; softmax_cross_entropy at [B,10]. An op added to the registry without a
// case below is still benchmarked, on the graph of its `example`.
// batch_norm and group_norm (G = 8) also at the reference CNN's [B,28,28,32] and [B,14,14,64], and
// dropout (rate 0.5) at [B,128], at batches 32 and 256.
// Pooling: max_pool2d 2×2 stride 2 at [B,28,28,32] and [B,14,14,64], avg_pool2d 2×2 at
// [B,28,28,32], global_avg_pool and flatten at [B,7,7,64] (flatten_7x7x64_copy: the same flatten
// planned as a copy); FLOPS there count elements read by the windows, or of the input gradient.
// Counters: items_per_second = samples per second; FLOPS where the op is a matrix product.
#include <benchmark/benchmark.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "graph/compile.hpp"
#include "graph/random.hpp"
#include "graph/session.hpp"
#include "ops/add.hpp"
#include "ops/avg_pool2d.hpp"
#include "ops/batch_norm.hpp"
#include "ops/bias_add.hpp"
#include "ops/conv2d.hpp"
#include "ops/dropout.hpp"
#include "ops/group_norm.hpp"
#include "ops/global_avg_pool.hpp"
#include "ops/layer_norm.hpp"
#include "ops/matmul.hpp"
#include "ops/max_pool2d.hpp"
#include "ops/registry.hpp"
#include "ops/relu.hpp"
#include "ops/reshape.hpp"
#include "ops/softmax_cross_entropy.hpp"
#include "ops/sigmoid.hpp"
#include "ops/tanh.hpp"

namespace {

using namespace bnlab;

struct Case {
  std::string label;                  // "matmul_784x128", "batch_norm_128", …
  const OpInfo* op = nullptr;
  std::function<Var(Graph&)> build;   // returns the op node
  bool input_gradients = true;        // does backward compute the gradient of the data input
  double forward_flops = 0;           // per sample (matrix products only)
  double backward_flops = 0;
  std::vector<int64_t> batches;       // empty: 32, 64, 256, 1024
};

Case matmul_case(int64_t k, int64_t n, bool input_gradient) {
  Case c;
  c.label = "matmul_" + std::to_string(k) + "x" + std::to_string(n);
  c.op = &matmul_op;
  c.build = [k, n](Graph& g) {
    return matmul(g.input("x", {batch, k}), g.parameter("w", {k, n}, Init::glorot_uniform(k, n)), "op");
  };
  c.input_gradients = input_gradient;
  c.forward_flops = 2.0 * static_cast<double>(k * n);
  c.backward_flops = c.forward_flops * (input_gradient ? 2 : 1);
  return c;
}

// The reference CNN's convolutions, 3x3 with padding 1 (HxW kept), channels last: x [B,h,w,c] ∗
// weight [3,3,c,f]. FLOPS counts the products, 2·Ho·Wo·(3·3·c)·f per sample each: forward's
// columns·weight, backward's dweight and (when the data input needs one) dcolumns. The first conv
// of a model needs no input gradient, as matmul_784x128. "_bias": with the op's bias input (as the
// reference CNN's layers), at batches 32 and 256.
Case conv2d_case(int64_t h, int64_t w, int64_t c, int64_t f, bool input_gradient, bool bias = false) {
  Case k;
  k.label = "conv2d_" + std::to_string(h) + "x" + std::to_string(w) + "x" + std::to_string(c) + "_3x3x" + std::to_string(f) +
            (bias ? "_bias" : "");
  k.op = &conv2d_op;
  k.build = [h, w, c, f, bias](Graph& g) {
    auto x = g.input("x", {batch, h, w, c});
    auto weight = g.parameter("w", {3, 3, c, f}, Init::he_normal(9 * c));
    if (bias) return conv2d(x, weight, g.parameter("b", {f}, Init::normal(0.1)), "op", Conv2dOptions::same(3));
    return conv2d(x, weight, "op", Conv2dOptions::same(3));
  };
  if (bias) k.batches = {32, 256};
  k.input_gradients = input_gradient;
  k.forward_flops = 2.0 * static_cast<double>(h * w * 9 * c * f);
  k.backward_flops = k.forward_flops * (input_gradient ? 2 : 1);
  return k;
}

Case feature_case(const OpInfo& op, int64_t f, std::function<Var(Graph&, Var)> apply) {
  Case c;
  c.label = std::string(op.name) + "_" + std::to_string(f);
  c.op = &op;
  c.build = [f, apply](Graph& g) { return apply(g, g.input("x", {batch, f})); };
  return c;
}

// x [B,H,W,C] (the reference CNN's activations) → apply(g, x), at batches 32 and 256. FLOPS: the
// kernel's arithmetic per value of x (its adds, multiplies, divides), for comparing against the
// machine's peak; these ops are bound by memory bandwidth, not arithmetic.
Case spatial_case(const OpInfo& op, int64_t h, int64_t w, int64_t c, double forward_per_value, double backward_per_value,
                  std::function<Var(Graph&, Var)> apply) {
  Case k;
  k.label = std::string(op.name) + "_" + std::to_string(h) + "x" + std::to_string(w) + "x" + std::to_string(c);
  k.op = &op;
  k.build = [h, w, c, apply](Graph& g) { return apply(g, g.input("x", {batch, h, w, c})); };
  k.forward_flops = forward_per_value * static_cast<double>(h * w * c);
  k.backward_flops = backward_per_value * static_cast<double>(h * w * c);
  k.batches = {32, 256};
  return k;
}

// Per value: batch_norm and group_norm forward 8 (mean 1, variance 3, x̂ 2, γx̂ + β 2), backward 9
// (Σg 1, Σg·x̂ 2, dx 6 in training).
Case norm_case(const OpInfo& op, int64_t h, int64_t w, int64_t c) {
  return spatial_case(op, h, w, c, 8, 9, [&op, c](Graph& g, Var x) {
    auto gamma = g.parameter("gamma", {c}, Init::constant(1));
    auto beta = g.parameter("beta", {c}, Init::zeros());
    return &op == &group_norm_op ? group_norm(x, gamma, beta, 8, "op") : batch_norm(x, gamma, beta, "op");
  });
}

// max_pool2d and avg_pool2d 2×2 stride 2 on [B,h,w,c], the reference CNN's two pooling layers, and
// global_avg_pool on [B,7,7,64]. FLOPS counts one operation per element the windows read forward
// (a comparison or an add), and per element of the input gradient backward.
Case pool_case(const OpInfo& op, int64_t h, int64_t w, int64_t ch) {
  Case c;
  c.label = std::string(op.name) + "_" + std::to_string(h) + "x" + std::to_string(w) + "x" + std::to_string(ch);
  c.op = &op;
  c.build = [&op, h, w, ch](Graph& g) {
    auto x = g.input("x", {batch, h, w, ch});
    if (&op == &max_pool2d_op) return max_pool2d(x, {}, "op");
    if (&op == &avg_pool2d_op) return avg_pool2d(x, {}, "op");
    return global_avg_pool(x, "op");
  };
  c.forward_flops = static_cast<double>(h * w * ch);
  c.backward_flops = static_cast<double>(h * w * ch);
  return c;
}

// flatten [B,7,7,64] → [B,3136], as the reference CNN's classifier head: the op alone in its graph
// is its input's only consumer, so it shares the input's memory and the kernels do nothing;
// "_copy" is the same kernels planned as a copy (as when the input had a second consumer).
Case flatten_case(bool copy) {
  static const OpInfo copying = [] {
    OpInfo o = reshape_op;
    o.output_is_input_view = false;
    return o;
  }();
  Case c;
  c.label = copy ? "flatten_7x7x64_copy" : "flatten_7x7x64";
  c.op = copy ? &copying : &reshape_op;
  c.build = [copy](Graph& g) {
    auto x = g.input("x", {batch, 7, 7, 64});
    return copy ? g.op(copying, {x}, "op", {{"d1", 7 * 7 * 64}}) : flatten(x, "op");
  };
  return c;
}

std::vector<Case> cases() {
  std::vector<Case> all = {
      matmul_case(784, 128, false),
      matmul_case(128, 64, true),
      matmul_case(64, 10, true),
      feature_case(bias_add_op, 128, [](Graph& g, Var x) { return bias_add(x, g.parameter("b", {128}, Init::normal(0.1)), "op"); }),
      feature_case(relu_op, 128, [](Graph&, Var x) { return relu(x, "op"); }),
      feature_case(tanh_op, 128, [](Graph&, Var x) { return bnlab::tanh(x, "op"); }),
      feature_case(sigmoid_op, 128, [](Graph&, Var x) { return sigmoid(x, "op"); }),
      feature_case(add_op, 128, [](Graph& g, Var x) { return add(x, g.input("x2", {batch, 128}), "op"); }),
      feature_case(batch_norm_op, 128, [](Graph& g, Var x) {
        return batch_norm(x, g.parameter("gamma", {128}, Init::constant(1)), g.parameter("beta", {128}, Init::zeros()), "op");
      }),
      feature_case(layer_norm_op, 128, [](Graph& g, Var x) {
        return layer_norm(x, g.parameter("gamma", {128}, Init::constant(1)), g.parameter("beta", {128}, Init::zeros()), "op");
      }),
      feature_case(softmax_cross_entropy_op, 10, [](Graph& g, Var x) { return softmax_cross_entropy(x, g.labels("y", 10), "op"); }),
      conv2d_case(28, 28, 1, 32, false),  // --benchmark_filter='conv2d.*batch:(32|256)$': the CNN's batches
      conv2d_case(14, 14, 32, 64, true),
      conv2d_case(14, 14, 32, 64, true, true),
      pool_case(max_pool2d_op, 28, 28, 32),
      pool_case(max_pool2d_op, 14, 14, 64),
      pool_case(avg_pool2d_op, 28, 28, 32),
      pool_case(global_avg_pool_op, 7, 7, 64),
      flatten_case(false),
      flatten_case(true),
  };
  all.push_back(norm_case(batch_norm_op, 28, 28, 32));
  all.push_back(norm_case(batch_norm_op, 14, 14, 64));
  all.push_back(norm_case(group_norm_op, 28, 28, 32));
  all.push_back(norm_case(group_norm_op, 14, 14, 64));
  all.push_back(feature_case(dropout_op, 128, [](Graph&, Var x) { return dropout(x, 0.5, "op"); }));
  all.back().batches = {32, 256};
  // Every registered op is measured: one without a case above runs on its example graph.
  for (const OpInfo* op : all_ops()) {
    bool covered = false;
    for (const Case& c : all) covered = covered || c.op == op;
    if (covered || op->example == nullptr) continue;
    Case c;
    c.label = std::string(op->name) + "_example";
    c.op = op;
    c.build = op->example;
    all.push_back(c);
  }
  return all;
}

// One op node of a compiled one-op graph, with the arguments its kernels get from the session.
class OpHarness {
 public:
  OpHarness(const Case& c, int64_t b) {
    Graph g;
    node_ = c.build(g).id;
    session_ = std::make_unique<Session>(compile(g, node_, {.input_gradients = c.input_gradients}),
                                         SessionOptions{.seed = 1, .max_batch = b, .threads = bench::kBenchThreads});
    session_->set_batch(b);
    const Program& p = session_->program();
    const Node& n = p.graph.node(node_);
    op_ = n.op;
    Rng rng(3);
    auto fill = [&rng](TensorView<float> v) {
      for (int64_t i = 0; i < v.size(); ++i) v.data[i] = static_cast<float>(rng.normal());
    };
    for (NodeId in : n.inputs) {
      const Node& i = p.graph.node(in);
      if (i.kind == NodeKind::labels) {
        for (int32_t& v : session_->labels(in)) v = static_cast<int32_t>(rng.below(static_cast<uint64_t>(i.num_classes)));
      } else if (i.kind == NodeKind::input) {
        fill(session_->value(in));
      }
    }
    const TensorView<float> grad_out = session_->grad(node_);
    if (!grad_out.empty()) {
      if (grad_out.size() == 1) grad_out.data[0] = 1.0f;
      else fill(grad_out);
    }
    forward_ = session_->forward_args(node_, Mode::train);
    backward_ = session_->backward_args(node_, Mode::train);
    forward();  // backward reads what forward saved
  }

  void forward() { op_->f32.forward(forward_); }
  void backward() { op_->f32.backward(backward_); }

 private:
  std::unique_ptr<Session> session_;
  NodeId node_ = -1;
  const OpInfo* op_ = nullptr;
  ForwardArgs<float> forward_;
  BackwardArgs<float> backward_;
};

void run(benchmark::State& state, const Case& c, bool backward) {
  const int64_t b = state.range(0);
  OpHarness h(c, b);
  for (auto _ : state) {
    if (backward) h.backward(); else h.forward();
    benchmark::ClobberMemory();
  }
  const double samples = static_cast<double>(state.iterations()) * static_cast<double>(b);
  state.SetItemsProcessed(static_cast<int64_t>(samples));
  const double flops = backward ? c.backward_flops : c.forward_flops;
  if (flops > 0) state.counters["FLOPS"] = benchmark::Counter(samples * flops, benchmark::Counter::kIsRate);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  static const std::vector<Case> all = cases();
  for (const Case& c : all) {
    for (bool backward : {false, true}) {
      const std::string name = c.label + (backward ? "/backward" : "/forward");
      auto* b = benchmark::RegisterBenchmark(name.c_str(), [&c, backward](benchmark::State& s) { run(s, c, backward); });
      b->ArgName("batch");
      if (!c.batches.empty()) {
        for (int64_t batch : c.batches) b->Arg(batch);
        continue;
      }
      for (int64_t batch : {32, 64, 256, 1024}) b->Arg(batch);
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// A model written directly against bnlab's graph API rather than through a ModelSpec: a residual block.
//
//   x [B,20] → dense 64 → relu ─┬───────────────────────┐
//                               └→ dense 64 → relu ──→ add → batch norm → dense 4 → softmax cross-entropy
//
// Trained with Adam on the synthetic dataset (no download needed); prints loss and accuracy per epoch.
//   skip_connection [epochs]        (default 3)
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "data/batching.hpp"
#include "data/registry.hpp"
#include "graph/compile.hpp"
#include "graph/session.hpp"
#include "models/layers.hpp"
#include "ops/add.hpp"
#include "ops/relu.hpp"
#include "ops/softmax_cross_entropy.hpp"
#include "train/optimizer.hpp"

namespace {

struct Score {
  double loss = 0, acc = 0;
};

// Eval mode (batch norm uses its running statistics) over `d`, in chunks of the session's batch.
Score evaluate(bnlab::Session& s, bnlab::Var x, bnlab::Var y, bnlab::Var loss, const bnlab::data::Dataset& d, int64_t chunk) {
  double loss_sum = 0, correct = 0;
  for (int64_t start = 0; start < d.size(); start += chunk) {
    const int64_t n = std::min(chunk, d.size() - start);
    s.set_batch(n);  // a smaller last chunk runs on views of the same memory
    std::copy(d.row(start), d.row(start + n), s.input(x.id).data);
    std::copy(d.labels.begin() + start, d.labels.begin() + start + n, s.labels(y.id).begin());
    loss_sum += static_cast<double>(s.forward(bnlab::Mode::eval)) * static_cast<double>(n);
    correct += static_cast<double>(bnlab::correct_predictions(s, loss.id));
  }
  return {loss_sum / static_cast<double>(d.size()), correct / static_cast<double>(d.size())};
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const int epochs = argc > 1 ? std::atoi(argv[1]) : 3;
    const bnlab::data::Splits data = bnlab::data::load("synthetic", {.seed = 0});
    const int64_t features = data.train.feature_count;
    const int32_t classes = data.train.num_classes;

    bnlab::Graph g;
    const bnlab::Var x = g.input("x", {bnlab::batch, features});   // [B,20]
    const bnlab::Var y = g.labels("y", classes);                   // [B] class ids
    bnlab::Var h = bnlab::relu(bnlab::dense(x, 64, "fc1"));        // [B,20]·[20,64] → [B,64]
    const bnlab::Var r = bnlab::relu(bnlab::dense(h, 64, "fc2"));  // [B,64]·[64,64] → [B,64]
    h = bnlab::add(h, r, "skip");                                  // h feeds two consumers: its gradients add up
    h = bnlab::batch_norm_layer(h, "bn");                          // bn.gamma, bn.beta; state bn.running_mean/var
    const bnlab::Var logits = bnlab::dense(h, classes, "out");     // [B,64]·[64,4] → [B,4]
    const bnlab::Var loss = bnlab::softmax_cross_entropy(logits, y, "loss");

    const int64_t batch = 32;
    // One compiled program runs in both modes; the arena is planned once for a batch of 32.
    bnlab::Session session(bnlab::compile(g, loss), {.seed = 0, .max_batch = batch});
    bnlab::Optimizer adam({.kind = bnlab::OptimizerKind::adam, .lr = 1e-3}, session.parameters());
    // drop_last: a trailing batch of one sample could not be batch-normalized.
    bnlab::data::BatchOrder order(data.train.size(), batch, /*drop_last=*/true, /*seed=*/0);

    std::printf("%d parameter tensors, %d state tensors; %lld train / %lld val / %lld test rows\n",
                session.parameters().size(), session.state().size(), static_cast<long long>(data.train.size()),
                static_cast<long long>(data.val.size()), static_cast<long long>(data.test.size()));
    for (int epoch = 0; epoch < epochs; ++epoch) {
      order.reshuffle(epoch);
      double loss_sum = 0;
      for (int64_t b = 0; b < order.num_batches(); ++b) {
        const auto rows = order.batch(b);
        session.set_batch(static_cast<int64_t>(rows.size()));
        data.train.gather(rows, session.input(x.id).data, session.labels(y.id).data());
        loss_sum += static_cast<double>(session.forward(bnlab::Mode::train));
        session.backward();
        adam.step(session.parameters(), session.gradients());
      }
      const Score val = evaluate(session, x, y, loss, data.val, batch);
      std::printf("epoch %d  train loss %.4f  val loss %.4f  val acc %.4f\n", epoch + 1,
                  loss_sum / static_cast<double>(order.num_batches()), val.loss, val.acc);
    }
    const Score test = evaluate(session, x, y, loss, data.test, batch);
    std::printf("test loss %.4f  test acc %.4f\n", test.loss, test.acc);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "skip_connection: %s\n", e.what());
    return 1;
  }
}

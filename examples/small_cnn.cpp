// A convolutional network written directly against bnlab's graph API: images are channels last.
//
//   x [B,8,8,1] → conv 3×3, 8 filters, padding 1 → batch norm per channel (BatchNorm2d) → relu
//     → max-pool 2×2 → flatten [B,128] → dropout 0.25 → dense 4 → softmax cross-entropy
//
// Trained with Adam on the synthetic dataset with 64 features seen as 8×8 one-channel images (no
// download needed); prints the training loss per epoch and the test accuracy.
//   small_cnn [epochs]        (default 3)
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "data/batching.hpp"
#include "data/registry.hpp"
#include "graph/compile.hpp"
#include "graph/session.hpp"
#include "models/layers.hpp"
#include "ops/dropout.hpp"
#include "ops/max_pool2d.hpp"
#include "ops/relu.hpp"
#include "ops/reshape.hpp"
#include "ops/softmax_cross_entropy.hpp"
#include "train/optimizer.hpp"

int main(int argc, char** argv) {
  try {
    const int epochs = argc > 1 ? std::atoi(argv[1]) : 3;
    bnlab::data::SyntheticOptions synthetic;
    synthetic.features = 64;
    bnlab::data::Splits data = bnlab::data::load("synthetic", {.seed = 0, .synthetic = synthetic});
    const int32_t classes = data.train.num_classes;

    bnlab::Graph g;
    const bnlab::Var x = g.input("x", {bnlab::batch, 8, 8, 1});  // [B,8,8,1]: each row of 64 values is an image
    const bnlab::Var y = g.labels("y", classes);
    bnlab::Var h = bnlab::conv2d_layer(x, {.filters = 8, .pad_h = 1, .pad_w = 1}, "conv1");  // conv1.weight [3,3,1,8] → [B,8,8,8]
    h = bnlab::relu(bnlab::batch_norm_layer(h, "bn1"));        // statistics per channel over B·8·8 values
    h = bnlab::max_pool2d(h, {.window_h = 2, .window_w = 2}, "pool1");  // [B,4,4,8]
    h = bnlab::flatten(h, "flatten");                          // [B,128], the same memory: no copy
    h = bnlab::dropout(h, 0.25, "drop");                       // training only; the mask is seeded per step
    const bnlab::Var loss = bnlab::softmax_cross_entropy(bnlab::dense(h, classes, "out"), y, "loss");

    const int64_t batch = 32;
    bnlab::Session session(bnlab::compile(g, loss), {.seed = 0, .max_batch = batch});
    bnlab::Optimizer adam({.kind = bnlab::OptimizerKind::adam, .lr = 1e-3}, session.parameters());
    bnlab::data::BatchOrder order(data.train.size(), batch, /*drop_last=*/true, /*seed=*/0);
    std::printf("arena: %lld floats for a batch of %lld\n", static_cast<long long>(session.arena_elements()),
                static_cast<long long>(batch));
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
      std::printf("epoch %d  train loss %.4f\n", epoch + 1, loss_sum / static_cast<double>(order.num_batches()));
    }
    // Evaluation: running statistics, no dropout, the test set in chunks of the planned batch.
    double correct = 0;
    for (int64_t start = 0; start < data.test.size(); start += batch) {
      const int64_t n = std::min(batch, data.test.size() - start);
      session.set_batch(n);
      std::copy(data.test.row(start), data.test.row(start + n), session.input(x.id).data);
      std::copy(data.test.labels.begin() + start, data.test.labels.begin() + start + n, session.labels(y.id).begin());
      session.forward(bnlab::Mode::eval);
      correct += static_cast<double>(bnlab::correct_predictions(session, loss.id));
    }
    std::printf("test acc %.4f\n", correct / static_cast<double>(data.test.size()));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "small_cnn: %s\n", e.what());
    return 1;
  }
}

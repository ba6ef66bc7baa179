// The README's graph-API program, whole: load Fashion-MNIST, build an MLP with batch norm, train it
// with Adam on seeded mini-batches, and score it on the test set in eval mode.
//   first_model [epochs] [training rows]      (defaults 2 and 6000: a few seconds)
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "data/batching.hpp"
#include "data/registry.hpp"
#include "graph/compile.hpp"
#include "graph/session.hpp"
#include "models/layers.hpp"
#include "ops/relu.hpp"
#include "ops/softmax_cross_entropy.hpp"
#include "train/optimizer.hpp"

int main(int argc, char** argv) try {
  const int epochs = argc > 1 ? std::atoi(argv[1]) : 2;
  // Debian's dataset-fashion-mnist: pixels in [0,1], a seeded 20% validation split.
  const bnlab::data::Splits data =
      bnlab::data::load("fashion-mnist", {.seed = 0, .limit_train = argc > 2 ? std::atoll(argv[2]) : 6000});

  bnlab::Graph g;
  auto x = g.input("x", {bnlab::batch, 784});                  // [B,784]: each image as a flat row
  auto y = g.labels("y", 10);                                   // [B] class ids in [0,10)
  auto h = bnlab::relu(bnlab::dense(x, 128, "fc1"));            // fc1.weight [784,128], fc1.bias [128]
  h = bnlab::batch_norm_layer(h, "bn1");                        // bn1.gamma, bn1.beta; running stats in the state store
  auto loss = bnlab::softmax_cross_entropy(bnlab::dense(h, 10, "out"), y, "loss");

  const int64_t batch = 32;
  bnlab::Session session(bnlab::compile(g, loss), {.seed = 0, .max_batch = batch});  // parameters drawn from their Init
  bnlab::Optimizer adam({.kind = bnlab::OptimizerKind::adam, .lr = 1e-3}, session.parameters());
  bnlab::data::BatchOrder order(data.train.size(), batch, /*drop_last=*/false, /*seed=*/0);

  for (int epoch = 0; epoch < epochs; ++epoch) {
    order.reshuffle(epoch);                                     // the permutation of (seed, epoch)
    double loss_sum = 0;
    int64_t right = 0;
    for (int64_t b = 0; b < order.num_batches(); ++b) {
      const auto rows = order.batch(b);                         // the last batch may be smaller
      session.set_batch(static_cast<int64_t>(rows.size()));     // views of the planned slots
      data.train.gather(rows, session.input(x.id).data, session.labels(y.id).data());
      loss_sum += session.forward(bnlab::Mode::train) * static_cast<double>(rows.size());  // batch statistics
      right += bnlab::correct_predictions(session, loss.id);   // from the same pass
      session.backward();                                       // gradients in session.gradients()
      adam.step(session.parameters(), session.gradients());
    }
    const auto n = static_cast<double>(data.train.size());
    std::printf("epoch %d  train loss %.4f  acc %.4f\n", epoch + 1, loss_sum / n, static_cast<double>(right) / n);
  }

  // Eval mode: running statistics; the test set in chunks of at most `batch` rows.
  int64_t right = 0;
  for (int64_t start = 0; start < data.test.size(); start += batch) {
    const int64_t n = std::min(batch, data.test.size() - start);
    session.set_batch(n);
    std::copy(data.test.row(start), data.test.row(start + n), session.input(x.id).data);
    std::copy(data.test.labels.begin() + start, data.test.labels.begin() + start + n, session.labels(y.id).begin());
    session.forward(bnlab::Mode::eval);
    right += bnlab::correct_predictions(session, loss.id);
  }
  std::printf("test acc %.4f (%lld of %lld)\n", static_cast<double>(right) / static_cast<double>(data.test.size()),
              static_cast<long long>(right), static_cast<long long>(data.test.size()));
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "first_model: %s\n", e.what());
  return 1;
}

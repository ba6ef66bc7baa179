// The last, partial batch of an epoch through the trainer: the epoch's training loss and accuracy
// are sample-weighted over every batch (the short one counts for its rows, not as a whole batch),
// and a run resumed from a checkpoint across epochs that end in a partial batch equals the
// uninterrupted run bit for bit.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "data/batching.hpp"
#include "data/registry.hpp"
#include "models/presets.hpp"
#include "ops/softmax_cross_entropy.hpp"
#include "train/checkpoint.hpp"
#include "train/trainer.hpp"
#include "graph/aligned_vector.hpp"

#include "data_test_support.hpp"

using namespace bnlab;

namespace {

const data::Splits& synthetic() {
  static const data::Splits d = data::load("synthetic", {.seed = 1});
  return d;
}

// 48 does not divide the synthetic training split (2560 rows: 53 batches of 48 and one of 16).
constexpr int64_t kBatch = 48;

ModelSpec spec() {
  const data::Splits& d = synthetic();
  return preset_spec("batchnorm", d.train.feature_count, d.train.num_classes, {.hidden = {{32, 16}}});
}

TrainConfig config(double lr, int epochs) {
  TrainConfig c;
  c.dataset = "synthetic";
  c.epochs = epochs;
  c.seed = 3;
  c.batch_size = kBatch;
  c.optimizer.kind = OptimizerKind::sgd;
  c.optimizer.lr = lr;
  return c;
}

bool same_bits(const AlignedVector<float>& a, const AlignedVector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("the epoch's training loss and accuracy weight the partial last batch by its rows") {
  const data::Splits& d = synthetic();
  REQUIRE(d.train.size() % kBatch != 0);
  const int64_t last_rows = d.train.size() % kBatch;

  // An lr of 1e-30 leaves every weight as it was drawn (each step is far below a float's spacing at
  // the weights' size), so each batch's loss is that of the initial model: a second trainer with the
  // same seed, run forward only on the same batches, gives them independently of the epoch's sums.
  Trainer trained(spec(), config(1e-30, 1), d);
  const EpochMetrics m = trained.train_epoch();

  Trainer reference(spec(), config(1e-30, 1), d);
  Session& s = reference.session();
  const Model& model = reference.model();
  data::BatchOrder order(d.train.size(), kBatch, /*drop_last=*/false, /*seed=*/3);
  order.reshuffle(0);
  REQUIRE(order.num_batches() == d.train.size() / kBatch + 1);
  double weighted = 0, unweighted = 0;
  int64_t right = 0, rows_seen = 0;
  for (int64_t b = 0; b < order.num_batches(); ++b) {
    const auto rows = order.batch(b);
    const auto n = static_cast<int64_t>(rows.size());
    CHECK(n == (b + 1 < order.num_batches() ? kBatch : last_rows));
    s.set_batch(n);
    d.train.gather(rows, s.input(model.input).data, s.labels(model.labels).data());
    const double loss = s.forward(Mode::train);
    weighted += loss * static_cast<double>(n);
    unweighted += loss;
    right += correct_predictions(s, model.loss);
    rows_seen += n;
  }
  REQUIRE(rows_seen == d.train.size());
  const double expected_loss = weighted / static_cast<double>(rows_seen);
  const double batch_mean = unweighted / static_cast<double>(order.num_batches());

  CHECK(m.steps == order.num_batches());
  CHECK(m.train_loss == doctest::Approx(expected_loss).epsilon(1e-6));
  CHECK(m.train_acc == doctest::Approx(static_cast<double>(right) / static_cast<double>(rows_seen)).epsilon(1e-12));
  // The mean of the batch means — the 16-row batch counted as a whole one — is off by more than the
  // tolerance above, so the test tells the two apart.
  CAPTURE(expected_loss);
  CAPTURE(batch_mean);
  CHECK(std::abs(batch_mean - expected_loss) > 20 * 1e-6 * expected_loss);
}

TEST_CASE("resume across epochs that end in a partial batch: bit for bit the uninterrupted run") {
  const data::Splits& d = synthetic();
  test::TempDir dir;
  const std::string path = dir / "run.safetensors";
  const TrainConfig cfg = config(0.05, 3);

  Trainer straight(spec(), cfg, d);
  std::vector<EpochMetrics> straight_history;
  while (straight.epoch() < cfg.epochs) straight_history.push_back(straight.train_epoch());

  Trainer first(spec(), cfg, d);
  std::vector<EpochMetrics> history = {first.train_epoch()};
  save_checkpoint(path, first, history, data::LoadOptions{.seed = 1});
  const Checkpoint ck = read_checkpoint(path);
  Trainer resumed(ck.spec, ck.config, d);
  restore(resumed, ck);
  REQUIRE(resumed.epoch() == 1);
  while (resumed.epoch() < cfg.epochs) history.push_back(resumed.train_epoch());

  CHECK(same_bits(resumed.session().parameters().data, straight.session().parameters().data));
  CHECK(same_bits(resumed.session().state().data, straight.session().state().data));
  CHECK(resumed.optimizer().steps() == straight.optimizer().steps());
  CHECK(resumed.optimizer().steps() == 3 * (d.train.size() / kBatch + 1));
  REQUIRE(history.size() == straight_history.size());
  for (size_t e = 0; e < history.size(); ++e) {
    CAPTURE(e);
    CHECK(history[e].train_loss == straight_history[e].train_loss);
    CHECK(history[e].train_acc == straight_history[e].train_acc);
    CHECK(history[e].val_loss == straight_history[e].val_loss);
  }
}

// Evaluation that explains itself, below the command line: the confusion matrix counted in the
// evaluation pass (on a model whose logits are known by hand), the datasets' class names, and
// their way through a checkpoint into the predictor.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>

#include "data/registry.hpp"
#include "data_test_support.hpp"
#include "graph/compile.hpp"
#include "graph/errors.hpp"
#include "models/model.hpp"
#include "train/checkpoint.hpp"
#include "train/evaluate.hpp"
#include "train/predictor.hpp"
#include "train/trainer.hpp"

using namespace bnlab;
using bnlab::test::TempDir;

namespace {

// One dense layer from 2 inputs to 3 classes: logits = x·W + b with W and b set by hand.
struct HandModel {
  Model model;
  Session session;
  HandModel()
      : model(build_model(spec())), session(compile(model.graph, model.loss, {.backward = false}), {.seed = 0}) {
    // W = [[1, 0, 0], [0, 1, 0]], b = [0, 0, 0.5]: logits of (a, b) are (a, b, 0.5).
    TensorStore<float>& p = session.parameters();
    const float w[6] = {1, 0, 0, 0, 1, 0};
    std::copy(w, w + 6, p.view(p.find("out.weight")).data);
    const float bias[3] = {0, 0, 0.5f};
    std::copy(bias, bias + 3, p.view(p.find("out.bias")).data);
  }
  static ModelSpec spec() {
    ModelSpec s;
    s.input_shape = {2};
    s.classes = 3;
    LayerSpec out;
    out.kind = LayerKind::dense;
    out.name = "out";
    out.units = 3;
    s.layers = {out};
    return s;
  }
};

data::Dataset rows(const std::vector<float>& x, const std::vector<int32_t>& y) {
  data::Dataset d;
  d.features = x;
  d.labels = y;
  d.feature_count = 2;
  d.num_classes = 3;
  d.name = "hand";
  return d;
}

}  // namespace

TEST_CASE("the confusion matrix counts each row's arg-max against its label, ties to the lowest class, in the evaluation pass") {
  HandModel h;
  // Row: x → logits → predicted (label).
  //   (2, 0)     → (2, 0, .5)     → 0  (0)
  //   (0, 2)     → (0, 2, .5)     → 1  (0)
  //   (0, 0)     → (0, 0, .5)     → 2  (2)
  //   (1, 1)     → (1, 1, .5)     → 0  (1)   a tie of 0 and 1: the lower
  //   (0, 3)     → (0, 3, .5)     → 1  (1)
  //   (.5, .5)   → (.5, .5, .5)   → 0  (0)   a tie of all three
  const data::Dataset d = rows({2, 0, 0, 2, 0, 0, 1, 1, 0, 3, 0.5f, 0.5f}, {0, 0, 2, 1, 1, 0});
  ConfusionMatrix cm(3);
  // Chunks of 4: the second chunk (rows 5 and 6) must be counted from its own first row.
  const EvalMetrics m = evaluate_dataset(h.session, h.model, d, Mode::eval, 4, &cm);
  const int64_t want[3][3] = {{2, 1, 0}, {1, 1, 0}, {0, 0, 1}};
  for (int t = 0; t < 3; ++t)
    for (int p = 0; p < 3; ++p) {
      CAPTURE(t);
      CAPTURE(p);
      CHECK(cm.count(t, p) == want[t][p]);
    }
  CHECK(cm.total() == 6);
  CHECK(cm.correct() == 4);
  CHECK(cm.class_rows(0) == 3);
  CHECK(cm.class_accuracy(0) == 2.0 / 3.0);
  CHECK(cm.class_accuracy(1) == 0.5);
  CHECK(cm.class_accuracy(2) == 1.0);
  // The loss op counted the same rows right: the diagonal gives exactly the accuracy.
  CHECK(m.acc == 4.0 / 6.0);
  CHECK(cm.accuracy() == m.acc);
  // The loss, by hand: the mean of logsumexp(logits) − logit of the label.
  const auto lse = [](double a, double b, double c) { return std::log(std::exp(a) + std::exp(b) + std::exp(c)); };
  const double loss = (lse(2, 0, .5) - 2 + lse(0, 2, .5) - 0 + lse(0, 0, .5) - .5 + lse(1, 1, .5) - 1 + lse(0, 3, .5) - 3 +
                       lse(.5, .5, .5) - .5) / 6;
  CHECK(m.loss == doctest::Approx(loss).epsilon(1e-6));

  // Counting it changes nothing else: the same metrics without a matrix.
  const EvalMetrics again = evaluate_dataset(h.session, h.model, d, Mode::eval, 4);
  CHECK(again.loss == m.loss);
  CHECK(again.acc == m.acc);

  // A class with no rows has no accuracy (NaN, shown as "-" and null).
  ConfusionMatrix only(3);
  evaluate_dataset(h.session, h.model, rows({2, 0}, {0}), Mode::eval, 4, &only);
  CHECK(std::isnan(only.class_accuracy(1)));
  CHECK(only.accuracy() == 1.0);

  ConfusionMatrix wrong(4);
  CHECK_THROWS_AS(evaluate_dataset(h.session, h.model, d, Mode::eval, 4, &wrong), UsageError);
}

TEST_CASE("the datasets' class names: Fashion-MNIST's, the digits, CIFAR-10's batches.meta.txt or the standard ten, CSV's ids") {
  const std::vector<std::string> fashion = data::class_names("fashion-mnist", {}, 10);
  REQUIRE(fashion.size() == 10);
  CHECK(fashion[0] == "T-shirt/top");
  CHECK(fashion[9] == "Ankle boot");
  CHECK(data::class_names("mnist", {}, 10) == data::class_ids(10));
  CHECK(data::class_ids(3) == std::vector<std::string>{"0", "1", "2"});
  CHECK(data::class_names("csv", {}, 3) == data::class_ids(3));
  CHECK(data::class_names("synthetic", {}, 4) == data::class_ids(4));
  CHECK(data::class_names("kmnist", {}, 10)[3] == "tsu");

  TempDir dir;
  CHECK(data::class_names("cifar10", {.data_dir = dir.path().string()}, 10)[0] == "airplane");  // no batches.meta.txt
  bnlab::test::write_text(dir / "batches.meta.txt", "a0\nb1\n c2 \nd3\ne4\nf5\ng6\nh7\ni8\nj9\n\n");
  const std::vector<std::string> meta = data::class_names("cifar10", {.data_dir = dir.path().string()}, 10);
  CHECK(meta[0] == "a0");
  CHECK(meta[2] == "c2");
  CHECK(meta[9] == "j9");
  bnlab::test::write_text(dir / "batches.meta.txt", "only\nthree\nnames\n");  // not ten: the standard names
  CHECK(data::class_names("cifar10", {.data_dir = dir.path().string()}, 10)[9] == "truck");
  // Names that do not number the classes give the ids.
  CHECK(data::class_names("fashion-mnist", {}, 3) == data::class_ids(3));

  // data::load fills Splits::class_names.
  CHECK(data::load("synthetic", {}).class_names == data::class_ids(4));
}

TEST_CASE("class names travel in the checkpoint to the predictor; a checkpoint without them gives the ids") {
  TempDir dir;
  data::Splits d = data::load("synthetic", {.seed = 1});
  d.class_names = {"north", "east", "south", "west"};
  TrainConfig config;
  config.epochs = 1;
  ModelSpec spec = HandModel::spec();
  spec.input_shape = {20};
  spec.classes = 4;
  spec.layers[0].units = 4;
  Trainer t(spec, config, d);
  std::vector<EpochMetrics> history = {t.train_epoch()};
  const std::string path = dir / "named.safetensors";
  save_checkpoint(path, t, history);
  const Checkpoint ck = read_checkpoint(path);
  CHECK(ck.class_names == d.class_names);
  CHECK(class_names(ck) == d.class_names);

  // Before class names: the file of format version 1 in tests/data.
  const Checkpoint old = read_checkpoint(std::string(BNLAB_SOURCE_DIR) + "/tests/data/format1-batchnorm.safetensors");
  CHECK(old.class_names.empty());
  CHECK(class_names(old) == data::class_ids(old.spec.classes));

  // Splits made by hand with names of another count: none stored.
  d.class_names = {"a", "b"};
  Trainer t2(spec, config, d);
  std::vector<EpochMetrics> h2 = {t2.train_epoch()};
  save_checkpoint(path, t2, h2);
  CHECK(read_checkpoint(path).class_names.empty());
}

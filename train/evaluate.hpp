// Evaluation of a model's session over a whole dataset, chunk by chunk: the one loop that the trainer
// (validation and test passes) and the predictor (a loaded checkpoint) share, so both sum in the
// same order and agree bit for bit.
//
//   bnlab::EvalMetrics m = bnlab::evaluate_dataset(session, model, data.val, bnlab::Mode::eval, 1000);
//
//   bnlab::ConfusionMatrix cm(model.spec.classes);
//   bnlab::evaluate_dataset(session, model, data.test, bnlab::Mode::eval, 1000, &cm);   // the same pass counts it
//   cm.count(true_class, predicted);  cm.class_accuracy(k);  cm.accuracy() == m.acc
//
// requires: the session was compiled from model.graph with model.loss as target; mode is not train.
// ensures: loss is the sample-weighted mean cross-entropy, acc the fraction of rows predicted right;
//          both NaN for an empty dataset. With Mode::eval_batch_stats a trailing chunk of one row is
//          folded into the chunk before it (one row has no batch statistics). A confusion matrix,
//          when given, counts every row of the same pass: predicted = the arg-max of its logits, a
//          tie going to the lowest class index (the same Eigen maxCoeff call the loss op's "correct"
//          uses, so the diagonal's sum is exactly the rows acc counts).
#pragma once

#include <cstdint>
#include <vector>

#include "data/dataset.hpp"
#include "graph/session.hpp"
#include "models/model.hpp"

namespace bnlab {

struct EvalMetrics {
  double loss = 0;
  double acc = 0;
  int64_t samples = 0;
};

// Counts of (true class, predicted class) over an evaluation: rows the true class, columns the
// prediction.
class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int64_t classes) : classes_(classes), counts_(static_cast<size_t>(classes * classes), 0) {}
  int64_t classes() const { return classes_; }
  int64_t count(int64_t true_class, int64_t predicted) const { return counts_[static_cast<size_t>(true_class * classes_ + predicted)]; }
  void add(int64_t true_class, int64_t predicted) { ++counts_[static_cast<size_t>(true_class * classes_ + predicted)]; }
  // The rows of class k (its row's sum), and how many of them were predicted k (the diagonal).
  int64_t class_rows(int64_t k) const;
  int64_t class_correct(int64_t k) const { return count(k, k); }
  // class_correct / class_rows; NaN for a class with no rows.
  double class_accuracy(int64_t k) const;
  int64_t total() const;
  int64_t correct() const;  // the diagonal's sum
  // correct / total, computed as evaluate_dataset computes acc (so the two are equal bit for bit).
  double accuracy() const;

 private:
  int64_t classes_;
  std::vector<int64_t> counts_;  // [classes, classes] row-major
};

EvalMetrics evaluate_dataset(Session& session, const Model& model, const data::Dataset& d, Mode mode, int64_t chunk,
                             ConfusionMatrix* confusion = nullptr);

// Rows [begin, end) only, in chunks from `begin`: Σ loss·rows and the rows predicted right (a
// data-parallel worker's share of an evaluation; evaluate_dataset is all rows).
struct EvalSums {
  double loss_sum = 0;
  double correct = 0;
};
EvalSums evaluate_rows(Session& session, const Model& model, const data::Dataset& d, Mode mode, int64_t chunk, int64_t begin,
                       int64_t end, ConfusionMatrix* confusion = nullptr);

}  // namespace bnlab

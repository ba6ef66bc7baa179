#include "train/evaluate.hpp"

#include <algorithm>
#include <limits>

#include "graph/errors.hpp"

namespace bnlab {

int64_t ConfusionMatrix::class_rows(int64_t k) const {
  int64_t n = 0;
  for (int64_t p = 0; p < classes_; ++p) n += count(k, p);
  return n;
}

double ConfusionMatrix::class_accuracy(int64_t k) const {
  const int64_t n = class_rows(k);
  return n == 0 ? std::numeric_limits<double>::quiet_NaN() : static_cast<double>(class_correct(k)) / static_cast<double>(n);
}

int64_t ConfusionMatrix::total() const {
  int64_t n = 0;
  for (int64_t c : counts_) n += c;
  return n;
}

int64_t ConfusionMatrix::correct() const {
  int64_t n = 0;
  for (int64_t k = 0; k < classes_; ++k) n += class_correct(k);
  return n;
}

double ConfusionMatrix::accuracy() const {
  const int64_t n = total();
  return n == 0 ? std::numeric_limits<double>::quiet_NaN() : static_cast<double>(correct()) / static_cast<double>(n);
}

EvalMetrics evaluate_dataset(Session& session, const Model& model, const data::Dataset& d, Mode mode, int64_t chunk,
                             ConfusionMatrix* confusion) {
  EvalMetrics r;
  if (d.size() == 0) {
    if (mode == Mode::train) throw UsageError("evaluation runs in Mode::eval or Mode::eval_batch_stats, not train");
    r.loss = r.acc = std::numeric_limits<double>::quiet_NaN();
    return r;
  }
  const EvalSums s = evaluate_rows(session, model, d, mode, chunk, 0, d.size(), confusion);
  r.samples = d.size();
  r.loss = s.loss_sum / static_cast<double>(d.size());
  r.acc = s.correct / static_cast<double>(d.size());
  return r;
}

EvalSums evaluate_rows(Session& session, const Model& model, const data::Dataset& d, Mode mode, int64_t chunk, int64_t begin,
                       int64_t end, ConfusionMatrix* confusion) {
  if (mode == Mode::train) throw UsageError("evaluation runs in Mode::eval or Mode::eval_batch_stats, not train");
  if (confusion && confusion->classes() != model.spec.classes)
    throw UsageError("a confusion matrix of " + std::to_string(confusion->classes()) + " classes for a model of " +
                     std::to_string(model.spec.classes));
  if (chunk < 1) throw UsageError("evaluation chunk size must be at least 1, got " + std::to_string(chunk));
  double loss_sum = 0, correct = 0;
  for (int64_t start = begin; start < end;) {
    int64_t n = std::min(chunk, end - start);
    if (mode == Mode::eval_batch_stats && end - start - n == 1) n += 1;
    session.set_batch(n);
    std::copy(d.row(start), d.row(start + n), session.input(model.input).data);
    std::copy(d.labels.begin() + start, d.labels.begin() + start + n, session.labels(model.labels).begin());
    loss_sum += static_cast<double>(session.forward(mode)) * static_cast<double>(n);
    correct += session.saved(model.loss, "correct").data[0];
    if (confusion) {
      const auto logits = session.value(model.logits).mat();  // [n, classes]
      for (int64_t r = 0; r < n; ++r) {
        // NOTE: the loss op's own arg-max (ops/softmax_cross_entropy.cpp), so ties go to the lowest
        // index in both and the diagonal counts exactly the rows "correct" counted.
        Eigen::Index arg = 0;
        logits.row(r).maxCoeff(&arg);
        confusion->add(d.labels[static_cast<size_t>(start + r)], static_cast<int64_t>(arg));
      }
    }
    start += n;
  }
  return {loss_sum, correct};
}

}  // namespace bnlab

#include "train/evaluate.hpp"

#include <algorithm>
#include <limits>

#include "graph/errors.hpp"

namespace bnlab {

EvalMetrics evaluate_dataset(Session& session, const Model& model, const data::Dataset& d, Mode mode, int64_t chunk) {
  EvalMetrics r;
  if (d.size() == 0) {
    if (mode == Mode::train) throw UsageError("evaluation runs in Mode::eval or Mode::eval_batch_stats, not train");
    r.loss = r.acc = std::numeric_limits<double>::quiet_NaN();
    return r;
  }
  const EvalSums s = evaluate_rows(session, model, d, mode, chunk, 0, d.size());
  r.samples = d.size();
  r.loss = s.loss_sum / static_cast<double>(d.size());
  r.acc = s.correct / static_cast<double>(d.size());
  return r;
}

EvalSums evaluate_rows(Session& session, const Model& model, const data::Dataset& d, Mode mode, int64_t chunk, int64_t begin,
                       int64_t end) {
  if (mode == Mode::train) throw UsageError("evaluation runs in Mode::eval or Mode::eval_batch_stats, not train");
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
    start += n;
  }
  return {loss_sum, correct};
}

}  // namespace bnlab

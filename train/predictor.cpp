#include "train/predictor.hpp"

#include <algorithm>
#include <limits>

#include "graph/errors.hpp"

namespace bnlab {

Predictor::Predictor(const Checkpoint& ckpt)
    : mlp_(build_mlp(ckpt.spec)),
      session_(compile(mlp_.graph, mlp_.loss, {.backward = false}), {.seed = ckpt.config.seed}),
      eval_batch_(ckpt.config.eval_batch_size),
      train_batch_(ckpt.config.batch_size) {
  load_parameters(session_, ckpt);
}

EvalMetrics Predictor::evaluate(const data::Dataset& d, Mode mode) {
  EvalMetrics r;
  if (d.feature_count != spec().inputs)
    throw UsageError("the model takes " + std::to_string(spec().inputs) + " inputs but '" + d.name + "' has " +
                     std::to_string(d.feature_count) + " features");
  if (d.num_classes > spec().classes)
    throw UsageError("the model has " + std::to_string(spec().classes) + " classes but '" + d.name + "' has " +
                     std::to_string(d.num_classes));
  if (mode == Mode::train) throw UsageError("Predictor::evaluate: use Mode::eval or Mode::eval_batch_stats");
  if (d.size() == 0) {
    r.loss = r.acc = std::numeric_limits<double>::quiet_NaN();
    return r;
  }
  // NOTE: the same chunking as Trainer::evaluate, so the sums run in the same order and agree bit for bit.
  const int64_t chunk = mode == Mode::eval ? eval_batch_ : train_batch_;
  double loss_sum = 0, correct = 0;
  for (int64_t start = 0; start < d.size();) {
    int64_t n = std::min(chunk, d.size() - start);
    // With batch statistics a trailing chunk of one sample cannot be normalized: fold it into this one.
    if (mode == Mode::eval_batch_stats && d.size() - start - n == 1) n += 1;
    session_.set_batch(n);
    std::copy(d.row(start), d.row(start + n), session_.input(mlp_.x).data);
    std::copy(d.labels.begin() + start, d.labels.begin() + start + n, session_.labels(mlp_.y).begin());
    loss_sum += static_cast<double>(session_.forward(mode)) * static_cast<double>(n);
    correct += session_.saved(mlp_.loss, "correct").data[0];
    start += n;
  }
  r.samples = d.size();
  r.loss = loss_sum / static_cast<double>(d.size());
  r.acc = correct / static_cast<double>(d.size());
  return r;
}

namespace {
// Runs `rows` through the model in eval mode, chunk by chunk, calling visit(first_row, n) after each forward.
template <class F>
void run_rows(Session& s, const Mlp& mlp, int64_t chunk, std::span<const float> rows, F visit) {
  const int64_t f = mlp.spec.inputs;
  if (rows.size() % static_cast<size_t>(f) != 0)
    throw UsageError("prediction input holds " + std::to_string(rows.size()) + " values, not a multiple of the model's " +
                     std::to_string(f) + " inputs");
  const int64_t total = static_cast<int64_t>(rows.size()) / f;
  for (int64_t start = 0; start < total; start += chunk) {
    const int64_t n = std::min(chunk, total - start);
    s.set_batch(n);
    std::copy(rows.begin() + start * f, rows.begin() + (start + n) * f, s.input(mlp.x).data);
    // NOTE: the graph ends in the loss, which needs labels; class 0 is a valid stand-in, and neither
    // the logits nor the probabilities depend on it.
    auto y = s.labels(mlp.y);
    std::fill(y.begin(), y.end(), 0);
    s.forward(Mode::eval);
    visit(start, n);
  }
}
}  // namespace

std::vector<float> Predictor::probabilities(std::span<const float> rows) {
  const int64_t c = spec().classes;
  std::vector<float> out(rows.size() / static_cast<size_t>(spec().inputs) * static_cast<size_t>(c));
  run_rows(session_, mlp_, eval_batch_, rows, [&](int64_t start, int64_t n) {
    const float* p = session_.saved(mlp_.loss, "probs").data;  // [n, C]
    std::copy(p, p + n * c, out.begin() + start * c);
  });
  return out;
}

std::vector<int32_t> Predictor::predict(std::span<const float> rows) {
  std::vector<int32_t> out(rows.size() / static_cast<size_t>(spec().inputs));
  run_rows(session_, mlp_, eval_batch_, rows, [&](int64_t start, int64_t n) {
    const auto logits = session_.value(mlp_.logits).mat();  // [n, C]
    for (int64_t r = 0; r < n; ++r) {
      Eigen::Index arg = 0;
      logits.row(r).maxCoeff(&arg);
      out[static_cast<size_t>(start + r)] = static_cast<int32_t>(arg);
    }
  });
  return out;
}

}  // namespace bnlab

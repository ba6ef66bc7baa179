#include "train/predictor.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "graph/errors.hpp"
#include "train/model_file.hpp"

namespace bnlab {

data::Preparation training_preparation(const Checkpoint& ckpt) {
  if (ckpt.preparation) return *ckpt.preparation;
  data::Preparation p;
  const std::string& d = ckpt.dataset;
  const bool pixels = d == "fashion-mnist" || d == "mnist" || d == "kmnist" || d == "cifar10" ||
                      (d == "csv" && ckpt.data && ckpt.data->csv_pixels);
  p.divisor = pixels ? 255 : 1;
  p.sample_shape = ckpt.spec.input_shape;
  return p;
}

std::vector<std::string> class_names(const Checkpoint& ckpt) {
  if (static_cast<int64_t>(ckpt.class_names.size()) == ckpt.spec.classes) return ckpt.class_names;
  return data::class_ids(ckpt.spec.classes);
}

std::string divisor_text(double divisor) {
  if (divisor == 1) return "values as they are";
  char buf[64];
  std::snprintf(buf, sizeof buf, "values divided by %g", divisor);
  return buf;
}

Predictor::Predictor(const Checkpoint& ckpt, int threads)
    : model_(build_model(ckpt.spec)),
      session_(compile(model_.graph, model_.loss, {.backward = false}), {.seed = ckpt.config.seed, .threads = threads}),
      path_(ckpt.path),
      dataset_(ckpt.dataset),
      divisor_(training_preparation(ckpt).divisor),
      eval_batch_(ckpt.config.eval_batch_size),
      train_batch_(ckpt.config.batch_size) {
  load_parameters(session_, ckpt);
}

EvalMetrics Predictor::evaluate(const data::Dataset& d, Mode mode, ConfusionMatrix* confusion) {
  check_input_shape(spec().input_shape, d);
  if (d.divisor != divisor_)
    throw InputError(d.described() + ": the data are read as " + divisor_text(d.divisor) + ", but the model in " + path_ +
                     " was trained on " + divisor_text(divisor_) + " (" + dataset_ + ")");
  if (d.num_classes > spec().classes)
    throw UsageError("the model has " + std::to_string(spec().classes) + " classes but '" + d.name + "' has " +
                     std::to_string(d.num_classes));
  // NOTE: the same chunk sizes as Trainer::evaluate, so the sums run in the same order and agree bit for bit.
  return evaluate_dataset(session_, model_, d, mode, mode == Mode::eval ? eval_batch_ : train_batch_, confusion);
}

namespace {
// Runs `rows` through the model in eval mode, chunk by chunk, calling visit(first_row, n) after each forward.
template <class F>
void run_rows(Session& s, const Model& model, int64_t chunk, std::span<const float> rows, F visit) {
  const int64_t f = model.spec.input_features();
  if (rows.size() % static_cast<size_t>(f) != 0)
    throw UsageError("prediction input holds " + std::to_string(rows.size()) + " values, not a multiple of the model's " +
                     std::to_string(f) + " inputs");
  const int64_t total = static_cast<int64_t>(rows.size()) / f;
  for (int64_t start = 0; start < total; start += chunk) {
    const int64_t n = std::min(chunk, total - start);
    s.set_batch(n);
    std::copy(rows.begin() + start * f, rows.begin() + (start + n) * f, s.input(model.input).data);
    // NOTE: the graph ends in the loss, which needs labels; class 0 is a valid stand-in, and neither
    // the logits nor the probabilities depend on it.
    auto y = s.labels(model.labels);
    std::fill(y.begin(), y.end(), 0);
    s.forward(Mode::eval);
    visit(start, n);
  }
}
}  // namespace

std::vector<float> Predictor::probabilities(std::span<const float> rows) {
  const int64_t c = spec().classes;
  std::vector<float> out(rows.size() / static_cast<size_t>(spec().input_features()) * static_cast<size_t>(c));
  run_rows(session_, model_, eval_batch_, rows, [&](int64_t start, int64_t n) {
    const float* p = session_.saved(model_.loss, "probs").data;  // [n, C]
    std::copy(p, p + n * c, out.begin() + start * c);
  });
  return out;
}

std::vector<int32_t> Predictor::predict(std::span<const float> rows) {
  std::vector<int32_t> out(rows.size() / static_cast<size_t>(spec().input_features()));
  run_rows(session_, model_, eval_batch_, rows, [&](int64_t start, int64_t n) {
    const auto logits = session_.value(model_.logits).mat();  // [n, C]
    for (int64_t r = 0; r < n; ++r) {
      Eigen::Index arg = 0;
      logits.row(r).maxCoeff(&arg);
      out[static_cast<size_t>(start + r)] = static_cast<int32_t>(arg);
    }
  });
  return out;
}

}  // namespace bnlab

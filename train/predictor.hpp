// Inference from a checkpoint: the model rebuilt from the checkpoint's spec, its parameters and
// running statistics loaded, run forward only.
//
//   bnlab::Checkpoint ck = bnlab::read_checkpoint("run.safetensors");
//   bnlab::Predictor p(ck);
//   bnlab::EvalMetrics test = p.evaluate(data.test);        // bit-equal to the saving Trainer's evaluate(data.test)
//   std::vector<float> probs = p.probabilities(rows);       // rows [n, input features] → [n, classes], eval mode
//   std::vector<int32_t> classes = p.predict(rows);         // arg-max of each row
//
// requires: rows hold a multiple of spec().input_features() floats, prepared as the training data were
// (same scaling and, if the checkpoint's data options say so, the same standardization).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "train/checkpoint.hpp"

namespace bnlab {

// How the checkpoint's training inputs were prepared: its "preprocessing" record, or, for a file
// written before checkpoints had one, what its dataset's reader did (pixels / 255 for IDX and
// CIFAR-10 and csv_pixels, values as they are otherwise; the model's input shape; no statistics —
// those are recomputed from the dataset).
data::Preparation training_preparation(const Checkpoint& ckpt);
// The names of the model's classes: the checkpoint's "class_names", or for a file from before
// them, the ids "0" … "classes-1".
std::vector<std::string> class_names(const Checkpoint& ckpt);
// "values divided by 255" or "values as they are" (1), for messages.
std::string divisor_text(double divisor);

class Predictor {
 public:
  // Throws InputError (as load_parameters) when the checkpoint's tensors do not fit its spec.
  // `threads`: the kernels split their work over this many threads (SessionOptions::threads).
  explicit Predictor(const Checkpoint& ckpt, int threads = 1);

  const ModelSpec& spec() const { return model_.spec; }
  const Model& model() const { return model_; }
  Session& session() { return session_; }

  // Mean loss and accuracy over `d` in chunks of the checkpoint's eval batch size (Mode::eval) or
  // training batch size (Mode::eval_batch_stats), exactly as Trainer::evaluate computes them.
  // A dataset whose feature or class count does not fit the model is a UsageError naming both; one
  // read with another divisor than the training data (CSV values as they are for a model trained
  // on pixels / 255) an InputError naming the data, the checkpoint and both.
  // With `confusion`, the same pass also counts (true class, predicted class) into it.
  EvalMetrics evaluate(const data::Dataset& d, Mode mode = Mode::eval, ConfusionMatrix* confusion = nullptr);
  // Class probabilities (softmax of the logits) in eval mode: [n, classes], row-major.
  std::vector<float> probabilities(std::span<const float> rows);
  // The most probable class of each row (the first on ties, as the accuracy counts it).
  std::vector<int32_t> predict(std::span<const float> rows);

 private:
  Model model_;
  Session session_;
  std::string path_, dataset_;  // the checkpoint's, for messages
  double divisor_ = 1;          // how its training data were scaled
  int64_t eval_batch_ = 0, train_batch_ = 0;
};

}  // namespace bnlab

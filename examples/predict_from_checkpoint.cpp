// Loads a bnlab checkpoint, rebuilds the model from the spec stored in it, and prints the predicted
// class and the class probabilities for the first rows of the test split of the checkpoint's dataset.
//   predict_from_checkpoint CHECKPOINT [ROWS]        (default 5 rows)
// A checkpoint comes from `bnlab train --checkpoint run.safetensors` or bnlab::save_checkpoint.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "data/registry.hpp"
#include "graph/compile.hpp"
#include "graph/errors.hpp"
#include "graph/session.hpp"
#include "models/model.hpp"
#include "train/checkpoint.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: predict_from_checkpoint CHECKPOINT [ROWS]\n");
    return 2;
  }
  try {
    // Parsed and validated completely (format, version, every tensor against the stored spec).
    const bnlab::Checkpoint ck = bnlab::read_checkpoint(argv[1]);
    std::printf("%s: %s model (%zu layers), trained %d epoch(s) on %s\n", argv[1], ck.spec.describe().c_str(),
                ck.spec.layers.size(), ck.epoch, ck.dataset.c_str());

    // The same data preparation as in training (split seed, standardization, …) when the checkpoint says.
    const bnlab::data::Splits data = bnlab::data::load(ck.dataset, ck.data.value_or(bnlab::data::LoadOptions{}));
    const bnlab::data::Dataset& test = data.test;
    const int64_t rows = std::min<int64_t>(argc > 2 ? std::atoll(argv[2]) : 5, test.size());

    // Rebuild the graph from the spec and compile it up to the logits: no labels, no backward pass.
    const bnlab::Model model = bnlab::build_model(ck.spec);
    bnlab::Session session(bnlab::compile(model.graph, model.logits, {.backward = false}));
    bnlab::load_parameters(session, ck);  // weights and batch-norm running statistics, in place

    session.set_batch(rows);
    std::copy(test.row(0), test.row(rows), session.input(model.input).data);
    session.forward(bnlab::Mode::eval);   // running statistics, as at test time
    const auto logits = session.value(model.logits).mat();  // [rows, classes]

    for (int64_t r = 0; r < rows; ++r) {
      // softmax, with the row maximum subtracted so exp cannot overflow
      Eigen::Index best = 0;
      const float max = logits.row(r).maxCoeff(&best);
      std::vector<double> p(static_cast<size_t>(logits.cols()));
      double sum = 0;
      for (Eigen::Index c = 0; c < logits.cols(); ++c) sum += p[static_cast<size_t>(c)] = std::exp(static_cast<double>(logits(r, c) - max));
      std::printf("row %lld: label %d, predicted %lld, p =", static_cast<long long>(r), test.labels[static_cast<size_t>(r)],
                  static_cast<long long>(best));
      for (double v : p) std::printf(" %.3f", v / sum);
      std::printf("\n");
    }
    return 0;
  } catch (const bnlab::InputError& e) {
    std::fprintf(stderr, "predict_from_checkpoint: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "predict_from_checkpoint: %s\n", e.what());
    return 1;
  }
}

// Evaluation of a model's session over a whole dataset, chunk by chunk: the one loop that the trainer
// (validation and test passes) and the predictor (a loaded checkpoint) share, so both sum in the
// same order and agree bit for bit.
//
//   bnlab::EvalMetrics m = bnlab::evaluate_dataset(session, model, data.val, bnlab::Mode::eval, 1000);
//
// requires: the session was compiled from model.graph with model.loss as target; mode is not train.
// ensures: loss is the sample-weighted mean cross-entropy, acc the fraction of rows predicted right;
//          both NaN for an empty dataset. With Mode::eval_batch_stats a trailing chunk of one row is
//          folded into the chunk before it (one row has no batch statistics).
#pragma once

#include <cstdint>

#include "data/dataset.hpp"
#include "graph/session.hpp"
#include "models/model.hpp"

namespace bnlab {

struct EvalMetrics {
  double loss = 0;
  double acc = 0;
  int64_t samples = 0;
};

EvalMetrics evaluate_dataset(Session& session, const Model& model, const data::Dataset& d, Mode mode, int64_t chunk);

// Rows [begin, end) only, in chunks from `begin`: Σ loss·rows and the rows predicted right (a
// data-parallel worker's share of an evaluation; evaluate_dataset is all rows).
struct EvalSums {
  double loss_sum = 0;
  double correct = 0;
};
EvalSums evaluate_rows(Session& session, const Model& model, const data::Dataset& d, Mode mode, int64_t chunk, int64_t begin,
                       int64_t end);

}  // namespace bnlab

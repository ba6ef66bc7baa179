// Models as data: a JSON file with the input shape, the class count and the layer list
// (docs/model-files.md), read and validated before anything is built or trained.
//
//   bnlab::ModelSpec spec = bnlab::read_model_file("examples/models/cnn-groupnorm.json");
//
// Errors are one InputError line that starts with the path: a file that cannot be read, JSON that
// does not parse, a field that is missing, mistyped or unknown ("layers[2].kernel: expected an
// integer or [height, width], got string"), or a layer that does not fit its input ("layer 9
// (dense 'fc1'): takes [F], got [7,7,64]; add a flatten (or global_avg_pool) layer before it").
#pragma once

#include <string>

#include "data/dataset.hpp"
#include "models/model_spec.hpp"

namespace bnlab {

ModelSpec read_model_file(const std::string& path);

// UsageError unless a model with input `model_input` can take the samples of `data`: the same
// shape, or either of them flat with the same number of values (an MLP takes an image as it lies
// in memory, channels last; a CNN takes CSV rows of H·W·C values as images). The trainer and the
// predictor check this.
void check_input_shape(const std::vector<int64_t>& model_input, const data::Dataset& data);

}  // namespace bnlab

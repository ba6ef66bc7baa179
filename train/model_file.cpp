#include "train/model_file.hpp"

#include <fstream>
#include <sstream>

#include "data/file_kind.hpp"
#include "graph/errors.hpp"
#include "train/serialize.hpp"

namespace bnlab {

ModelSpec read_model_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open the model file");
  data::refuse_file_kind(path, {data::FileKind::json}, "a model file",
                         "a model file is a JSON document of layers (docs/model-files.md)");
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return model_file_spec_from_json(text.str());
  } catch (const InputError& e) {
    throw InputError(path + ": " + e.what());
  } catch (const UsageError& e) {  // validate(): a layer that does not fit, a size out of range
    throw InputError(path + ": " + e.what());
  }
}

void check_input_shape(const std::vector<int64_t>& model_input, const data::Dataset& data) {
  int64_t features = 1;
  for (int64_t d : model_input) features *= d;
  if (features != data.feature_count)
    throw UsageError("the model takes " + std::to_string(features) + " inputs but '" + data.name + "' has " +
                     std::to_string(data.feature_count) + " features");
  // Flat data (CSV rows) of the right count feed an image model as its values, channels last.
  if (model_input.size() > 1 && !data.shape.empty() && model_input != data.sample_shape())
    throw UsageError("the model takes samples of " + data::shape_text(model_input) + " but '" + data.name + "' has samples of " +
                     data::shape_text(data.sample_shape()));
}

}  // namespace bnlab

#include "models/presets.hpp"

#include <algorithm>

#include "graph/errors.hpp"
#include "graph/suggest.hpp"
#include "models/cnn.hpp"
#include "models/mlp.hpp"

namespace bnlab {

const char* to_string(Norm n) {
  switch (n) {
    case Norm::none: return "none";
    case Norm::batch: return "batch";
    case Norm::layer: return "layer";
  }
  return "?";
}

const char* to_string(NormPlacement p) {
  return p == NormPlacement::after_activation ? "after_activation" : "before_activation";
}

Norm norm_from_string(const std::string& s) {
  if (s == "none") return Norm::none;
  if (s == "batch") return Norm::batch;
  if (s == "layer") return Norm::layer;
  throw UsageError(unknown_name("norm", s, {"none", "batch", "layer"}));
}

NormPlacement placement_from_string(const std::string& s) {
  if (s == "after_activation" || s == "after") return NormPlacement::after_activation;
  if (s == "before_activation" || s == "before") return NormPlacement::before_activation;
  throw UsageError(unknown_name("norm placement", s, {"after_activation", "before_activation"}));
}

std::vector<std::string> preset_names() { return {"plain", "batchnorm", "layernorm", "cnn-plain", "cnn-batchnorm"}; }

bool is_preset(const std::string& name) {
  const auto names = preset_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

ModelSpec preset_spec(const std::string& name, const std::vector<int64_t>& sample_shape, int64_t classes,
                      const ModelOptions& options) {
  if (!is_preset(name)) throw UsageError(unknown_name("model", name, preset_names()));
  if (CnnSpec::is_preset(name)) {
    CnnSpec s = CnnSpec::preset(name).refined(options);
    s.input_shape = sample_shape;
    s.classes = classes;
    return s.model_spec();
  }
  MlpSpec s = MlpSpec::preset(name).refined(options);
  s.inputs = 1;
  for (int64_t d : sample_shape) s.inputs *= d;  // an MLP takes the sample flat, as it lies in memory
  s.classes = classes;
  return s.model_spec();
}

ModelSpec preset_spec(const std::string& name, int64_t inputs, int64_t classes, const ModelOptions& options) {
  return preset_spec(name, std::vector<int64_t>{inputs}, classes, options);
}

}  // namespace bnlab

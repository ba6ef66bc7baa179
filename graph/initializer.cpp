#include "graph/initializer.hpp"

#include <cmath>

#include "graph/errors.hpp"
#include "graph/suggest.hpp"

namespace bnlab {

double Init::sample(Rng& rng) const {
  const double in = static_cast<double>(fan_in > 0 ? fan_in : 1);
  const double out = static_cast<double>(fan_out > 0 ? fan_out : 1);
  double v = 0;
  switch (kind) {
    case Kind::constant: v = value; break;
    case Kind::glorot_uniform: { const double a = std::sqrt(6.0 / (in + out)); v = rng.uniform(-a, a); break; }
    case Kind::he_normal: v = rng.normal() * std::sqrt(2.0 / in); break;
    case Kind::he_uniform: { const double a = std::sqrt(6.0 / in); v = rng.uniform(-a, a); break; }
    // NOTE: PyTorch's nn.Linear uses kaiming_uniform(a=sqrt(5)) for the weight, which works out to
    // U(-1/sqrt(fan_in), 1/sqrt(fan_in)) — the same bound as its bias.
    case Kind::torch_default: { const double a = 1.0 / std::sqrt(in); v = rng.uniform(-a, a); break; }
    case Kind::normal: v = rng.normal() * value; break;
  }
  return v * scale;
}

const char* to_string(Init::Kind kind) {
  switch (kind) {
    case Init::Kind::constant: return "constant";
    case Init::Kind::glorot_uniform: return "glorot_uniform";
    case Init::Kind::he_normal: return "he_normal";
    case Init::Kind::he_uniform: return "he_uniform";
    case Init::Kind::torch_default: return "torch_default";
    case Init::Kind::normal: return "normal";
  }
  return "?";
}

std::string Init::to_string() const {
  std::string s = bnlab::to_string(kind);
  if (kind == Kind::constant || kind == Kind::normal) s += "(" + std::to_string(value) + ")";
  if (scale != 1.0) s += "*" + std::to_string(scale);
  return s;
}

Init::Kind init_kind_from_string(const std::string& name) {
  for (auto k : {Init::Kind::glorot_uniform, Init::Kind::he_normal, Init::Kind::he_uniform, Init::Kind::torch_default})
    if (name == bnlab::to_string(k)) return k;
  throw UsageError(unknown_name("initializer", name, {"glorot_uniform", "he_normal", "he_uniform", "torch_default"}));
}

}  // namespace bnlab

// How a parameter is initialized: a description kept in the graph, applied by a Session.
//
//   Init::glorot_uniform(784, 128)   // U(-a, a), a = sqrt(6 / (fan_in + fan_out)) — Keras' default
//   Init::he_normal(784)             // N(0, 2 / fan_in)
//   Init::torch_default(784)         // U(-1/sqrt(fan_in), 1/sqrt(fan_in)) — nn.Linear's weight and bias
//   Init::constant(1.0)              // batch norm's gamma; Init::zeros() for biases and beta
//   init.scaled(10.0)                // the same distribution with every value multiplied by 10
#pragma once

#include <cstdint>
#include <string>

#include "graph/random.hpp"

namespace bnlab {

struct Init {
  enum class Kind { constant, glorot_uniform, he_normal, he_uniform, torch_default, normal };
  Kind kind = Kind::constant;
  double value = 0.0;  // constant value, or the standard deviation for `normal`
  int64_t fan_in = 0;
  int64_t fan_out = 0;
  double scale = 1.0;  // multiplies every drawn value (weight-scale experiments)

  static Init zeros() { return {}; }
  static Init constant(double v) { return {Kind::constant, v}; }
  static Init glorot_uniform(int64_t fan_in, int64_t fan_out) { return {Kind::glorot_uniform, 0, fan_in, fan_out}; }
  static Init he_normal(int64_t fan_in) { return {Kind::he_normal, 0, fan_in, 0}; }
  static Init he_uniform(int64_t fan_in) { return {Kind::he_uniform, 0, fan_in, 0}; }
  static Init torch_default(int64_t fan_in) { return {Kind::torch_default, 0, fan_in, 0}; }
  static Init normal(double stddev) { return {Kind::normal, stddev}; }
  Init scaled(double s) const { Init i = *this; i.scale *= s; return i; }

  // Draws one value.
  double sample(Rng& rng) const;
  std::string to_string() const;
};

// Parses the names used on the command line: glorot_uniform, he_normal, he_uniform, torch_default.
Init::Kind init_kind_from_string(const std::string& name);
const char* to_string(Init::Kind kind);

}  // namespace bnlab

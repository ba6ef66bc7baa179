// Gradient checking as a library feature: the analytic gradients of a graph against central finite
// differences, both computed in double precision by the same kernels that train in float.
//
//   bnlab::GradCheckResult r = bnlab::gradcheck(graph, loss, {.batch = 4});
//   for (const auto& t : r.tensors) printf("%s %.2e\n", t.name.c_str(), t.max_rel_error);
//   bool ok = r.passed();
//
// A non-scalar target is reduced to the scalar sum(w ⊙ target) with fixed random weights w, so the
// check covers every output element. Inputs are drawn uniformly from [-1, 1], labels uniformly
// from their classes, parameters from their Init (with the given seed).
//
// Error of one element: |analytic − numeric| / max(|analytic|, |numeric|, abs_floor). The floor keeps
// elements whose true gradient is (near) zero from reporting a huge relative error from rounding.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.hpp"

namespace bnlab {

struct GradCheckOptions {
  int64_t batch = 4;
  uint64_t seed = 0;
  double step = 1e-6;        // central difference step h
  double tolerance = 1e-6;   // pass when every element's error is below this
  double abs_floor = 1e-3;   // see above
  Mode mode = Mode::train;
  // The session's kernels split their work over this many threads, as in training (batch norm
  // splits its features into parts of 16, so ≥ 32 features on 2 threads crosses the split).
  int threads = 1;
  bool check_inputs = true;  // also check the gradients of (non-label) inputs
  // > 0: check only a seeded random subset of this many elements of each larger tensor, because a
  // full check costs two forward passes per element (~200k for a 784-input MLP). 0 checks all.
  int64_t max_elements_per_tensor = 0;
  // Replaces the random input values (name → row-major values of [batch, F]) when given.
  std::vector<std::pair<std::string, std::vector<double>>> input_values;
};

struct TensorCheck {
  std::string name;
  bool is_parameter = false;
  double max_rel_error = 0;
  double max_abs_error = 0;
  int64_t worst_index = -1;
  double analytic = 0, numeric = 0;  // at the worst index
  int64_t elements = 0;
  int64_t checked = 0;               // elements compared (fewer than `elements` when subsampled)
};

struct GradCheckResult {
  std::vector<TensorCheck> tensors;
  double tolerance = 0;
  double max_rel_error() const;
  bool passed() const { return max_rel_error() < tolerance; }
};

GradCheckResult gradcheck(const Graph& graph, Var target, GradCheckOptions options = {});
GradCheckResult gradcheck(const Graph& graph, NodeId target, GradCheckOptions options = {});

}  // namespace bnlab

#include "graph/gradcheck.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "graph/errors.hpp"
#include "graph/session.hpp"

namespace bnlab {

namespace {

// The elements of tensor number `tensor` to compare: all of them, or a sorted seeded sample (its own
// sub-stream per tensor, so the sample does not depend on the input values or on other tensors).
std::vector<int64_t> checked_indices(int64_t elements, const GradCheckOptions& options, size_t tensor) {
  std::vector<int64_t> all(static_cast<size_t>(elements));
  std::iota(all.begin(), all.end(), int64_t{0});
  const int64_t keep = options.max_elements_per_tensor;
  if (keep <= 0 || keep >= elements) return all;
  Rng rng = Rng::derived(options.seed, 0x73756273657400ull, tensor);  // "subset"
  // Partial Fisher–Yates: the first `keep` slots become a uniform sample without replacement.
  for (int64_t i = 0; i < keep; ++i) {
    const auto j = i + static_cast<int64_t>(rng.below(static_cast<uint64_t>(elements - i)));
    std::swap(all[static_cast<size_t>(i)], all[static_cast<size_t>(j)]);
  }
  all.resize(static_cast<size_t>(keep));
  std::sort(all.begin(), all.end());
  return all;
}

}  // namespace

double GradCheckResult::max_rel_error() const {
  double m = 0;
  for (const auto& t : tensors) m = std::max(m, t.max_rel_error);
  return m;
}

GradCheckResult gradcheck(const Graph& graph, Var target, GradCheckOptions options) {
  if (target.graph != &graph) throw UsageError("gradcheck: the target belongs to another graph");
  return gradcheck(graph, target.id, options);
}

GradCheckResult gradcheck(const Graph& graph, NodeId target, GradCheckOptions options) {
  BasicSession<double> s(compile(graph, target, {.backward = true, .input_gradients = options.check_inputs}),
                         {.seed = options.seed, .threads = options.threads});
  s.set_batch(options.batch);
  const Program& p = s.program();
  Rng rng = Rng::derived(options.seed, 0x67726164);  // "grad"
  for (const auto& pn : p.order) {
    const Node& node = graph.node(pn.id);
    if (node.kind == NodeKind::input) {
      auto v = s.input(pn.id).vec();
      for (Eigen::Index k = 0; k < v.size(); ++k) v[k] = rng.uniform(-1.0, 1.0);
      for (const auto& [name, values] : options.input_values)
        if (name == node.name) {
          if (static_cast<Eigen::Index>(values.size()) != v.size())
            throw UsageError("gradcheck: input '" + name + "' needs " + std::to_string(v.size()) + " values, got " +
                             std::to_string(values.size()));
          std::copy(values.begin(), values.end(), v.data());
        }
    } else if (node.kind == NodeKind::labels) {
      for (int32_t& y : s.labels(pn.id)) y = static_cast<int32_t>(rng.below(static_cast<uint64_t>(node.num_classes)));
    }
  }
  // The scalar being differentiated: the target itself, or sum(w ⊙ target).
  std::vector<double> weights(static_cast<size_t>(s.value(target).size()), 1.0);
  if (!p.target_is_scalar())
    for (double& w : weights) w = rng.uniform(-1.0, 1.0);
  const std::vector<double> state0(s.state().data.begin(), s.state().data.end());
  auto loss = [&] {
    // Running statistics must not drift between evaluations (copied in place: views point into it).
    std::copy(state0.begin(), state0.end(), s.state().data.begin());
    s.forward(options.mode);
    const auto out = s.value(target).vec();
    double l = 0;
    for (Eigen::Index k = 0; k < out.size(); ++k) l += weights[static_cast<size_t>(k)] * out[k];
    return l;
  };

  loss();
  s.backward(weights);

  // Copy the analytic gradients before the finite differences overwrite the arena.
  struct Candidate { std::string name; bool is_parameter; TensorView<double> value; std::vector<double> analytic; };
  std::vector<Candidate> candidates;
  for (const auto& pn : p.order) {
    const Node& node = graph.node(pn.id);
    if (!pn.needs_grad || (node.kind != NodeKind::parameter && node.kind != NodeKind::input)) continue;
    const auto g = s.grad(pn.id);
    candidates.push_back({node.name, node.kind == NodeKind::parameter, s.value(pn.id),
                          std::vector<double>(g.data, g.data + g.size())});
  }

  GradCheckResult result;
  result.tolerance = options.tolerance;
  for (size_t ci = 0; ci < candidates.size(); ++ci) {
    Candidate& c = candidates[ci];
    TensorCheck t;
    t.name = c.name;
    t.is_parameter = c.is_parameter;
    t.elements = c.value.size();
    const std::vector<int64_t> indices = checked_indices(t.elements, options, ci);
    t.checked = static_cast<int64_t>(indices.size());
    for (const int64_t k : indices) {
      double& x = c.value.data[k];
      const double saved = x;
      x = saved + options.step;
      const double up = loss();
      x = saved - options.step;
      const double down = loss();
      x = saved;
      const double numeric = (up - down) / (2 * options.step);
      const double analytic = c.analytic[static_cast<size_t>(k)];
      const double abs_err = std::abs(analytic - numeric);
      const double rel = abs_err / std::max({std::abs(analytic), std::abs(numeric), options.abs_floor});
      t.max_abs_error = std::max(t.max_abs_error, abs_err);
      if (rel > t.max_rel_error || t.worst_index < 0) {
        t.max_rel_error = rel;
        t.worst_index = k;
        t.analytic = analytic;
        t.numeric = numeric;
      }
    }
    result.tensors.push_back(t);
  }
  return result;
}

}  // namespace bnlab

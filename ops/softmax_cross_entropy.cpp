#include "ops/softmax_cross_entropy.hpp"

#include <cmath>

#include "graph/errors.hpp"

namespace bnlab {
namespace {

Shape infer(const ShapeContext& c) {
  const Shape& logits = c.in[0];
  if (logits.rank() != 2 || !logits.has_batch() || logits[1] < 1)
    throw ShapeError("logits must be [B,C] with C >= 1, got " + logits.to_string() + " and labels " + c.in[1].to_string());
  return Shape{};
}

// probs is what backward reads; correct (the rows predicted right) is saved for the caller, who reads
// it after forward through correct_predictions(session, loss).
constexpr TensorDecl kSaved[] = {
    {"probs", [](const ShapeContext& c) { return c.in[0]; }},  // [B,C]
    {"correct", [](const ShapeContext&) { return Shape{1}; }},  // [1]
};
constexpr int saved_probs = index_of(kSaved, "probs"), saved_correct = index_of(kSaved, "correct");

template <class T>
void forward(const ForwardArgs<T>& a) {
  const auto x = a.in[0].mat();
  auto probs = a.saved[saved_probs].mat();
  const int64_t rows = x.rows(), classes = x.cols();
  T total = 0;
  int64_t correct = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const int32_t y = a.labels[static_cast<size_t>(r)];
    if (y < 0 || y >= classes)
      throw InputError("node '" + *a.node_name + "' (softmax_cross_entropy): label " + std::to_string(y) + " at row " +
                       std::to_string(r) + " is outside [0, " + std::to_string(classes) + ")");
    // NOTE: the row maximum is subtracted before exp, so logits of ±1000 stay finite.
    Eigen::Index arg = 0;
    const T max = x.row(r).maxCoeff(&arg);
    probs.row(r) = (x.row(r).array() - max).exp();
    const T sum = probs.row(r).sum();
    const T log_sum = std::log(sum);
    probs.row(r) /= sum;
    total += log_sum - (x(r, y) - max);  // -log softmax(x)_y = logsumexp(x) - x_y
    correct += arg == y;
  }
  a.out.data[0] = total / static_cast<T>(rows);
  a.saved[saved_correct].data[0] = static_cast<T>(correct);
}

// d(mean loss)/d logits = (softmax - onehot(y)) / B, times the upstream scalar.
template <class T>
void backward(const BackwardArgs<T>& a) {
  const auto& dx = a.grad_in[0];
  if (dx.grad.empty()) return;
  const auto probs = a.saved[saved_probs].mat();
  const T scale = a.grad_out.data[0] / static_cast<T>(probs.rows());
  auto g = dx.grad.mat();
  for (int64_t r = 0; r < probs.rows(); ++r) {
    const int32_t y = a.labels[static_cast<size_t>(r)];
    if (dx.accumulate) {
      g.row(r) += scale * probs.row(r);
      g(r, y) -= scale;
    } else {
      g.row(r) = scale * probs.row(r);
      g(r, y) -= scale;
    }
  }
}

Var example(Graph& g) {
  auto logits = g.input("logits", {batch, 5});
  auto y = g.labels("y", 5);
  return softmax_cross_entropy(logits, y, "loss");
}

}  // namespace

const OpInfo softmax_cross_entropy_op = {
    .name = "softmax_cross_entropy",
    .inputs = {{"logits"}, {"labels", true}},
    .saved = kSaved,
    .infer = infer,
    .f32 = {forward<float>, backward<float>},
    .f64 = {forward<double>, backward<double>},
    .example = example,
};

Var softmax_cross_entropy(Var logits, Var labels, const std::string& name) {
  return logits.graph->op(softmax_cross_entropy_op, {logits, labels},
                          name.empty() ? logits.graph->unique_name("loss") : name);
}

template <class T>
int64_t correct_predictions(const BasicSession<T>& session, NodeId loss) {
  const Node& node = session.graph().node(loss);
  if (node.op != &softmax_cross_entropy_op)
    throw UsageError("node '" + node.name + "' is not a softmax_cross_entropy loss, so it counts no correct predictions");
  return static_cast<int64_t>(session.saved(loss, "correct").data[0]);
}
template int64_t correct_predictions(const BasicSession<float>&, NodeId);
template int64_t correct_predictions(const BasicSession<double>&, NodeId);

}  // namespace bnlab

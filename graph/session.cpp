#include "graph/session.hpp"

#include <algorithm>

#include "graph/blas_threads.hpp"
#include "graph/errors.hpp"

namespace bnlab {

template <class T>
BasicSession<T>::BasicSession(Program program, SessionOptions options) : program_(std::move(program)) {
  const Graph& g = program_.graph;
  for (NodeId id : program_.parameters) params_.add(g.node(id).name, g.node(id).shape);
  grads_ = TensorStore<T>::like(params_);
  state_index_.assign(program_.order.size(), -1);
  for (size_t i = 0; i < program_.order.size(); ++i) {
    const ProgramNode& pn = program_.order[i];
    if (pn.state_names.empty()) continue;
    state_index_[i] = state_.size();
    for (size_t s = 0; s < pn.state_names.size(); ++s) state_.add(pn.state_names[s], pn.state_shapes[s]);
  }
  reset_state();
  initialize_parameters(options.seed);
  label_buffers_.resize(program_.order.size());
  bound_.resize(program_.order.size());
  if (options.max_batch > 0) plan(options.max_batch);
  if (options.threads < 1) throw UsageError("a session needs at least 1 thread, got " + std::to_string(options.threads));
  if (options.threads > 1) pool_ = std::make_unique<ThreadPool>(options.threads);
  keep_blas_single_threaded();
}

template <class T>
void BasicSession<T>::initialize_parameters(uint64_t seed) {
  Rng rng(seed);
  for (int p = 0; p < params_.size(); ++p) {
    const Init& init = program_.graph.node(program_.parameters[static_cast<size_t>(p)]).init;
    auto v = params_.view(p).vec();
    for (Eigen::Index k = 0; k < v.size(); ++k) v[k] = static_cast<T>(init.sample(rng));
  }
}

template <class T>
void BasicSession<T>::reset_state() {
  for (size_t i = 0; i < program_.order.size(); ++i) {
    if (state_index_[i] < 0) continue;
    const auto& decls = program_.graph.node(program_.order[i].id).op->state;
    for (size_t s = 0; s < decls.size(); ++s)
      state_.view(state_index_[i] + static_cast<int>(s)).vec().setConstant(static_cast<T>(decls[s].initial_value));
  }
}

template <class T>
NodeId BasicSession<T>::require(const std::string& name) const {
  const NodeId id = program_.graph.find(name);
  if (id < 0 || !program_.contains(id)) throw UsageError("the program has no node named '" + name + "'");
  return id;
}

template <class T>
void BasicSession<T>::plan(int64_t capacity) {
  std::vector<int64_t> sizes;
  for (const auto& s : program_.slots) sizes.push_back(s.shape.elements(capacity));
  int64_t total = 0;
  offsets_ = plan_offsets(program_.slots, sizes, total);
  arena_.assign(static_cast<size_t>(total), T(0));
  for (size_t i = 0; i < program_.order.size(); ++i)
    if (program_.graph.node(program_.order[i].id).kind == NodeKind::labels)
      label_buffers_[i].assign(static_cast<size_t>(capacity), 0);
  capacity_ = capacity;
  batch_ = 0;  // views must be rebuilt
}

template <class T>
TensorView<T> BasicSession<T>::slot_view(int slot) const {
  if (slot < 0) return {};
  const Shape& s = program_.slots[static_cast<size_t>(slot)].shape;
  return {const_cast<T*>(arena_.data()) + offsets_[static_cast<size_t>(slot)], s.rows(batch_), s.cols()};
}

template <class T>
void BasicSession<T>::set_batch(int64_t batch) {
  if (batch < 1) throw UsageError("batch size must be at least 1, got " + std::to_string(batch));
  if (batch == batch_) return;
  if (batch > capacity_) plan(batch);
  batch_ = batch;
  bind();
}

template <class T>
void BasicSession<T>::bind() {
  const Program& p = program_;
  for (size_t i = 0; i < p.order.size(); ++i) {
    const ProgramNode& pn = p.order[i];
    const Node& node = p.graph.node(pn.id);
    if (node.kind != NodeKind::op) continue;
    Bound& b = bound_[i];
    b.in.clear();
    b.grad_in.clear();
    b.saved.clear();
    b.state.clear();
    b.labels = {};
    for (size_t j = 0; j < node.inputs.size(); ++j) {
      const NodeId in = node.inputs[j];
      if (p.graph.node(in).kind == NodeKind::labels) {
        b.in.push_back({});
        b.labels = labels(in);
      } else {
        b.in.push_back(value(in));
      }
      GradTarget<T> target;
      if (pn.needs_grad && p.at(in).needs_grad) target = {grad(in), pn.accumulate[j]};
      b.grad_in.push_back(target);
    }
    b.out = slot_view(pn.value_slot);
    b.grad_out = slot_view(pn.grad_slot);
    for (int s : pn.saved_slots) b.saved.push_back(slot_view(s));
    for (size_t s = 0; s < pn.state_names.size(); ++s) b.state.push_back(state_.view(state_index_[i] + static_cast<int>(s)));
  }
}

template <class T>
TensorView<T> BasicSession<T>::value(NodeId id) const {
  const ProgramNode& pn = program_.at(id);
  if (pn.parameter >= 0) return params_.view(pn.parameter);
  if (pn.value_slot < 0) throw UsageError("node '" + program_.graph.node(id).name + "' has no value (labels?)");
  return slot_view(pn.value_slot);
}

template <class T>
TensorView<T> BasicSession<T>::grad(NodeId id) const {
  const ProgramNode& pn = program_.at(id);
  if (pn.parameter >= 0) return grads_.view(pn.parameter);
  return slot_view(pn.grad_slot);
}

template <class T>
TensorView<T> BasicSession<T>::saved(NodeId id, const std::string& name) const {
  const ProgramNode& pn = program_.at(id);
  const OpInfo* op = program_.graph.node(id).op;
  for (size_t s = 0; op && s < op->saved.size(); ++s)
    if (name == op->saved[s]) return slot_view(pn.saved_slots[s]);
  throw UsageError("node '" + program_.graph.node(id).name + "' saves no tensor named '" + name + "'");
}

template <class T>
TensorView<T> BasicSession<T>::input(NodeId id) const {
  if (program_.graph.node(id).kind != NodeKind::input)
    throw UsageError("node '" + program_.graph.node(id).name + "' is not an input");
  return value(id);
}

template <class T>
std::span<int32_t> BasicSession<T>::labels(NodeId id) const {
  if (program_.graph.node(id).kind != NodeKind::labels)
    throw UsageError("node '" + program_.graph.node(id).name + "' is not a labels node");
  auto& buffer = label_buffers_[static_cast<size_t>(program_.position[static_cast<size_t>(id)])];
  return {const_cast<int32_t*>(buffer.data()), static_cast<size_t>(batch_)};
}

template <class T>
T BasicSession<T>::forward(Mode mode) {
  if (batch_ < 1) throw UsageError("forward before set_batch");
  last_mode_ = mode;
  const Program& p = program_;
  for (size_t i = 0; i < p.order.size(); ++i) {
    const Node& node = p.graph.node(p.order[i].id);
    if (node.kind != NodeKind::op) continue;
    const Bound& b = bound_[i];
    node.op->template kernels<T>().forward(
        ForwardArgs<T>{b.in, b.labels, b.out, b.saved, b.state, node.attrs, mode, &node.name, pool_.get()});
  }
  return value(p.target).data[0];
}

template <class T>
void BasicSession<T>::backward() {
  if (!program_.target_is_scalar())
    throw UsageError("backward without a seed needs a scalar target; '" + program_.graph.node(program_.target).name +
                     "' is " + program_.graph.node(program_.target).shape.to_string());
  const T one = T(1);
  backward(std::span<const T>(&one, 1));
}

template <class T>
void BasicSession<T>::backward(std::span<const T> seed) {
  const Program& p = program_;
  if (!p.options.backward) throw UsageError("backward on a program compiled without backward");
  const ProgramNode& target = p.at(p.target);
  if (!target.needs_grad) return;
  TensorView<T> g = grad(p.target);
  if (static_cast<int64_t>(seed.size()) != g.size())
    throw UsageError("backward seed has " + std::to_string(seed.size()) + " elements, the target has " + std::to_string(g.size()));
  std::copy(seed.begin(), seed.end(), g.data);
  for (size_t i = p.order.size(); i-- > 0;) {
    // NOTE: the mode of the last forward pass decides the backward formula (batch norm).
    const ProgramNode& pn = p.order[i];
    const Node& node = p.graph.node(pn.id);
    if (node.kind != NodeKind::op || !pn.needs_grad) continue;
    const Bound& b = bound_[i];
    node.op->template kernels<T>().backward(
        BackwardArgs<T>{b.in, b.labels, b.out, b.grad_out, b.saved, node.attrs, b.grad_in, last_mode_, pool_.get()});
  }
}

template <class T>
NodeId BasicSession<T>::first_nonfinite_value() const {
  for (const ProgramNode& pn : program_.order) {
    const NodeKind kind = program_.graph.node(pn.id).kind;
    if (kind == NodeKind::labels) continue;
    if (!value(pn.id).vec().allFinite()) return pn.id;
  }
  return -1;
}

template <class T>
NodeId BasicSession<T>::first_nonfinite_gradient() const {
  for (size_t p = 0; p < program_.parameters.size(); ++p)
    if (!grads_.view(static_cast<int>(p)).vec().allFinite()) return program_.parameters[p];
  return -1;
}

template class BasicSession<float>;
template class BasicSession<double>;

}  // namespace bnlab

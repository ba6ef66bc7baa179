#include "graph/session.hpp"

#include <algorithm>

#include "graph/blas_threads.hpp"
#include "graph/errors.hpp"
#include "graph/memory.hpp"

namespace bnlab {

namespace {

// A shape's elements at batch `b` in floating point: a huge batch times a wide layer still compares.
double elements_at(const Shape& s, int64_t b) {
  double n = 1;
  for (int i = 0; i < s.rank(); ++i) n *= static_cast<double>(i == 0 && s.has_batch() ? b : s[i]);
  return n;
}

// The bytes of the parameters, their gradients and the state store (running statistics).
template <class T>
double parameter_bytes(const Program& p) {
  double n = 0;
  for (NodeId id : p.parameters) n += 2 * elements_at(p.graph.node(id).shape, 1);
  for (const ProgramNode& pn : p.order)
    for (const Shape& s : pn.state_shapes) n += elements_at(s, 1);
  return n * sizeof(T);
}

// The arena's elements for `capacity` rows and each slot's offset in it (empty when the sizes are
// beyond 64 bits; the returned count is then a lower bound: the largest slot).
double plan_arena(const Program& p, int64_t capacity, std::vector<int64_t>& offsets) {
  double sum = 0, largest = 0;
  for (const auto& s : p.slots) {
    const double n = elements_at(s.shape, capacity);
    sum += n;
    largest = std::max(largest, n);
  }
  offsets.clear();
  if (sum > 0x1p62) return largest;
  std::vector<int64_t> sizes;
  for (const auto& s : p.slots) sizes.push_back(s.shape.elements(capacity));
  int64_t total = 0;
  offsets = plan_offsets(p.slots, sizes, total);
  return static_cast<double>(total);
}

const char* advice = "use a smaller batch size or model";

}  // namespace

template <class T>
BasicSession<T>::BasicSession(Program program, SessionOptions options) : program_(std::move(program)), seed_(options.seed), collective_(options.collective) {
  const Graph& g = program_.graph;
  // With max_batch the parameters and the arena are checked together (one message naming both),
  // and the arena planned here is the one allocated below.
  const double param_bytes = parameter_bytes<T>(program_);
  double arena_elements = 0;
  if (options.max_batch > 0) {
    arena_elements = plan_arena(program_, options.max_batch, offsets_);
    const double activation_bytes = arena_elements * sizeof(T);
    check_memory(param_bytes + activation_bytes, [&] {
      return "the model needs " + format_bytes(param_bytes + activation_bytes) + " for batch " + std::to_string(options.max_batch) +
             " (activations " + format_bytes(activation_bytes) + ", parameters and gradients " + format_bytes(param_bytes) + ")";
    }, advice);
  } else {
    check_memory(param_bytes, [&] { return "the model's parameters and gradients need " + format_bytes(param_bytes); }, advice);
  }
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
  if (options.max_batch > 0) allocate_arena(options.max_batch, arena_elements);
  if (options.threads < 1) throw UsageError("a session needs at least 1 thread, got " + std::to_string(options.threads));
  if (options.threads > 1) pool_ = std::make_unique<ThreadPool>(options.threads);
  keep_blas_single_threaded();
}

template <class T>
void BasicSession<T>::initialize_parameters(uint64_t seed) {
  seed_ = seed;  // random ops (dropout) draw from the same seed as the parameters
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
  // The parameters are allocated by now: what is checked is the arena this batch needs on top. The
  // offsets replace the current ones only once it is granted: a refused batch leaves the session
  // running the one it had.
  std::vector<int64_t> offsets;
  const double total = plan_arena(program_, capacity, offsets);
  check_memory(total * sizeof(T) + static_cast<double>(capacity) * sizeof(int32_t), [&] {
    return "the model needs " + format_bytes(total * sizeof(T)) + " of activations for batch " + std::to_string(capacity) +
           " (beside its parameters and gradients, " + format_bytes(parameter_bytes<T>(program_)) + ")";
  }, advice);
  offsets_ = std::move(offsets);
  allocate_arena(capacity, total);
}

template <class T>
void BasicSession<T>::allocate_arena(int64_t capacity, double elements) {
  arena_.assign(static_cast<size_t>(elements), T(0));
  for (size_t i = 0; i < program_.order.size(); ++i)
    if (program_.graph.node(program_.order[i].id).kind == NodeKind::labels)
      label_buffers_[i].assign(static_cast<size_t>(capacity), 0);
  capacity_ = capacity;
  batch_ = 0;  // views must be rebuilt
}

template <class T>
template <class Self>
auto BasicSession<T>::slot_view(Self& self, int slot) -> ViewOf<Self> {
  if (slot < 0) return {};
  return slot_view(self, slot, self.program_.slots[static_cast<size_t>(slot)].shape);
}

template <class T>
template <class Self>
auto BasicSession<T>::slot_view(Self& self, int slot, const Shape& s) -> ViewOf<Self> {
  if (slot < 0) return {};
  return {self.arena_.data() + self.offsets_[static_cast<size_t>(slot)], s.rows(self.batch_), s.cols()};
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
    b.in.clear();  // clear, not reassign: the vectors keep their capacity across set_batch
    b.in_shapes.clear();
    b.grad_in.clear();
    b.saved.clear();
    b.saved_read.clear();
    b.scratch.clear();
    b.backward_scratch.clear();
    b.state.clear();
    b.labels = {};
    b.out_shape = node.shape.resolve(batch_);
    for (size_t j = 0; j < node.inputs.size(); ++j) {
      const NodeId in = node.inputs[j];
      b.in_shapes.push_back(p.graph.node(in).shape.resolve(batch_));
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
    b.out = slot_view(*this, pn.value_slot, node.shape);  // a view's slot may be shaped as its input
    b.grad_out = slot_view(*this, pn.grad_slot, node.shape);
    for (int s : pn.saved_slots) b.saved.push_back(slot_view(*this, s));
    b.saved_read.assign(b.saved.begin(), b.saved.end());
    for (int s : pn.scratch_slots) b.scratch.push_back(slot_view(*this, s));
    for (int s : pn.backward_scratch_slots) b.backward_scratch.push_back(slot_view(*this, s));
    for (size_t s = 0; s < pn.state_names.size(); ++s) b.state.push_back(state_.view(state_index_[i] + static_cast<int>(s)));
  }
}

template <class T>
template <class Self>
auto BasicSession<T>::value_of(Self& self, NodeId id) -> ViewOf<Self> {
  const ProgramNode& pn = self.program_.at(id);
  if (pn.parameter >= 0) return self.params_.view(pn.parameter);
  if (pn.value_slot < 0) throw UsageError("node '" + self.program_.graph.node(id).name + "' has no value (labels?)");
  return slot_view(self, pn.value_slot, self.program_.graph.node(id).shape);
}

template <class T>
template <class Self>
auto BasicSession<T>::grad_of(Self& self, NodeId id) -> ViewOf<Self> {
  const ProgramNode& pn = self.program_.at(id);
  if (pn.parameter >= 0) return self.grads_.view(pn.parameter);
  return slot_view(self, pn.grad_slot, self.program_.graph.node(id).shape);
}

template <class T>
template <class Self>
auto BasicSession<T>::saved_of(Self& self, NodeId id, const std::string& name) -> ViewOf<Self> {
  const ProgramNode& pn = self.program_.at(id);
  const OpInfo* op = self.program_.graph.node(id).op;
  for (size_t s = 0; op && s < op->saved.size(); ++s)
    if (name == op->saved[s].name) return slot_view(self, pn.saved_slots[s]);
  throw UsageError("node '" + self.program_.graph.node(id).name + "' saves no tensor named '" + name + "'");
}

template <class T>
template <class Self>
auto BasicSession<T>::input_of(Self& self, NodeId id) -> ViewOf<Self> {
  if (self.program_.graph.node(id).kind != NodeKind::input)
    throw UsageError("node '" + self.program_.graph.node(id).name + "' is not an input");
  return value_of(self, id);
}

template <class T>
template <class Self>
auto BasicSession<T>::labels_of(Self& self, NodeId id)
    -> std::span<std::conditional_t<std::is_const_v<Self>, const int32_t, int32_t>> {
  if (self.program_.graph.node(id).kind != NodeKind::labels)
    throw UsageError("node '" + self.program_.graph.node(id).name + "' is not a labels node");
  auto& buffer = self.label_buffers_[static_cast<size_t>(self.program_.position[static_cast<size_t>(id)])];
  return {buffer.data(), static_cast<size_t>(self.batch_)};
}

// clang-format off
template <class T> TensorView<T> BasicSession<T>::value(NodeId id) { return value_of(*this, id); }
template <class T> TensorView<const T> BasicSession<T>::value(NodeId id) const { return value_of(*this, id); }
template <class T> TensorView<T> BasicSession<T>::grad(NodeId id) { return grad_of(*this, id); }
template <class T> TensorView<const T> BasicSession<T>::grad(NodeId id) const { return grad_of(*this, id); }
template <class T> TensorView<T> BasicSession<T>::saved(NodeId id, const std::string& name) { return saved_of(*this, id, name); }
template <class T> TensorView<const T> BasicSession<T>::saved(NodeId id, const std::string& name) const { return saved_of(*this, id, name); }
template <class T> TensorView<T> BasicSession<T>::input(NodeId id) { return input_of(*this, id); }
template <class T> TensorView<const T> BasicSession<T>::input(NodeId id) const { return input_of(*this, id); }
template <class T> std::span<int32_t> BasicSession<T>::labels(NodeId id) { return labels_of(*this, id); }
template <class T> std::span<const int32_t> BasicSession<T>::labels(NodeId id) const { return labels_of(*this, id); }
// clang-format on

template <class T>
size_t BasicSession<T>::op_index(NodeId id) const {
  if (!program_.contains(id) || program_.graph.node(id).kind != NodeKind::op)
    throw UsageError("node " + std::to_string(id) + " is not an op node of the program");
  return static_cast<size_t>(program_.position[static_cast<size_t>(id)]);
}

template <class T>
ForwardArgs<T> BasicSession<T>::forward_args_at(size_t i, Mode mode) {
  const Node& node = program_.graph.node(program_.order[i].id);
  const Bound& b = bound_[i];
  // splitmix64's increment: seeds of neighbouring nodes and sessions land far apart.
  const uint64_t node_seed = seed_ ^ (0x9e3779b97f4a7c15ull * (static_cast<uint64_t>(program_.order[i].id) + 1));
  return {.in = b.in, .in_shapes = b.in_shapes, .out_shape = b.out_shape, .labels = b.labels, .out = b.out,
          .saved = b.saved, .scratch = b.scratch, .state = b.state, .attrs = node.attrs, .mode = mode,
          .node_name = &node.name, .pool = pool_.get(), .seed = node_seed, .collective = collective_,
          .first_row = first_row_};
}

template <class T>
BackwardArgs<T> BasicSession<T>::backward_args_at(size_t i, Mode mode) {
  const Node& node = program_.graph.node(program_.order[i].id);
  const Bound& b = bound_[i];
  return {.in = b.in, .in_shapes = b.in_shapes, .out_shape = b.out_shape, .labels = b.labels, .out = b.out,
          .grad_out = b.grad_out, .saved = b.saved_read,
          .scratch = b.backward_scratch, .attrs = node.attrs, .grad_in = b.grad_in, .mode = mode, .pool = pool_.get(),
          .collective = collective_};
}

template <class T>
T BasicSession<T>::forward(Mode mode) {
  if (batch_ < 1) throw UsageError("forward before set_batch");
  last_mode_ = mode;
  const Program& p = program_;
  for (size_t i = 0; i < p.order.size(); ++i) {
    const Node& node = p.graph.node(p.order[i].id);
    if (node.kind != NodeKind::op) continue;
    node.op->template kernels<T>().forward(forward_args_at(i, mode));
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
    node.op->template kernels<T>().backward(backward_args_at(i, last_mode_));
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

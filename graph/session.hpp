// A Session runs a compiled Program: it owns the parameter store, their gradients, the state store
// (running statistics) and the arena that holds every value, saved tensor and gradient of a run.
//
//   bnlab::Session s(program, {.seed = 0});         // parameters initialized from their Init
//   s.set_batch(32);                                 // views for a batch of 32 (allocates only to grow)
//   fill(s.input("x"));  fill(s.labels("y"));        // the data path writes straight into the slots
//   float loss = s.forward(bnlab::Mode::train);      // batch statistics, running statistics updated
//   s.backward();                                    // parameter gradients in s.gradients()
//   s.set_batch(16);  s.forward(bnlab::Mode::eval);  // a smaller batch runs on views of the same slots
//
// BasicSession<double> runs the same kernels in double precision (gradient checks).
// requires: set_batch before the first forward; backward after a forward of the same batch.
// ensures: after the first set_batch of the largest batch, forward and backward allocate nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "graph/compile.hpp"
#include "graph/aligned_vector.hpp"
#include "graph/store.hpp"

namespace bnlab {

struct SessionOptions {
  uint64_t seed = 0;        // parameter initialization and random ops (dropout masks)
  int64_t max_batch = 0;    // plan the arena for this batch up front (0: on the first set_batch)
  int threads = 1;          // kernels split their work over this many threads (results depend on it)
  // Handed to every kernel (ForwardArgs::collective): the workers whose batch statistics are shared.
  // Null: each session normalizes over its own rows. Not owned; must outlive the session.
  Collective* collective = nullptr;
};

template <class T>
class BasicSession {
 public:
  explicit BasicSession(Program program, SessionOptions options = {});

  const Program& program() const { return program_; }
  const Graph& graph() const { return program_.graph; }

  void set_batch(int64_t batch);
  int64_t batch() const { return batch_; }
  // ForwardArgs::first_row: where this session's rows start in a data-parallel step's global batch.
  void set_first_row(int64_t row) { first_row_ = row; }

  // Each accessor below has a writable form and, on a const session, a read-only one.
  TensorView<T> input(NodeId id);
  TensorView<const T> input(NodeId id) const;
  TensorView<T> input(const std::string& name) { return input(require(name)); }
  TensorView<const T> input(const std::string& name) const { return input(require(name)); }
  std::span<int32_t> labels(NodeId id);
  std::span<const int32_t> labels(NodeId id) const;
  std::span<int32_t> labels(const std::string& name) { return labels(require(name)); }
  std::span<const int32_t> labels(const std::string& name) const { return labels(require(name)); }

  // Runs every op in order; returns the target's first element (the loss for a scalar target).
  T forward(Mode mode);
  // Derives every gradient from d(target) = 1 (scalar target) or = seed (same size as the target).
  void backward();
  void backward(std::span<const T> seed);

  // Every value is readable after forward. After backward only the parameters, the target and the
  // gradients of inputs are: backward reuses the memory of values and saved tensors it is done with.
  TensorView<T> value(NodeId id);
  TensorView<const T> value(NodeId id) const;
  TensorView<T> grad(NodeId id);  // a parameter's gradient lives in gradients()
  TensorView<const T> grad(NodeId id) const;
  TensorView<T> saved(NodeId id, const std::string& name);
  TensorView<const T> saved(NodeId id, const std::string& name) const;

  // What forward() and backward() pass to op node `id`'s kernels (after set_batch), for calling a
  // kernel on its own (bench_ops). The spans point into the session and stay valid until set_batch.
  ForwardArgs<T> forward_args(NodeId id, Mode mode) { return forward_args_at(op_index(id), mode); }
  BackwardArgs<T> backward_args(NodeId id, Mode mode) { return backward_args_at(op_index(id), mode); }

  TensorStore<T>& parameters() { return params_; }
  const TensorStore<T>& parameters() const { return params_; }
  TensorStore<T>& gradients() { return grads_; }
  const TensorStore<T>& gradients() const { return grads_; }
  TensorStore<T>& state() { return state_; }
  const TensorStore<T>& state() const { return state_; }

  // The first node, in forward order, whose value holds a NaN or an infinity (inputs and op outputs),
  // or -1; first_nonfinite_gradient: the first parameter whose gradient does. For messages such as
  // "non-finite loss at epoch 3, step 120, first produced by node 'bn2'".
  NodeId first_nonfinite_value() const;
  NodeId first_nonfinite_gradient() const;

  // Draws every parameter from its Init, in store order, from Rng(seed).
  void initialize_parameters(uint64_t seed);
  // Running statistics back to their initial values.
  void reset_state();
  int64_t arena_elements() const { return static_cast<int64_t>(arena_.size()); }
  ThreadPool* pool() const { return pool_.get(); }

  NodeId require(const std::string& name) const;

 private:
  struct Bound {  // the views one op node's kernels see, rebuilt by set_batch
    std::vector<TensorView<const T>> in;
    std::vector<Shape> in_shapes;                 // resolved to the batch
    Shape out_shape;
    std::vector<TensorView<T>> saved;             // forward writes them
    std::vector<TensorView<const T>> saved_read;  // backward reads them
    std::vector<TensorView<T>> scratch, backward_scratch, state;
    std::vector<GradTarget<T>> grad_in;
    std::span<const int32_t> labels;
    TensorView<T> out, grad_out;
  };
  // A view of type TensorView<T> from a session, TensorView<const T> from a const session.
  template <class Self>
  using ViewOf = TensorView<std::conditional_t<std::is_const_v<Self>, const T, T>>;
  template <class Self>
  static ViewOf<Self> slot_view(Self& self, int slot);  // shaped as the slot
  template <class Self>
  static ViewOf<Self> slot_view(Self& self, int slot, const Shape& shape);  // shaped as `shape` (same size)
  template <class Self>
  static ViewOf<Self> value_of(Self& self, NodeId id);
  template <class Self>
  static ViewOf<Self> grad_of(Self& self, NodeId id);
  template <class Self>
  static ViewOf<Self> saved_of(Self& self, NodeId id, const std::string& name);
  template <class Self>
  static ViewOf<Self> input_of(Self& self, NodeId id);
  template <class Self>
  static auto labels_of(Self& self, NodeId id) -> std::span<std::conditional_t<std::is_const_v<Self>, const int32_t, int32_t>>;

  // Plans the arena for `capacity` rows, checks that the machine can give it, and allocates it.
  void plan(int64_t capacity);
  // Allocates the arena of `elements` for `capacity` rows, whose slots offsets_ already places.
  void allocate_arena(int64_t capacity, double elements);
  void bind();
  size_t op_index(NodeId id) const;  // order index of an op node, or UsageError
  ForwardArgs<T> forward_args_at(size_t i, Mode mode);
  BackwardArgs<T> backward_args_at(size_t i, Mode mode);

  Program program_;
  TensorStore<T> params_, grads_, state_;
  std::vector<int> state_index_;               // per order index: first state entry of the node
  AlignedVector<T> arena_;
  std::vector<int64_t> offsets_;
  std::vector<std::vector<int32_t>> label_buffers_;  // per order index (labels nodes only)
  std::vector<Bound> bound_;                   // per order index
  int64_t capacity_ = 0;
  int64_t batch_ = 0;
  uint64_t seed_ = 0;
  Collective* collective_ = nullptr;
  int64_t first_row_ = 0;
  Mode last_mode_ = Mode::train;
  std::unique_ptr<ThreadPool> pool_;
};

using Session = BasicSession<float>;

extern template class BasicSession<float>;
extern template class BasicSession<double>;

}  // namespace bnlab

// The contract between the graph and an op. Each op in ops/ fills one OpInfo: its name, inputs,
// attributes, shape rule, the tensors it saves for backward, its persistent state, and its
// forward and backward kernels for float and double (written once as templates).
//
//   // ops/relu.cpp
//   const OpInfo relu_op = {
//     .name = "relu", .inputs = {{"x"}},
//     .infer = [](const ShapeContext& c) { return c.in[0]; },
//     .f32 = {forward<float>, backward<float>}, .f64 = {forward<double>, backward<double>},
//     .example = …,   // a small graph that exercises the op, gradient-checked by the test suite
//   };
//
// Kernels never allocate: every view they see is a slot planned by compile(). Backward writes
// (or, when `accumulate` is set, adds) into the gradients of the inputs that need one.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "graph/shape.hpp"
#include "graph/tensor.hpp"
#include "graph/thread_pool.hpp"

namespace bnlab {

class Graph;
struct Var;

// How a forward pass treats batch-dependent ops (batch norm):
//   train            batch statistics, running statistics updated
//   eval             running statistics
//   eval_batch_stats batch statistics, running statistics left alone (to measure the train/eval gap)
enum class Mode { train, eval, eval_batch_stats };

const char* to_string(Mode mode);

template <class T>
struct ForwardArgs {
  std::span<const TensorView<T>> in;    // one view per input; a labels input has an empty view
  std::span<const int32_t> labels;      // the labels input's values, if the op takes labels
  TensorView<T> out;
  std::span<const TensorView<T>> saved;  // written here, read by backward
  std::span<const TensorView<T>> state;  // persistent across runs (running statistics)
  std::span<const double> attrs;         // in the order of OpInfo::attrs
  Mode mode;
  const std::string* node_name;          // for error messages
  ThreadPool* pool = nullptr;            // split work with parallel_for (null: one thread)
};

template <class T>
struct GradTarget {
  TensorView<T> grad;       // empty: this input needs no gradient
  bool accumulate = false;  // add into grad (another consumer already wrote it) instead of assigning
};

template <class T>
struct BackwardArgs {
  std::span<const TensorView<T>> in;
  std::span<const int32_t> labels;
  TensorView<T> out;
  TensorView<T> grad_out;   // dLoss/dout, same shape as out
  std::span<const TensorView<T>> saved;
  std::span<const double> attrs;
  std::span<const GradTarget<T>> grad_in;  // one per input
  Mode mode;                               // the mode of the forward pass being differentiated
  ThreadPool* pool = nullptr;
};

template <class T>
struct Kernels {
  void (*forward)(const ForwardArgs<T>&) = nullptr;
  void (*backward)(const BackwardArgs<T>&) = nullptr;
};

struct ShapeContext {
  std::span<const Shape> in;
  std::span<const double> attrs;
};

struct InputDecl {
  const char* name;
  bool is_labels = false;  // integer class ids: no value slot and no gradient
};

struct AttrDecl {
  const char* name;
  double default_value;
};

struct StateDecl {
  const char* name;       // stored as "<node>.<name>", e.g. "bn1.running_var"
  double initial_value;
};

struct OpInfo {
  const char* name;
  std::vector<InputDecl> inputs;
  std::vector<AttrDecl> attrs;
  std::vector<const char*> saved;  // names of the tensors saved for backward
  std::vector<StateDecl> state;
  // Returns the output shape or throws ShapeError naming the rule that was broken and the shapes.
  Shape (*infer)(const ShapeContext&) = nullptr;
  // Shape of saved tensor / state tensor i (may be null when the op has none).
  Shape (*saved_shape)(const ShapeContext&, int i) = nullptr;
  Shape (*state_shape)(const ShapeContext&, int i) = nullptr;
  Kernels<float> f32;
  Kernels<double> f64;
  // Builds a small graph that exercises this op and returns the node to differentiate; the test
  // suite gradient-checks every registered op through it.
  Var (*example)(Graph&) = nullptr;

  template <class T>
  const Kernels<T>& kernels() const {
    if constexpr (sizeof(T) == sizeof(float)) return f32; else return f64;
  }
  int attr_index(const std::string& attr) const;
};

// Assigns or adds `value` into a gradient target: the executor tells each backward whether another
// consumer of the same input already wrote its gradient this pass.
template <class Dst, class Expr>
inline void store_grad(bool accumulate, Dst&& dst, const Expr& value) {
  if (accumulate) dst += value; else dst = value;
}

}  // namespace bnlab

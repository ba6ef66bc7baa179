// The contract between the graph and an op. Each op in ops/ declares, in one file, its name,
// inputs, attributes, shape rule, the tensors it saves for backward, the scratch memory its kernels
// work in, its persistent state, and its forward and backward kernels for float and double (written
// once as templates).
//
//   // ops/layer_norm.cpp
//   constexpr AttrDecl kAttrs[] = {{"eps", 1e-5}};
//   constexpr TensorDecl kSaved[] = {
//       {"x_hat", [](const ShapeContext& c) { return c.in[0]; }},                 // [B,F]
//       {"inv_std", [](const ShapeContext& c) { return Shape{c.in[0][0], 1}; }},  // [B,1]
//   };
//   constexpr int eps = index_of(kAttrs, "eps");        // indices generated from the declaration
//   constexpr int x_hat = index_of(kSaved, "x_hat"), inv_std = index_of(kSaved, "inv_std");
//   …  a.attrs[eps], a.saved[x_hat] …                    // inside the kernels
//   const OpInfo layer_norm_op = {
//     .name = "layer_norm", .inputs = {{"x"}, {"gamma"}, {"beta"}},
//     .attrs = kAttrs, .saved = kSaved,
//     .infer = infer,
//     .f32 = {forward<float>, backward<float>}, .f64 = {forward<double>, backward<double>},
//     .example = example,   // a small graph that exercises the op, gradient-checked by the test suite
//   };
//
// NOTE: names are resolved at compile time, never per step. index_of is consteval: the kernels index
// their spans with constants (as fast as a hand-written enum), a misspelt or duplicated name fails
// the build, and reordering a list moves the indices with it. Outside the kernels names are looked
// up at runtime, but never inside the executor's loop: Graph::op matches attribute overrides when a
// node is added, compile() names the state "<node>.<state>", and Session::saved serves callers.
//
// Memory. Saved tensors are written by forward and read by backward, so they live from one to the
// other. Scratch is working memory valid only while one kernel runs — forward and backward each get
// their own, with undefined contents on entry — so the planner reuses it for other tensors outside
// that step (a scratch tensor declared ScratchPass::backward gets memory in backward only). Kernels never allocate: every view they see is a slot planned by compile().
// Read-only: the inputs (both passes) and, in backward, the output, its gradient and the saved
// tensors are TensorView<const T>, so writing one is a compile error.
// Kernels: both precisions are required. Kernels<T> has no default and takes function references,
// so an OpInfo without `.f32` or `.f64`, or with a null kernel, does not compile.
// Backward writes (or, when `accumulate` is set, adds) into the gradients of the inputs that need one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "graph/collective.hpp"
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
  std::span<const TensorView<const T>> in;  // one view per input; a labels input has an empty view
  std::span<const Shape> in_shapes;         // the inputs' shapes with the batch resolved ([32,28,28,1])
  Shape out_shape;                          // the output's, resolved
  std::span<const int32_t> labels;          // the labels input's values, if the op takes labels
  TensorView<T> out;
  std::span<const TensorView<T>> saved;     // OpInfo::saved: written here, read by backward
  std::span<const TensorView<T>> scratch;   // OpInfo::scratch: this call's working memory
  std::span<const TensorView<T>> state;     // OpInfo::state: persistent across runs (running statistics)
  std::span<const double> attrs;            // OpInfo::attrs
  Mode mode;
  const std::string* node_name;             // for error messages
  ThreadPool* pool = nullptr;               // split work with parallel_for (null: one thread)
  // For ops that draw random numbers (dropout): the session's seed mixed with the node's id, so
  // two nodes and two seeds draw different streams. An op keeps its own step counter as state.
  uint64_t seed = 0;
  // The other workers of a data-parallel run whose statistics this pass shares (synchronized batch
  // norm), or null: a single process, or workers that normalize over their own rows.
  Collective* collective = nullptr;
  // The position of this batch's first row in the global batch of a data-parallel step (0 in one
  // process): ops that number rows (dropout's mask counter) number them globally, so that N workers
  // draw the masks one process would.
  int64_t first_row = 0;
};

template <class T>
struct GradTarget {
  TensorView<T> grad;       // empty: this input needs no gradient
  bool accumulate = false;  // add into grad (another consumer already wrote it) instead of assigning
};

template <class T>
struct BackwardArgs {
  std::span<const TensorView<const T>> in;
  std::span<const Shape> in_shapes;               // as in ForwardArgs
  Shape out_shape;
  std::span<const int32_t> labels;
  TensorView<const T> out;
  TensorView<const T> grad_out;                   // dLoss/dout, same shape as out
  std::span<const TensorView<const T>> saved;     // as the forward pass left them
  std::span<const TensorView<T>> scratch;         // this call's working memory (not forward's)
  std::span<const double> attrs;
  std::span<const GradTarget<T>> grad_in;         // one per input
  Mode mode;                                      // the mode of the forward pass being differentiated
  ThreadPool* pool = nullptr;
  Collective* collective = nullptr;               // as in ForwardArgs
};

// An op's kernels for one precision. References, not pointers, and no default: both kernels must be
// named where the OpInfo is declared (`.f32 = {forward<float>, backward<float>}`).
template <class T>
class Kernels {
 public:
  using Forward = void(const ForwardArgs<T>&);
  using Backward = void(const BackwardArgs<T>&);
  constexpr Kernels(Forward& forward, Backward& backward) : forward_(&forward), backward_(&backward) {}
  void forward(const ForwardArgs<T>& a) const { forward_(a); }
  void backward(const BackwardArgs<T>& a) const { backward_(a); }

 private:
  Forward* forward_;
  Backward* backward_;
};

struct ShapeContext {
  std::span<const Shape> in;
  std::span<const double> attrs;
};

// A shape as a function of the op's input shapes and attributes.
using ShapeRule = Shape (*)(const ShapeContext&);

struct InputDecl {
  const char* name;
  bool is_labels = false;  // integer class ids: no value slot and no gradient
  // May be left out (conv2d's bias). Only trailing inputs: a node has the required inputs and then
  // any number of the optional ones in order; the kernels and the shape rule see as many inputs
  // (in, in_shapes, grad_in, c.in) as the node has.
  bool optional = false;
};

struct AttrDecl {
  const char* name;
  double default_value;
};

// Which kernel a scratch tensor is working memory of: a pass that does not use it gets no memory
// (an empty view), so a backward-only buffer does not raise the arena's peak during forward.
enum class ScratchPass { both, forward, backward };

// A saved tensor or a scratch tensor.
struct TensorDecl {
  const char* name;
  ShapeRule shape;
  ScratchPass pass = ScratchPass::both;  // scratch only
};

struct StateDecl {
  const char* name;       // stored as "<node>.<name>", e.g. "bn1.running_var"
  double initial_value;
  ShapeRule shape;
  // An estimate from the batches one process saw (batch norm's running mean and variance): data-
  // parallel workers that normalize with local statistics each have their own and average them. A
  // counter (dropout's step) is the same on every worker and is left alone.
  bool per_worker_estimate = false;
};

namespace detail {
// Not constexpr on purpose: index_of reaching one of these is not a constant expression, so the
// build fails and the compiler's message names the function.
inline void name_not_declared_by_this_op() {}
inline void name_declared_twice_by_this_op() {}
}  // namespace detail

// The position of `name` in an op's declaration list (attributes, saved, scratch or state), at
// compile time: `constexpr int eps = index_of(kAttrs, "eps");`.
template <class Decl, std::size_t N>
consteval int index_of(const Decl (&decls)[N], std::string_view name) {
  int found = -1;
  for (std::size_t i = 0; i < N; ++i)
    if (name == std::string_view(decls[i].name)) {
      if (found >= 0) detail::name_declared_twice_by_this_op();
      found = static_cast<int>(i);
    }
  if (found < 0) detail::name_not_declared_by_this_op();
  return found;
}

struct OpInfo {
  const char* name;
  std::vector<InputDecl> inputs;
  // The lists below point at constexpr arrays in the op's file (see index_of).
  std::span<const AttrDecl> attrs;
  std::span<const TensorDecl> saved;    // read by backward: live from forward to backward
  std::span<const TensorDecl> scratch;  // working memory of one kernel call
  std::span<const StateDecl> state;
  // Returns the output shape or throws ShapeError naming the rule that was broken and the shapes.
  ShapeRule infer = nullptr;
  Kernels<float> f32;
  Kernels<double> f64;
  // Builds a small graph that exercises this op and returns the node to differentiate; the test
  // suite gradient-checks every registered op through it.
  Var (*example)(Graph&) = nullptr;
  // The output is input 0's elements in the same order, only the shape differs (reshape,
  // flatten). compile() may then give the output input 0's value slot, and input 0's gradient the
  // output's gradient slot (compile.hpp says when), so the kernels copy only when the pointers
  // differ: forward when `out.data != in[0].data`, backward when `grad_in[0].grad.data !=
  // grad_out.data`. Listed last, after `.example`: designated initializers follow this order.
  bool output_is_input_view = false;

  template <class T>
  const Kernels<T>& kernels() const {
    if constexpr (sizeof(T) == sizeof(float)) return f32; else return f64;
  }
  int attr_index(const std::string& attr) const;  // -1 when the op has no such attribute
};

// Assigns or adds `value` into a gradient target: the executor tells each backward whether another
// consumer of the same input already wrote its gradient this pass.
template <class Dst, class Expr>
inline void store_grad(bool accumulate, Dst&& dst, const Expr& value) {
  if (accumulate) dst += value; else dst = value;
}

}  // namespace bnlab

// compile(graph, target) turns a graph into a Program: every shape checked, the nodes the target
// needs put in order, the backward pass derived, and the memory of one run planned.
//
//   auto program = bnlab::compile(g, loss);               // backward for every parameter
//   auto predict = bnlab::compile(g, logits, {.backward = false});
//   auto check   = bnlab::compile(g, out, {.input_gradients = true});   // for gradient checks
//
// ensures: program.order lists every node the target depends on, each after its inputs; a node
// needs a gradient iff it lies on a path from a parameter (or, with input_gradients, an input) to
// the target; every tensor of one run (values, saved tensors, scratch, gradients) has a slot in the
// plan. A saved tensor's slot lives from the op's forward to its backward; a scratch slot only for
// the one step whose kernel uses it, so its memory is shared with tensors of other steps.
//
// Views. An op whose OpInfo sets output_is_input_view (reshape, flatten) has no value slot of its
// own when it is the only consumer of its input 0 in the program and input 0 is an input or an op
// node (a parameter lives in the parameter store, labels have no slot): its value_slot is input
// 0's, with the lifetime extended to the view's last read, and its grad_slot is input 0's, with
// the lifetime starting at the view's first gradient write — the view's consumers write the
// gradient, the view's backward finds it already in place, input 0's backward reads it. With a
// second consumer of input 0, that consumer's backward would assign or add its part of input 0's
// gradient into memory that the view's consumers also assign to, each by its own node's
// `accumulate` flags, and one would overwrite the other; then (and whenever input 0 is a
// parameter) the view gets slots of its own like any op, and its kernels copy. Two nodes sharing
// a slot differ only in shape: the session shapes a value or gradient view by its node's shape.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.hpp"

namespace bnlab {

struct CompileOptions {
  bool backward = true;          // derive the backward pass
  bool input_gradients = false;  // also differentiate with respect to inputs (gradient checks)
};

// One planned tensor of a run: `rows(B) × cols` elements whose first dimension may be the batch.
struct TensorSlot {
  Shape shape;
  int first_step = 0;  // steps 0..n-1 are forward (in order), n..2n-1 backward (in reverse order)
  int last_step = 0;
};

struct ProgramNode {
  NodeId id = -1;
  bool needs_grad = false;
  int value_slot = -1;                // arena slot of the value (inputs and op outputs); a view's may be input 0's
  int grad_slot = -1;                 // arena slot of the gradient (op outputs and differentiated inputs); likewise
  std::vector<int> saved_slots;       // op nodes, one per OpInfo::saved
  std::vector<int> scratch_slots;     // op nodes, one per OpInfo::scratch: forward's
  std::vector<int> backward_scratch_slots;  // the same for backward (op nodes that need a gradient)
  std::vector<std::string> state_names;  // op nodes: "<node>.<state>" in the state store
  std::vector<Shape> state_shapes;
  int parameter = -1;                 // index in the parameter store (parameters)
  // For each input of an op node: whether its gradient is accumulated (another consumer, later in
  // backward order, already wrote it) or assigned.
  std::vector<bool> accumulate;
};

struct Program {
  Graph graph;
  NodeId target = -1;
  CompileOptions options;
  std::vector<ProgramNode> order;      // forward order
  std::vector<int> position;           // node id → index in `order`, or -1 when not needed
  std::vector<TensorSlot> slots;
  std::vector<NodeId> parameters;      // parameter nodes, in store order
  bool target_is_scalar() const { return graph.node(target).shape.rank() == 0; }
  const ProgramNode& at(NodeId id) const { return order[static_cast<size_t>(position[static_cast<size_t>(id)])]; }
  bool contains(NodeId id) const { return id >= 0 && id < static_cast<NodeId>(position.size()) && position[static_cast<size_t>(id)] >= 0; }
};

Program compile(const Graph& graph, Var target, CompileOptions options = {});
Program compile(const Graph& graph, NodeId target, CompileOptions options = {});

// Offsets that pack `slots` (each `sizes[i]` elements) into one arena, reusing memory between
// slots whose step intervals do not overlap. Returns the offsets; `total` gets the arena size.
std::vector<int64_t> plan_offsets(const std::vector<TensorSlot>& slots, const std::vector<int64_t>& sizes,
                                  int64_t& total);

}  // namespace bnlab

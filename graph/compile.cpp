#include "graph/compile.hpp"

#include <algorithm>
#include <numeric>

#include "graph/errors.hpp"

namespace bnlab {

Program compile(const Graph& graph, Var target, CompileOptions options) {
  if (target.graph != &graph) throw UsageError("compile: the target node belongs to another graph");
  return compile(graph, target.id, options);
}

Program compile(const Graph& graph, NodeId target, CompileOptions options) {
  if (target < 0 || target >= graph.size()) throw UsageError("compile: no node with id " + std::to_string(target));
  Program p;
  p.graph = graph;
  p.target = target;
  p.options = options;

  // Ancestors of the target. Nodes are only ever appended after their inputs, so ascending ids are
  // already a topological order.
  std::vector<bool> needed(static_cast<size_t>(graph.size()), false);
  needed[static_cast<size_t>(target)] = true;
  for (NodeId id = target; id >= 0; --id) {
    if (!needed[static_cast<size_t>(id)]) continue;
    for (NodeId in : graph.node(id).inputs) needed[static_cast<size_t>(in)] = true;
  }
  p.position.assign(static_cast<size_t>(graph.size()), -1);
  for (NodeId id = 0; id <= target; ++id) {
    if (!needed[static_cast<size_t>(id)]) continue;
    p.position[static_cast<size_t>(id)] = static_cast<int>(p.order.size());
    ProgramNode pn;
    pn.id = id;
    p.order.push_back(pn);
  }

  const int n = static_cast<int>(p.order.size());
  auto backward_step = [n](int index) { return 2 * n - 1 - index; };

  // Shapes (checked again, as the graph could have been built by hand) and which nodes need gradients.
  for (auto& pn : p.order) {
    const Node& node = graph.node(pn.id);
    switch (node.kind) {
      case NodeKind::input: pn.needs_grad = options.backward && options.input_gradients; break;
      case NodeKind::labels: pn.needs_grad = false; break;
      case NodeKind::parameter:
        pn.needs_grad = options.backward;
        pn.parameter = static_cast<int>(p.parameters.size());
        p.parameters.push_back(pn.id);
        break;
      case NodeKind::op: {
        const Shape inferred = infer_shape(graph, node);
        if (!(inferred == node.shape))
          throw ShapeError("node '" + node.name + "' (" + node.op->name + "): recorded shape " + node.shape.to_string() +
                           " differs from inferred " + inferred.to_string());
        for (NodeId in : node.inputs) pn.needs_grad = pn.needs_grad || p.at(in).needs_grad;
        break;
      }
    }
  }

  // Last step at which each node's value is read: every value stays readable until forward ends
  // (callers inspect hidden activations), and until the backward of any consumer that reads it.
  std::vector<int> last_read(static_cast<size_t>(n), n - 1);
  for (int i = 0; i < n; ++i) {
    const ProgramNode& pn = p.order[static_cast<size_t>(i)];
    const Node& node = graph.node(pn.id);
    if (node.kind != NodeKind::op || !pn.needs_grad) continue;
    last_read[static_cast<size_t>(i)] = std::max(last_read[static_cast<size_t>(i)], backward_step(i));
    for (NodeId in : node.inputs) {
      auto& lr = last_read[static_cast<size_t>(p.position[static_cast<size_t>(in)])];
      lr = std::max(lr, backward_step(i));
    }
  }
  last_read[static_cast<size_t>(n - 1)] = 2 * n - 1;  // the target is read by the caller

  auto add_slot = [&p](Shape shape, int first, int last) {
    p.slots.push_back({shape, first, last});
    return static_cast<int>(p.slots.size() - 1);
  };

  // First backward step that writes each node's gradient: the backward of its last consumer.
  std::vector<int> first_grad_write(static_cast<size_t>(n), -1);
  for (int i = n - 1; i >= 0; --i) {
    const ProgramNode& pn = p.order[static_cast<size_t>(i)];
    const Node& node = graph.node(pn.id);
    if (node.kind != NodeKind::op || !pn.needs_grad) continue;
    auto& acc = p.order[static_cast<size_t>(i)].accumulate;
    acc.assign(node.inputs.size(), false);
    for (size_t j = 0; j < node.inputs.size(); ++j) {
      const int k = p.position[static_cast<size_t>(node.inputs[j])];
      if (!p.order[static_cast<size_t>(k)].needs_grad) continue;
      if (first_grad_write[static_cast<size_t>(k)] >= 0) acc[j] = true;
      else first_grad_write[static_cast<size_t>(k)] = backward_step(i);
    }
  }

  // How many times each node is an input of another node of the program (for views, below).
  std::vector<int> consumers(static_cast<size_t>(n), 0);
  for (const ProgramNode& pn : p.order)
    for (NodeId in : graph.node(pn.id).inputs) ++consumers[static_cast<size_t>(p.position[static_cast<size_t>(in)])];

  for (int i = 0; i < n; ++i) {
    ProgramNode& pn = p.order[static_cast<size_t>(i)];
    const Node& node = graph.node(pn.id);
    // A view (OpInfo::output_is_input_view) shares input 0's slots when it is input 0's only reader
    // and input 0 has a slot of the same size: then nothing else reads input 0's value or writes
    // its gradient, so one piece of memory can serve as both nodes' value, and as both gradients.
    int source = -1;  // order index of input 0 when shared
    if (node.kind == NodeKind::op && node.op->output_is_input_view) {
      const int k = p.position[static_cast<size_t>(node.inputs[0])];
      const Node& in = graph.node(node.inputs[0]);
      const bool has_slot = in.kind == NodeKind::input || in.kind == NodeKind::op;
      const bool same_size = in.shape.has_batch() == node.shape.has_batch() && in.shape.elements(1) == node.shape.elements(1);
      if (has_slot && same_size && consumers[static_cast<size_t>(k)] == 1) source = k;
    }
    if (source >= 0) {
      const ProgramNode& src = p.order[static_cast<size_t>(source)];
      pn.value_slot = src.value_slot;
      TensorSlot& v = p.slots[static_cast<size_t>(pn.value_slot)];
      v.last_step = std::max(v.last_step, last_read[static_cast<size_t>(i)]);
    } else if (node.kind == NodeKind::input || node.kind == NodeKind::op) {
      pn.value_slot = add_slot(node.shape, i, last_read[static_cast<size_t>(i)]);
    }
    if (pn.needs_grad && node.kind != NodeKind::parameter) {
      const int first = i == n - 1 ? n : first_grad_write[static_cast<size_t>(i)];
      // An input's gradient is read by the caller after backward.
      const int last = node.kind == NodeKind::input ? 2 * n - 1 : backward_step(i);
      const int src_grad = source >= 0 ? p.order[static_cast<size_t>(source)].grad_slot : -1;
      if (first >= 0 && src_grad >= 0) {
        // Written first by this node's consumers, read last by input 0's backward (or the caller).
        pn.grad_slot = src_grad;
        TensorSlot& gs = p.slots[static_cast<size_t>(src_grad)];
        gs.first_step = std::min(gs.first_step, first);
      } else if (first >= 0) {
        pn.grad_slot = add_slot(node.shape, first, last);
      }
    }
    if (node.kind == NodeKind::op) {
      std::vector<Shape> in_shapes;
      for (NodeId in : node.inputs) in_shapes.push_back(graph.node(in).shape);
      const ShapeContext ctx{in_shapes, node.attrs};
      for (const TensorDecl& s : node.op->saved)
        pn.saved_slots.push_back(add_slot(s.shape(ctx), i, pn.needs_grad ? backward_step(i) : i));
      for (const TensorDecl& s : node.op->scratch) {
        pn.scratch_slots.push_back(s.pass == ScratchPass::backward ? -1 : add_slot(s.shape(ctx), i, i));
        if (pn.needs_grad)
          pn.backward_scratch_slots.push_back(s.pass == ScratchPass::forward ? -1
                                                                              : add_slot(s.shape(ctx), backward_step(i), backward_step(i)));
      }
      for (const StateDecl& s : node.op->state) {
        pn.state_names.push_back(node.name + "." + s.name);
        pn.state_shapes.push_back(s.shape(ctx));
      }
    }
  }
  return p;
}

std::vector<int64_t> plan_offsets(const std::vector<TensorSlot>& slots, const std::vector<int64_t>& sizes,
                                  int64_t& total) {
  // Greedy best-fit by decreasing size: place each slot at the lowest offset where it overlaps no
  // already placed slot whose lifetime intersects its own.
  std::vector<size_t> by_size(slots.size());
  std::iota(by_size.begin(), by_size.end(), size_t{0});
  std::stable_sort(by_size.begin(), by_size.end(), [&](size_t a, size_t b) { return sizes[a] > sizes[b]; });
  std::vector<int64_t> offsets(slots.size(), 0);
  std::vector<size_t> placed;
  total = 0;
  // Keep every slot aligned to 16 elements (64 bytes for float) for vectorized kernels.
  auto aligned = [](int64_t v) { return (v + 15) / 16 * 16; };
  for (size_t s : by_size) {
    std::vector<std::pair<int64_t, int64_t>> busy;  // [begin, end) of live overlapping slots
    for (size_t q : placed)
      if (slots[q].first_step <= slots[s].last_step && slots[s].first_step <= slots[q].last_step)
        busy.emplace_back(offsets[q], offsets[q] + aligned(sizes[q]));
    std::sort(busy.begin(), busy.end());
    int64_t offset = 0;
    for (const auto& [b, e] : busy) {
      if (offset + aligned(sizes[s]) <= b) break;
      offset = std::max(offset, e);
    }
    offsets[s] = offset;
    total = std::max(total, offset + aligned(sizes[s]));
    placed.push_back(s);
  }
  return offsets;
}

}  // namespace bnlab

#include "graph/graph.hpp"

#include "graph/errors.hpp"

namespace bnlab {

const Shape& Var::shape() const { return graph->node(id).shape; }
const std::string& Var::name() const { return graph->node(id).name; }

const char* to_string(Mode mode) {
  switch (mode) {
    case Mode::train: return "train";
    case Mode::eval: return "eval";
    case Mode::eval_batch_stats: return "eval_batch_stats";
  }
  return "?";
}

int OpInfo::attr_index(const std::string& attr) const {
  for (size_t i = 0; i < attrs.size(); ++i)
    if (attr == attrs[i].name) return static_cast<int>(i);
  return -1;
}

NodeId Graph::find(const std::string& name) const {
  const auto it = ids_.find(name);
  return it == ids_.end() ? -1 : it->second;
}

std::string Graph::unique_name(const std::string& base) const {
  if (find(base) < 0) return base;
  for (int i = 2;; ++i) {
    std::string candidate = base + "_" + std::to_string(i);
    if (find(candidate) < 0) return candidate;
  }
}

NodeId Graph::add(Node node) {
  if (node.name.empty()) throw UsageError("graph node without a name");
  if (ids_.count(node.name)) throw UsageError("graph already has a node named '" + node.name + "'");
  const auto id = static_cast<NodeId>(nodes_.size());
  nodes_.push_back(std::move(node));
  try {
    ids_.emplace(nodes_.back().name, id);
  } catch (...) {
    nodes_.pop_back();
    throw;
  }
  return id;
}

Var Graph::input(std::string name, Shape shape) {
  Node n;
  n.kind = NodeKind::input;
  n.name = std::move(name);
  n.shape = shape;
  return {this, add(std::move(n))};
}

Var Graph::labels(std::string name, int32_t num_classes) {
  if (num_classes < 1) throw UsageError("labels '" + name + "' need at least one class");
  Node n;
  n.kind = NodeKind::labels;
  n.name = std::move(name);
  n.shape = Shape{batch};
  n.num_classes = num_classes;
  return {this, add(std::move(n))};
}

Var Graph::parameter(std::string name, Shape shape, Init init) {
  if (shape.has_batch()) throw ShapeError("parameter '" + name + "' has a batch dimension " + shape.to_string());
  Node n;
  n.kind = NodeKind::parameter;
  n.name = std::move(name);
  n.shape = shape;
  n.init = init;
  return {this, add(std::move(n))};
}

Var Graph::op(const OpInfo& op, std::vector<Var> inputs, std::string name,
              std::vector<std::pair<std::string, double>> attrs) {
  Node n;
  n.kind = NodeKind::op;
  n.name = std::move(name);
  n.op = &op;
  size_t required = 0;  // the optional inputs are the trailing ones (InputDecl::optional)
  while (required < op.inputs.size() && !op.inputs[required].optional) ++required;
  if (inputs.size() < required || inputs.size() > op.inputs.size()) {
    const size_t all = op.inputs.size();
    const std::string takes = required == all     ? std::to_string(all)
                              : required + 1 == all ? std::to_string(required) + " or " + std::to_string(all)
                                                    : std::to_string(required) + " to " + std::to_string(all);
    throw UsageError("node '" + n.name + "' (" + op.name + "): takes " + takes + " inputs, got " + std::to_string(inputs.size()));
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].graph != this)
      throw UsageError("node '" + n.name + "' (" + op.name + "): input " + std::to_string(i) + " belongs to another graph");
    const bool is_labels = node(inputs[i].id).kind == NodeKind::labels;
    if (is_labels != op.inputs[i].is_labels)
      throw UsageError("node '" + n.name + "' (" + op.name + "): input '" + op.inputs[i].name + "' " +
                       (op.inputs[i].is_labels ? "must be a labels node" : "cannot be a labels node") +
                       ", got '" + node(inputs[i].id).name + "'");
    n.inputs.push_back(inputs[i].id);
  }
  for (const auto& a : op.attrs) n.attrs.push_back(a.default_value);
  for (const auto& [key, value] : attrs) {
    const int i = op.attr_index(key);
    if (i < 0) throw UsageError("node '" + n.name + "' (" + op.name + "): unknown attribute '" + key + "'");
    n.attrs[static_cast<size_t>(i)] = value;
  }
  n.shape = infer_shape(*this, n);
  return {this, add(std::move(n))};
}

Shape infer_shape(const Graph& graph, const Node& node) {
  std::vector<Shape> shapes;
  for (NodeId id : node.inputs) shapes.push_back(graph.node(id).shape);
  try {
    return node.op->infer(ShapeContext{shapes, node.attrs});
  } catch (const ShapeError& e) {
    throw ShapeError("node '" + node.name + "' (" + node.op->name + "): " + e.what());
  }
}

}  // namespace bnlab

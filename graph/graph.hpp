// A computation graph: named inputs, labels, parameters and op nodes in a vector, linked by ids.
// Building is declarative and cheap — nothing is computed until a compiled program runs.
//
//   bnlab::Graph g;
//   auto x = g.input("x", {bnlab::batch, 784});                         // [B,784]
//   auto y = g.labels("y", 10);                                         // [B] class ids in [0,10)
//   auto w = g.parameter("fc.weight", {784, 10}, bnlab::Init::glorot_uniform(784, 10));
//   auto logits = g.op(bnlab::matmul_op, {x, w}, "fc.matmul");          // [B,784]·[784,10] → [B,10]
//
// Each op node's shape is inferred as the node is added (so builders such as dense() can read it);
// a rule that does not hold throws ShapeError naming the node, the op and the shapes. The op
// helpers in ops/ (relu(x), dense(x, 128, "fc1"), …) wrap Graph::op.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "graph/initializer.hpp"
#include "graph/op.hpp"
#include "graph/shape.hpp"

namespace bnlab {

using NodeId = int32_t;

enum class NodeKind { input, labels, parameter, op };

struct Node {
  NodeKind kind = NodeKind::input;
  std::string name;
  Shape shape;
  const OpInfo* op = nullptr;       // op nodes
  std::vector<NodeId> inputs;       // op nodes
  std::vector<double> attrs;        // op nodes, in the order of op->attrs
  Init init;                        // parameters
  int32_t num_classes = 0;          // labels
};

// A handle to a node while building: the graph it lives in and its id.
struct Var {
  Graph* graph = nullptr;
  NodeId id = -1;

  const Shape& shape() const;
  const std::string& name() const;
};

class Graph {
 public:
  Var input(std::string name, Shape shape);
  Var labels(std::string name, int32_t num_classes);
  Var parameter(std::string name, Shape shape, Init init);
  // Adds an op node. `attrs` overrides the op's defaults by name; unknown names are an error.
  Var op(const OpInfo& op, std::vector<Var> inputs, std::string name,
         std::vector<std::pair<std::string, double>> attrs = {});

  const Node& node(NodeId id) const { return nodes_.at(static_cast<size_t>(id)); }
  const std::vector<Node>& nodes() const { return nodes_; }
  NodeId size() const { return static_cast<NodeId>(nodes_.size()); }
  // The node with this name, or -1.
  NodeId find(const std::string& name) const;
  Var var(NodeId id) { return {this, id}; }
  // `base`, or `base_2`, `base_3`, … whichever is not taken yet.
  std::string unique_name(const std::string& base) const;

 private:
  NodeId add(Node node);
  std::vector<Node> nodes_;
  std::unordered_map<std::string, NodeId> ids_;  // name -> id: find() and add() in constant time
};

// The output shape of an op node given its inputs' shapes, or ShapeError
// "node 'fc1.matmul' (matmul): inner dimensions differ: [B,784]·[100,128]".
Shape infer_shape(const Graph& graph, const Node& node);

}  // namespace bnlab

// Named tensors in one flat buffer: the parameter store, its gradients, the state store (running
// statistics) and optimizer moments all share this layout, so an optimizer is one loop over
// `data` and a checkpoint is a list of (name, shape, bytes).
//
//   bnlab::TensorStore<float> params;
//   params.add("fc1.weight", {784, 128});
//   params.view(params.find("fc1.weight")).mat();   // [784,128]
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/aligned_vector.hpp"
#include "graph/shape.hpp"
#include "graph/tensor.hpp"

namespace bnlab {

struct StoreEntry {
  std::string name;
  Shape shape;
  int64_t offset = 0;
  int64_t size = 0;
};

template <class T>
class TensorStore {
 public:
  // Adds a tensor (filled with `fill`) and returns its index. Shapes have no batch dimension.
  int add(std::string name, Shape shape, T fill = T(0)) {
    StoreEntry e{std::move(name), shape, static_cast<int64_t>(data.size()), shape.elements(1)};
    data.resize(data.size() + static_cast<size_t>(e.size), fill);
    entries.push_back(std::move(e));
    return static_cast<int>(entries.size() - 1);
  }
  // The same names and shapes, every value `fill`: the gradients or moments of a parameter store.
  template <class U>
  static TensorStore like(const TensorStore<U>& other, T fill = T(0)) {
    TensorStore s;
    for (const auto& e : other.entries) s.add(e.name, e.shape, fill);
    return s;
  }
  int find(const std::string& name) const {
    for (size_t i = 0; i < entries.size(); ++i)
      if (entries[i].name == name) return static_cast<int>(i);
    return -1;
  }
  TensorView<T> view(int i) {
    const StoreEntry& e = entries[static_cast<size_t>(i)];
    return {data.data() + e.offset, e.shape.rows(1), e.shape.cols()};
  }
  TensorView<const T> view(int i) const {
    const StoreEntry& e = entries[static_cast<size_t>(i)];
    return {data.data() + e.offset, e.shape.rows(1), e.shape.cols()};
  }
  int size() const { return static_cast<int>(entries.size()); }

  AlignedVector<T> data;   // 64-byte aligned: see aligned_vector.hpp
  std::vector<StoreEntry> entries;
};

}  // namespace bnlab

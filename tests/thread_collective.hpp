// ThreadCollective: the Collective of N workers that are threads of one process — the data-parallel
// trainer and synchronized batch norm tested without MPI. Sums in rank order (v₀ + v₁ + … + v_{N−1},
// left to right), so every worker gets the same bits and a run is deterministic.
//
//   ThreadCollectiveGroup group(2);
//   std::thread t([&] { work(group.member(1)); });
//   work(group.member(0));
//   t.join();
#pragma once

#include <barrier>
#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "graph/collective.hpp"

namespace bnlab::test {

class ThreadCollectiveGroup {
 public:
  explicit ThreadCollectiveGroup(int size) : size_(size), barrier_(size), slots_f_(size), slots_d_(size) {
    for (int r = 0; r < size; ++r) members_.push_back(std::make_unique<Member>(*this, r));
  }
  Collective& member(int rank) { return *members_[static_cast<size_t>(rank)]; }
  int size() const { return size_; }

 private:
  class Member : public Collective {
   public:
    Member(ThreadCollectiveGroup& g, int rank) : g_(g), rank_(rank) {}
    int rank() const override { return rank_; }
    int size() const override { return g_.size_; }
    void sum(std::span<float> v) override { g_.sum(rank_, v, g_.slots_f_); }
    void sum(std::span<double> v) override { g_.sum(rank_, v, g_.slots_d_); }

   private:
    ThreadCollectiveGroup& g_;
    int rank_;
  };

  template <class T>
  void sum(int rank, std::span<T> v, std::vector<std::vector<T>>& slots) {
    slots[static_cast<size_t>(rank)].assign(v.begin(), v.end());
    barrier_.arrive_and_wait();  // every worker's values are in
    for (size_t i = 0; i < v.size(); ++i) {
      T s = slots[0][i];
      for (int r = 1; r < size_; ++r) s += slots[static_cast<size_t>(r)][i];
      v[i] = s;
    }
    barrier_.arrive_and_wait();  // every worker has read them: the slots may be reused
  }

  int size_;
  std::barrier<> barrier_;
  std::vector<std::vector<float>> slots_f_;
  std::vector<std::vector<double>> slots_d_;
  std::vector<std::unique_ptr<Member>> members_;
};

}  // namespace bnlab::test

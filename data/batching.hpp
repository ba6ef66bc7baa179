// Seeded mini-batch order: which rows go into which batch, epoch by epoch.
//
//   bnlab::data::BatchOrder order(train.size(), /*batch_size=*/32, /*drop_last=*/false, /*seed=*/0);
//   for (int64_t epoch = 0; epoch < 10; ++epoch) {
//     order.reshuffle(epoch);
//     for (int64_t b = 0; b < order.num_batches(); ++b) train.gather(order.batch(b), x, y);
//   }
//
// The permutation for an epoch is a function of (seed, epoch) alone — there is no generator state
// carried from one epoch to the next — so a run resumed at epoch k sees exactly the batches the
// uninterrupted run would have seen.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "graph/random.hpp"

namespace bnlab::data {

// A uniformly random permutation of 0..n-1 (Fisher–Yates) drawn from rng.
std::vector<int64_t> random_permutation(int64_t n, Rng& rng);

class BatchOrder {
 public:
  // Starts at epoch 0's order. Throws UsageError for batch_size <= 0 or n < 0.
  BatchOrder(int64_t n, int64_t batch_size, bool drop_last, uint64_t seed);

  // Replaces the order with the one for `epoch` (>= 0).
  void reshuffle(int64_t epoch);

  // ceil(n / batch_size), or floor(n / batch_size) with drop_last (then the tail rows are skipped
  // this epoch; a different tail is skipped the next).
  int64_t num_batches() const;
  // Row indices of batch b (0 <= b < num_batches()): batch_size of them, fewer for the last
  // batch unless drop_last. Valid until the next reshuffle.
  std::span<const int64_t> batch(int64_t b) const;

  int64_t epoch() const { return epoch_; }
  int64_t size() const { return n_; }
  int64_t batch_size() const { return batch_size_; }

 private:
  int64_t n_;
  int64_t batch_size_;
  bool drop_last_;
  uint64_t seed_;
  int64_t epoch_ = 0;
  std::vector<int64_t> order_;
};

}  // namespace bnlab::data

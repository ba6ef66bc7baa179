#include "data/batching.hpp"

#include <algorithm>
#include <numeric>
#include <string>

#include "graph/errors.hpp"

namespace bnlab::data {

namespace {
constexpr uint64_t kStreamBatches = 0x62617463686573ull;  // "batches"
}  // namespace

std::vector<int64_t> random_permutation(int64_t n, Rng& rng) {
  std::vector<int64_t> p(static_cast<size_t>(std::max<int64_t>(n, 0)));
  std::iota(p.begin(), p.end(), int64_t{0});
  for (size_t i = p.size(); i > 1; --i) std::swap(p[i - 1], p[rng.below(i)]);
  return p;
}

BatchOrder::BatchOrder(int64_t n, int64_t batch_size, bool drop_last, uint64_t seed)
    : n_(n), batch_size_(batch_size), drop_last_(drop_last), seed_(seed) {
  if (batch_size <= 0) throw UsageError("batch size must be positive, got " + std::to_string(batch_size));
  if (n < 0) throw UsageError("BatchOrder: row count must be non-negative, got " + std::to_string(n));
  reshuffle(0);
}

void BatchOrder::reshuffle(int64_t epoch) {
  if (epoch < 0) throw UsageError("BatchOrder: epoch must be non-negative, got " + std::to_string(epoch));
  epoch_ = epoch;
  Rng rng = Rng::derived(seed_, kStreamBatches, static_cast<uint64_t>(epoch));
  order_ = random_permutation(n_, rng);
}

int64_t BatchOrder::num_batches() const {
  return drop_last_ ? n_ / batch_size_ : (n_ + batch_size_ - 1) / batch_size_;
}

std::span<const int64_t> BatchOrder::batch(int64_t b) const {
  if (b < 0 || b >= num_batches())
    throw UsageError("BatchOrder: batch " + std::to_string(b) + " is outside [0, " +
                     std::to_string(num_batches()) + ")");
  const int64_t begin = b * batch_size_;
  const int64_t end = std::min(begin + batch_size_, n_);
  return std::span<const int64_t>(order_).subspan(static_cast<size_t>(begin), static_cast<size_t>(end - begin));
}

}  // namespace bnlab::data

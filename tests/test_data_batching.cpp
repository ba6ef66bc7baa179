// Batch order per epoch, and Dataset::gather / subset.
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>

#include "data/batching.hpp"
#include "data/dataset.hpp"
#include "data_test_support.hpp"
#include "graph/errors.hpp"

using namespace bnlab;
using namespace bnlab::test;
using data::BatchOrder;

namespace {

std::vector<int64_t> flatten(const BatchOrder& order) {
  std::vector<int64_t> all;
  for (int64_t b = 0; b < order.num_batches(); ++b) {
    const auto idx = order.batch(b);
    all.insert(all.end(), idx.begin(), idx.end());
  }
  return all;
}

}  // namespace

TEST_CASE("every index exactly once per epoch; the last batch is smaller") {
  BatchOrder order(103, 10, false, 7);
  for (int64_t epoch : {0, 1, 5}) {
    order.reshuffle(epoch);
    CHECK(order.epoch() == epoch);
    CHECK(order.num_batches() == 11);
    for (int64_t b = 0; b < 10; ++b) CHECK(order.batch(b).size() == 10);
    CHECK(order.batch(10).size() == 3);
    auto all = flatten(order);
    std::sort(all.begin(), all.end());
    std::vector<int64_t> expected(103);
    std::iota(expected.begin(), expected.end(), 0);
    CHECK(all == expected);
  }
}

TEST_CASE("drop_last: only full batches, all distinct, a different tail skipped per epoch") {
  BatchOrder order(103, 10, true, 7);
  CHECK(order.num_batches() == 10);
  auto all = flatten(order);
  CHECK(all.size() == 100);
  std::sort(all.begin(), all.end());
  CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
  for (int64_t b = 0; b < 10; ++b) CHECK(order.batch(b).size() == 10);
  CHECK_THROWS_AS(order.batch(10), UsageError);
}

TEST_CASE("the order depends only on (seed, epoch): resuming at epoch k gives the same batches") {
  BatchOrder a(50, 8, false, 3), b(50, 8, false, 3);
  a.reshuffle(1);
  a.reshuffle(2);
  a.reshuffle(4);
  b.reshuffle(4);  // straight to epoch 4, as a resumed run would
  CHECK(flatten(a) == flatten(b));

  BatchOrder c(50, 8, false, 3);
  const auto epoch0 = flatten(c);
  c.reshuffle(1);
  const auto epoch1 = flatten(c);
  CHECK(epoch0 != epoch1);
  c.reshuffle(0);
  CHECK(flatten(c) == epoch0);
  BatchOrder other_seed(50, 8, false, 4);
  CHECK(flatten(other_seed) != epoch0);
  std::vector<int64_t> identity(50);
  std::iota(identity.begin(), identity.end(), 0);
  CHECK(epoch0 != identity);  // actually shuffled
}

TEST_CASE("edge sizes and bad arguments") {
  CHECK(BatchOrder(0, 4, false, 0).num_batches() == 0);
  CHECK(BatchOrder(3, 4, false, 0).num_batches() == 1);
  CHECK(BatchOrder(3, 4, false, 0).batch(0).size() == 3);
  CHECK(BatchOrder(3, 4, true, 0).num_batches() == 0);
  CHECK(BatchOrder(8, 4, true, 0).num_batches() == 2);
  CHECK(BatchOrder(8, 4, false, 0).num_batches() == 2);
  check_mentions(message_of<UsageError>([] { BatchOrder(10, 0, false, 0); }), {"batch size", "got 0"});
  check_mentions(message_of<UsageError>([] { BatchOrder(10, -3, false, 0); }), {"got -3"});
  check_mentions(message_of<UsageError>([] { BatchOrder(10, 3, false, 0).batch(4); }), {"batch 4", "[0, 4)"});
  check_mentions(message_of<UsageError>([] { BatchOrder(10, 3, false, 0).reshuffle(-1); }), {"epoch", "-1"});
}

TEST_CASE("random_permutation: a permutation, deterministic for an Rng state") {
  Rng r1(5), r2(5);
  const auto p = data::random_permutation(1000, r1);
  CHECK(p == data::random_permutation(1000, r2));
  auto sorted = p;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i) CHECK(sorted[static_cast<size_t>(i)] == i);
  CHECK(data::random_permutation(0, r1).empty());
}

TEST_CASE("Dataset::gather copies rows into caller buffers; subset makes a new dataset") {
  data::Dataset d;
  d.name = "toy/train";
  d.feature_count = 3;
  d.num_classes = 5;
  for (int i = 0; i < 4; ++i) {
    for (int k = 0; k < 3; ++k) d.features.push_back(static_cast<float>(10 * i + k));
    d.labels.push_back(i + 1);
  }
  const std::vector<int64_t> idx = {3, 0, 3};
  std::vector<float> x(9);
  std::vector<int32_t> y(3);
  d.gather(idx, x.data(), y.data());
  CHECK(x == std::vector<float>{30, 31, 32, 0, 1, 2, 30, 31, 32});
  CHECK(y == std::vector<int32_t>{4, 1, 4});

  const data::Dataset s = d.subset(idx, "toy/sub");
  CHECK(s.name == "toy/sub");
  CHECK(s.size() == 3);
  CHECK(s.feature_count == 3);
  CHECK(s.num_classes == 5);
  CHECK(s.features == x);
  CHECK(s.labels == y);
  CHECK(d.subset({}, "empty").size() == 0);

  const std::vector<int64_t> bad = {1, 4};
  check_mentions(message_of<UsageError>([&] { d.gather(bad, x.data(), y.data()); }), {"row index 4", "toy/train", "[0, 4)"});
  const std::vector<int64_t> negative = {-1};
  CHECK_THROWS_AS(d.subset(negative, "x"), UsageError);
}

TEST_CASE("Dataset::gather with a thread pool copies the same rows; a bad index fails before any copy") {
  data::Dataset d;
  d.name = "wide/train";
  d.feature_count = 1000;  // 50 rows per part at least, so 400 rows are split between two threads
  d.num_classes = 10;
  const int64_t rows = 500;
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t k = 0; k < d.feature_count; ++k) d.features.push_back(static_cast<float>(i * d.feature_count + k));
    d.labels.push_back(static_cast<int32_t>(i % 10));
  }
  std::vector<int64_t> idx(400);
  for (size_t k = 0; k < idx.size(); ++k) idx[k] = static_cast<int64_t>((k * 37) % static_cast<size_t>(rows));
  ThreadPool pool(2);
  std::vector<float> x(idx.size() * 1000, -1.0f);
  std::vector<int32_t> y(idx.size(), -1);
  d.gather(idx, x.data(), y.data(), &pool);
  for (size_t k = 0; k < idx.size(); ++k) {
    CHECK(y[k] == static_cast<int32_t>(idx[k] % 10));
    CHECK(x[k * 1000] == static_cast<float>(idx[k] * 1000));
    CHECK(x[k * 1000 + 999] == static_cast<float>(idx[k] * 1000 + 999));
  }

  idx.back() = rows;  // one row past the end, in the worker's half
  std::fill(x.begin(), x.end(), -1.0f);
  check_mentions(message_of<UsageError>([&] { d.gather(idx, x.data(), y.data(), &pool); }), {"row index 500", "wide/train", "[0, 500)"});
  CHECK(std::all_of(x.begin(), x.end(), [](float v) { return v == -1.0f; }));
}

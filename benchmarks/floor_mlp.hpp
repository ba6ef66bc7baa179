// The arithmetic floor bnlab is measured against: one hand-written training step of the plain
// 784-128-64-10 model in raw Eigen, single thread, doing only what the mathematics needs.
//
//   bench::FloorMlp floor(/*capacity=*/32);
//   floor.epoch(dataset, order);     // for each batch: gather rows, forward, backward, Adam
//
// Per step: gather the batch's rows into one input buffer; 3 products forward, each followed by
// one fused pass (bias + ReLU, or bias + softmax + cross-entropy + its gradient); 5 products
// backward (weight gradients of the 3 layers, input gradients of layers 2 and 3 only), each input
// gradient followed by one fused pass (ReLU mask + bias gradient); one vectorized Adam loop over
// a single flat buffer holding every parameter. No graph, no dispatch, no views rebuilt.
//
// Semantics match bnlab's reference experiment (Glorot-uniform weights, zero biases, mean
// cross-entropy, Adam with Keras' ε-hat, lr 1e-3, ε 1e-7) so that the two train the same model,
// although not bit for bit (the order of floating-point sums differs).
#pragma once

#include <Eigen/Core>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "data/batching.hpp"
#include "data/dataset.hpp"
#include "graph/random.hpp"

namespace bench {

class FloorMlp {
 public:
  using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using MatMap = Eigen::Map<Mat>;
  using RowMap = Eigen::Map<Eigen::Array<float, 1, Eigen::Dynamic>>;

  static constexpr int64_t kIn = 784, kH1 = 128, kH2 = 64, kOut = 10;

  explicit FloorMlp(int64_t capacity, uint64_t seed = 0)
      : x_(capacity, kIn), a1_(capacity, kH1), a2_(capacity, kH2), z_(capacity, kOut),
        d2_(capacity, kH2), d1_(capacity, kH1),
        labels_(static_cast<size_t>(capacity)) {
    // One flat buffer for every parameter (and the same layout for gradients and moments).
    const int64_t sizes[6] = {kIn * kH1, kH1, kH1 * kH2, kH2, kH2 * kOut, kOut};
    int64_t offset = 0;
    for (int i = 0; i < 6; ++i) {
      offsets_[i] = offset;
      offset += sizes[i];
    }
    params_.setZero(offset);
    grads_.setZero(offset);
    m_.setZero(offset);
    v_.setZero(offset);
    bnlab::Rng rng(seed);
    const int64_t fans[3][2] = {{kIn, kH1}, {kH1, kH2}, {kH2, kOut}};
    for (int l = 0; l < 3; ++l) {  // Glorot uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out))
      const double a = std::sqrt(6.0 / static_cast<double>(fans[l][0] + fans[l][1]));
      float* w = params_.data() + offsets_[2 * l];
      for (int64_t k = 0; k < fans[l][0] * fans[l][1]; ++k) w[k] = static_cast<float>(rng.uniform(-a, a));
    }
  }

  int64_t parameter_count() const { return params_.size(); }

  // The input rows and labels of the next step (capacity rows; the step uses the first `b`).
  float* input() { return x_.data(); }
  int32_t* labels() { return labels_.data(); }

  // Copies rows `indices` of `d` into the input buffer (what bnlab's data path does).
  void gather(const bnlab::data::Dataset& d, std::span<const int64_t> indices) {
    const size_t width = static_cast<size_t>(kIn);
    for (size_t k = 0; k < indices.size(); ++k) {
      std::memcpy(x_.data() + k * width, d.row(indices[k]), width * sizeof(float));
      labels_[k] = d.labels[static_cast<size_t>(indices[k])];
    }
  }

  // Forward + backward + Adam on the first `b` rows of the input buffer; returns the mean loss.
  float step(int64_t b) {
    const auto X = x_.topRows(b);
    auto A1 = a1_.topRows(b);
    auto A2 = a2_.topRows(b);
    auto Z = z_.topRows(b);
    auto D2 = d2_.topRows(b);
    auto D1 = d1_.topRows(b);
    const MatMap W1 = weight(0, kIn, kH1), W2 = weight(1, kH1, kH2), W3 = weight(2, kH2, kOut);

    A1.noalias() = X * W1;  // [B,784]·[784,128]
    bias_relu(A1, bias(params_, 0, kH1));
    A2.noalias() = A1 * W2;  // [B,128]·[128,64]
    bias_relu(A2, bias(params_, 1, kH2));
    Z.noalias() = A2 * W3;  // [B,64]·[64,10]
    const float loss = softmax_cross_entropy(Z, bias(params_, 2, kOut), b);  // Z becomes dLoss/dZ

    grad_weight(2, kH2, kOut).noalias() = A2.transpose() * Z;  // [64,B]·[B,10]
    column_sums(Z, bias(grads_, 2, kOut));
    D2.noalias() = Z * W3.transpose();  // [B,10]·[10,64]
    relu_mask_bias_grad(D2, A2, bias(grads_, 1, kH2));
    grad_weight(1, kH1, kH2).noalias() = A1.transpose() * D2;  // [128,B]·[B,64]
    D1.noalias() = D2 * W2.transpose();  // [B,64]·[64,128]
    relu_mask_bias_grad(D1, A1, bias(grads_, 0, kH1));
    grad_weight(0, kIn, kH1).noalias() = X.transpose() * D1;  // [784,B]·[B,128]

    adam();
    return loss;
  }

  // One epoch: for every batch of `order`, gather and step. Returns the last loss.
  float epoch(const bnlab::data::Dataset& d, const bnlab::data::BatchOrder& order) {
    float loss = 0;
    for (int64_t b = 0; b < order.num_batches(); ++b) {
      const auto rows = order.batch(b);
      gather(d, rows);
      loss = step(static_cast<int64_t>(rows.size()));
    }
    return loss;
  }

 private:
  MatMap weight(int layer, int64_t rows, int64_t cols) { return {params_.data() + offsets_[2 * layer], rows, cols}; }
  MatMap grad_weight(int layer, int64_t rows, int64_t cols) { return {grads_.data() + offsets_[2 * layer], rows, cols}; }
  RowMap bias(Eigen::VectorXf& store, int layer, int64_t n) { return {store.data() + offsets_[2 * layer + 1], n}; }

  template <class M>
  static void bias_relu(M&& a, const RowMap& bias) {
    for (Eigen::Index r = 0; r < a.rows(); ++r) a.row(r).array() = (a.row(r).array() + bias).max(0.0f);
  }

  // Adds the bias, then per row: loss −log softmax(z)_y and, in place, dLoss/dz = (softmax − onehot)/B.
  template <class M>
  float softmax_cross_entropy(M&& z, const RowMap& bias, int64_t b) {
    const float inv_b = 1.0f / static_cast<float>(b);
    double total = 0;
    for (Eigen::Index r = 0; r < z.rows(); ++r) {
      auto row = z.row(r).array();
      row += bias;
      const int32_t y = labels_[static_cast<size_t>(r)];
      const float max = row.maxCoeff();
      const float zy = row(y) - max;
      row = (row - max).exp();
      const float sum = row.sum();
      total += static_cast<double>(std::log(sum) - zy);
      row *= inv_b / sum;
      row(y) -= inv_b;
    }
    return static_cast<float>(total / static_cast<double>(b));
  }

  template <class M>
  static void column_sums(const M& g, RowMap sums) {
    sums.setZero();
    for (Eigen::Index r = 0; r < g.rows(); ++r) sums += g.row(r).array();
  }

  // d = (a > 0 ? d : 0) and the bias gradient (column sums of the masked d), in one pass.
  template <class D, class A>
  static void relu_mask_bias_grad(D&& d, const A& a, RowMap bias_grad) {
    bias_grad.setZero();
    for (Eigen::Index r = 0; r < d.rows(); ++r) {
      d.row(r).array() = (a.row(r).array() > 0.0f).select(d.row(r).array(), 0.0f);
      bias_grad += d.row(r).array();
    }
  }

  // Adam with Keras' ε-hat (as bnlab::Optimizer): one vectorized loop over the flat buffer.
  void adam() {
    ++t_;
    const double c1 = 1 - std::pow(0.9, static_cast<double>(t_)), c2 = 1 - std::pow(0.999, static_cast<double>(t_));
    const float step = static_cast<float>(1e-3 * std::sqrt(c2) / c1);
    const float b1 = 0.9f, b2 = 0.999f, eps = 1e-7f;
    auto p = params_.array();
    const auto g = grads_.array();
    auto m = m_.array();
    auto v = v_.array();
    m = b1 * m + (1.0f - b1) * g;
    v = b2 * v + (1.0f - b2) * g.square();
    p -= step * m / (v.sqrt() + eps);
  }

  Mat x_, a1_, a2_, z_, d2_, d1_;
  std::vector<int32_t> labels_;
  Eigen::VectorXf params_, grads_, m_, v_;
  int64_t offsets_[6] = {};
  int64_t t_ = 0;
};

}  // namespace bench

// Optimizers as update steps over the parameter store: one vectorized loop over the flat buffer.
//
//   bnlab::Optimizer opt({.kind = bnlab::OptimizerKind::adam, .lr = 1e-3}, session.parameters());
//   session.forward(Mode::train); session.backward();
//   opt.step(session.parameters(), session.gradients(), session.pool());   // pool: optional
//
// sgd       p -= lr·g
// momentum  v = μ·v + g;  p -= lr·v                                 (PyTorch's SGD with momentum)
// adam      m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²;
//           p -= lr·(√(1−β2^t)/(1−β1^t))·m/(√v + ε)      (Kingma & Ba with Keras' ε-hat, 1e-7)
// adamw     adam, plus p -= lr·wd·p before the update (decoupled weight decay, Loshchilov & Hutter)
#pragma once

#include <cstdint>
#include <string>

#include "graph/store.hpp"
#include "graph/thread_pool.hpp"

namespace bnlab {

enum class OptimizerKind { sgd, momentum, adam, adamw };

const char* to_string(OptimizerKind kind);
OptimizerKind optimizer_from_string(const std::string& name);  // UsageError listing the known names

struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::adam;
  double lr = 1e-3;
  double momentum = 0.9;     // momentum
  double beta1 = 0.9;        // adam, adamw
  double beta2 = 0.999;
  double eps = 1e-7;
  double weight_decay = 0.0; // adamw (0.01 is PyTorch's default; bnlab leaves it to the user)
  // Throws UsageError naming the field whose value is not allowed (lr must be positive and finite, …).
  void validate() const;
};

class Optimizer {
 public:
  Optimizer(OptimizerConfig config, const TensorStore<float>& params);

  // With a pool the buffer is split into contiguous parts, one per thread. Every element's update
  // depends only on that element, so the result is the same with any number of threads.
  void step(TensorStore<float>& params, const TensorStore<float>& grads, ThreadPool* pool = nullptr);

  const OptimizerConfig& config() const { return config_; }
  int64_t steps() const { return steps_; }
  // The optimizer's state for checkpoints: first and second moments (momentum uses `first` only),
  // laid out like the parameter store, and the step count.
  TensorStore<float>& first_moment() { return m_; }
  TensorStore<float>& second_moment() { return v_; }
  const TensorStore<float>& first_moment() const { return m_; }
  const TensorStore<float>& second_moment() const { return v_; }
  void set_steps(int64_t steps) { steps_ = steps; }
  // The learning rate of the next steps (a schedule's rate for the epoch; train/lr_schedule.hpp).
  void set_lr(double lr) { config_.lr = lr; }

 private:
  OptimizerConfig config_;
  TensorStore<float> m_, v_;
  int64_t steps_ = 0;
};

}  // namespace bnlab

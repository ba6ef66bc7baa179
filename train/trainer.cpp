#include "train/trainer.hpp"

#include <chrono>
#include <cmath>
#include <limits>

#include "data/batching.hpp"
#include "graph/errors.hpp"
#include "train/model_file.hpp"
#include "train/config_fields.hpp"

namespace bnlab {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

const ModelSpec& checked(const ModelSpec& spec, const data::Splits& data) {
  if (data.train.size() == 0) throw InputError("dataset '" + data.train.name + "' has no training rows");
  check_input_shape(spec.input_shape, data.train);
  if (spec.classes != data.train.num_classes)
    throw UsageError("the model has " + std::to_string(spec.classes) + " classes but '" + data.train.name + "' has " +
                     std::to_string(data.train.num_classes));
  return spec;
}

template <class Dst, class Src>
void copy_into(Dst& dst, const Src& src) {
  // In place: sessions hold views into these buffers.
  std::copy(src.begin(), src.end(), dst.begin());
}

std::string nonfinite_message(const Session& s, const std::string& what, int epoch, int64_t step, NodeId node) {
  std::string msg = "non-finite " + what + " at epoch " + std::to_string(epoch) + ", step " + std::to_string(step);
  if (node >= 0) {
    const Node& n = s.graph().node(node);
    msg += ", first in " + std::string(n.kind == NodeKind::parameter ? "the gradient of parameter" : "node") + " '" + n.name + "'";
    if (n.op) msg += " (" + std::string(n.op->name) + ")";
  }
  return msg;
}

}  // namespace

const char* to_string(NonFinitePolicy p) { return p == NonFinitePolicy::stop ? "stop" : "skip"; }

NonFinitePolicy nonfinite_policy_from_string(const std::string& s) {
  if (s == "stop") return NonFinitePolicy::stop;
  if (s == "skip") return NonFinitePolicy::skip;
  throw UsageError("unknown policy '" + s + "' (known: stop, skip)");
}

void TrainConfig::validate() const {
  validate_fields(*this);  // the optimizer's fields included
}

Trainer::Trainer(const ModelSpec& spec, TrainConfig config, const data::Splits& data)
    : model_(build_model(checked(spec, data))),
      config_(std::move(config)),
      data_(data),
      session_(compile(model_.graph, model_.loss),
               {.seed = config_.seed, .max_batch = config_.batch_size, .threads = config_.threads}),
      eval_session_(compile(model_.graph, model_.loss, {.backward = false}), {.seed = config_.seed, .threads = config_.threads}),
      optimizer_(config_.optimizer, session_.parameters()) {
  config_.validate();
  const int64_t n = data.train.size();
  if (config_.batch_size > n)
    throw ConfigError("batch_size", std::to_string(config_.batch_size),
                      "at most the training split's " + std::to_string(n) + " rows");
  if (spec.has(LayerKind::batch_norm)) {
    if (config_.batch_size < 2)
      throw ConfigError("batch_size", "1", "at least 2 to train batch norm (a batch of one sample has no variance)");
    if (!config_.drop_last && n % config_.batch_size == 1)
      throw ConfigError::because("batch_size", std::to_string(config_.batch_size),
                                 "with batch_size " + std::to_string(config_.batch_size) + " the last batch of " +
                                     std::to_string(n) +
                                     " training rows holds 1 sample, which batch norm cannot train on; set drop_last or "
                                     "change batch_size");
  }
}

EpochMetrics Trainer::train_epoch(const TrainObserver* observer) {
  const data::Dataset& train = data_.train;
  data::BatchOrder order(train.size(), config_.batch_size, config_.drop_last, config_.seed);
  order.reshuffle(epoch_);
  const int64_t steps = order.num_batches();
  if (observer && observer->epoch_start) observer->epoch_start(epoch_ + 1, steps);

  const std::vector<Probe>& pre = model_.probes;
  std::vector<double> sum(pre.size(), 0.0), sum_sq(pre.size(), 0.0), count(pre.size(), 0.0);
  std::vector<double> step_sum(pre.size()), step_sum_sq(pre.size()), step_count(pre.size());
  std::vector<double> grad_norm_sum(static_cast<size_t>(session_.gradients().size()), 0.0);

  double loss_sum = 0, correct_sum = 0;
  int64_t samples = 0, skipped = 0;
  // A skipped step must not leave its running statistics behind: keep the state from before it.
  const bool may_skip = config_.on_nonfinite == NonFinitePolicy::skip;
  std::vector<float> state_before(may_skip ? session_.state().data.size() : 0);
  const auto start = Clock::now();
  for (int64_t b = 0; b < steps; ++b) {
    if (observer && observer->should_stop && observer->should_stop()) throw TrainingInterrupted(epoch_ + 1, b, steps);
    const auto rows = order.batch(b);
    const int64_t n = static_cast<int64_t>(rows.size());
    session_.set_batch(n);
    train.gather(rows, session_.input(model_.input).data, session_.labels(model_.labels).data(), session_.pool());
    if (may_skip) std::copy(session_.state().data.begin(), session_.state().data.end(), state_before.begin());
    const float loss = session_.forward(Mode::train);
    if (!std::isfinite(loss)) {
      if (!may_skip)
        throw NonFiniteError(nonfinite_message(session_, "training loss", epoch_ + 1, b + 1, session_.first_nonfinite_value()));
      copy_into(session_.state().data, state_before);
      ++skipped;
      continue;
    }
    // Read before backward: backward reuses the memory of tensors it no longer needs.
    const float correct = session_.saved(model_.loss, "correct").data[0];
    if (config_.record_internals)
      for (size_t l = 0; l < pre.size(); ++l) {
        const auto v = session_.value(pre[l].node).vec().template cast<double>();
        step_sum[l] = v.sum();
        step_sum_sq[l] = v.square().sum();
        step_count[l] = static_cast<double>(v.size());
      }
    session_.backward();
    // NOTE: (g − g) is 0 for a finite g and NaN otherwise, so one vectorized sum checks them all
    // (allFinite() compiles to a compare and branch per element).
    const Eigen::Map<const Eigen::ArrayXf> all_grads(session_.gradients().data.data(),
                                                     static_cast<Eigen::Index>(session_.gradients().data.size()));
    if ((all_grads - all_grads).sum() != 0.0f) {
      if (!may_skip)
        throw NonFiniteError(nonfinite_message(session_, "gradient", epoch_ + 1, b + 1, session_.first_nonfinite_gradient()));
      copy_into(session_.state().data, state_before);
      ++skipped;
      continue;
    }
    loss_sum += static_cast<double>(loss) * static_cast<double>(n);
    correct_sum += correct;
    samples += n;
    if (config_.record_internals) {
      for (size_t l = 0; l < pre.size(); ++l) {
        sum[l] += step_sum[l];
        sum_sq[l] += step_sum_sq[l];
        count[l] += step_count[l];
      }
      const auto& grads = session_.gradients();
      for (int p = 0; p < grads.size(); ++p)
        grad_norm_sum[static_cast<size_t>(p)] += std::sqrt(static_cast<double>(grads.view(p).vec().square().sum()));
    }
    optimizer_.step(session_.parameters(), session_.gradients(), session_.pool());
    if (observer && observer->step)
      observer->step(b + 1, steps, samples, seconds_since(start), loss_sum / static_cast<double>(std::max<int64_t>(samples, 1)));
  }

  EpochMetrics m;
  m.seconds = seconds_since(start);
  m.epoch = ++epoch_;
  m.steps = steps;
  m.skipped_steps = skipped;
  // Every step skipped: no loss to report (NaN, written as null).
  m.train_loss = samples ? loss_sum / static_cast<double>(samples) : std::numeric_limits<double>::quiet_NaN();
  m.train_acc = samples ? correct_sum / static_cast<double>(samples) : std::numeric_limits<double>::quiet_NaN();
  m.samples_per_second = m.seconds > 0 ? static_cast<double>(samples) / m.seconds : 0;
  if (config_.record_internals) {
    for (size_t l = 0; l < pre.size(); ++l) {
      const double mean = sum[l] / count[l];
      const double var = std::max(0.0, sum_sq[l] / count[l] - mean * mean);
      m.layers.push_back({pre[l].label, mean, std::sqrt(var)});
    }
    const auto& grads = session_.gradients();
    const double used = static_cast<double>(std::max<int64_t>(steps - skipped, 1));
    for (int p = 0; p < grads.size(); ++p)
      m.grad_norms.push_back({grads.entries[static_cast<size_t>(p)].name, grad_norm_sum[static_cast<size_t>(p)] / used});
  }
  const EvalMetrics val = evaluate(data_.val);
  m.val_loss = val.loss;
  m.val_acc = val.acc;
  return m;
}

EvalMetrics Trainer::evaluate(const data::Dataset& d, Mode mode, int64_t batch) {
  copy_into(eval_session_.parameters().data, session_.parameters().data);
  copy_into(eval_session_.state().data, session_.state().data);
  const int64_t chunk = batch > 0 ? batch : (mode == Mode::eval ? config_.eval_batch_size : config_.batch_size);
  return evaluate_dataset(eval_session_, model_, d, mode, chunk);
}

}  // namespace bnlab

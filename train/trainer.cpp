#include "train/trainer.hpp"

#include <array>
#include <chrono>
#include <cmath>
#include <limits>

#include "data/batching.hpp"
#include "graph/batch_share.hpp"
#include "graph/errors.hpp"
#include "graph/suggest.hpp"
#include "train/model_file.hpp"
#include "train/running_std.hpp"
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
  throw UsageError(unknown_name("policy", s, {"stop", "skip"}));
}

const char* to_string(BnStats s) { return s == BnStats::sync ? "sync" : "local"; }

BnStats bn_stats_from_string(const std::string& s) {
  if (s == "sync") return BnStats::sync;
  if (s == "local") return BnStats::local;
  throw UsageError(unknown_name("batch-norm statistics", s, {"sync", "local"}));
}

void TrainConfig::validate() const {
  validate_fields(*this);  // the optimizer's fields included
  if (lr_schedule == LrSchedule::warmup_cosine && (lr_warmup_epochs < 1 || lr_warmup_epochs >= epochs))
    throw ConfigError::because("lr_warmup_epochs", std::to_string(lr_warmup_epochs),
                               "lr_warmup_epochs " + std::to_string(lr_warmup_epochs) + " with lr_schedule warmup-cosine and epochs " +
                                   std::to_string(epochs) + ": the warm-up must last at least 1 epoch and fewer than epochs");
  if ((lr_schedule == LrSchedule::cosine || lr_schedule == LrSchedule::warmup_cosine) && lr_min > optimizer.lr)
    throw ConfigError::because("lr_min", field_text(lr_min),
                               "lr_min " + field_text(lr_min) + " is above lr " + field_text(optimizer.lr) +
                                   ": the cosine falls from lr to lr_min");
}

namespace {

// The rows of the largest share of a batch of `batch` rows among `workers`.
int64_t largest_share(int64_t batch, int workers) { return share_of(batch, workers, 0).rows; }

// Batch norm's Collective: the workers share statistics only with BnStats::sync.
Collective* batch_norm_collective(const DataParallel& p) {
  return p.workers() > 1 && p.bn_stats == BnStats::sync ? p.collective : nullptr;
}

}  // namespace

Trainer::Trainer(const ModelSpec& spec, TrainConfig config, const data::Splits& data, DataParallel parallel)
    : model_(build_model(checked(spec, data))),
      config_(std::move(config)),
      data_(data),
      parallel_(parallel),
      session_(compile(model_.graph, model_.loss),
               {.seed = config_.seed,
                .max_batch = largest_share(config_.batch_size, parallel.workers()),
                .threads = config_.threads,
                .collective = batch_norm_collective(parallel)}),
      eval_session_(compile(model_.graph, model_.loss, {.backward = false}), {.seed = config_.seed, .threads = config_.threads}),
      optimizer_(config_.optimizer, session_.parameters()) {
  config_.validate();
  if (config_.early_stop > 0 && data.val.size() == 0)
    throw ConfigError::because("early_stop", std::to_string(config_.early_stop),
                               "early_stop watches the validation split, which is empty; set val_fraction above 0");
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
                                     " training rows holds 1 sample, which batch normalization cannot train on; set drop_last or "
                                     "change batch_size");
  }
  // Ghost batch norm: every share of the smallest batch needs ≥ 2 values per channel — 2 samples
  // of a [B,F] input, 1 sample of an image (H·W values per channel).
  {
    const int64_t smallest = config_.drop_last || n % config_.batch_size == 0 ? config_.batch_size : n % config_.batch_size;
    const std::vector<std::vector<int64_t>> shapes = spec.layer_shapes();
    for (size_t l = 0; l < spec.layers.size(); ++l) {
      const LayerSpec& layer = spec.layers[l];
      if (layer.kind != LayerKind::batch_norm || layer.ghost_batches <= 1) continue;
      int64_t values = 1;  // per channel and sample
      for (size_t d = 0; d + 1 < shapes[l].size(); ++d) values *= shapes[l][d];
      const int64_t need = values >= 2 ? layer.ghost_batches : 2 * layer.ghost_batches;
      if (smallest < need)
        throw ConfigError::because(
            "batch_size", std::to_string(config_.batch_size),
            "batch-norm layer '" + layer.name + "' normalizes " + std::to_string(layer.ghost_batches) + " ghost batches, so every batch needs at least " +
                std::to_string(need) + " samples, but " +
                (smallest == config_.batch_size ? "batch_size is " + std::to_string(smallest)
                                                : "the last batch of the " + std::to_string(n) + " training rows has " + std::to_string(smallest)) +
                "; change batch_size, set drop_last or use fewer ghost batches");
    }
  }
  const int workers = parallel_.workers();
  if (workers > 1) {
    // The smallest batch of an epoch: the last one, unless drop_last or it is full.
    const int64_t last = config_.drop_last || n % config_.batch_size == 0 ? config_.batch_size : n % config_.batch_size;
    const int64_t smallest_share = share_of(last, workers, workers - 1).rows;
    const std::string b = std::to_string(config_.batch_size);
    const std::string which = last == config_.batch_size ? "a batch of " + b + " rows"
                                                         : "the last batch of " + std::to_string(last) + " rows (" +
                                                               std::to_string(n) + " training rows, batch_size " + b + ")";
    if (smallest_share < 1)
      throw ConfigError::because("batch_size", b,
                                 which + " leaves data-parallel worker " + std::to_string(workers - 1) + " of " +
                                     std::to_string(workers) + " without a row; set drop_last or change batch_size");
    if (spec.has(LayerKind::batch_norm) && parallel_.bn_stats == BnStats::local && smallest_share < 2)
      throw ConfigError::because("batch_size", b,
                                 which + " gives data-parallel worker " + std::to_string(workers - 1) + " of " +
                                     std::to_string(workers) +
                                     " one row, which batch normalization with local statistics cannot train on; use sync "
                                     "statistics, set drop_last or change batch_size");
    if (parallel_.bn_stats == BnStats::local) {
      const Program& p = session_.program();
      for (const ProgramNode& pn : p.order) {
        const Node& node = p.graph.node(pn.id);
        if (node.kind != NodeKind::op) continue;
        for (size_t k = 0; k < pn.state_names.size(); ++k)
          if (node.op->state[k].per_worker_estimate) per_worker_state_.push_back(session_.state().find(pn.state_names[k]));
      }
      size_t elements = 0;
      for (int e : per_worker_state_) elements += static_cast<size_t>(session_.state().view(e).size());
      state_buffer_.resize(elements);
    }
  }
}

EpochMetrics Trainer::train_epoch(const TrainObserver* observer) {
  const data::Dataset& train = data_.train;
  data::BatchOrder order(train.size(), config_.batch_size, config_.drop_last, config_.seed);
  order.reshuffle(epoch_);
  const int64_t steps = order.num_batches();
  const double lr = scheduled_lr(config_, epoch_);
  optimizer_.set_lr(lr);
  if (observer && observer->epoch_start) observer->epoch_start(epoch_ + 1, steps);
  const int workers = parallel_.workers();
  const bool parallel = workers > 1;

  const std::vector<Probe>& pre = model_.probes;
  std::vector<double> sum(pre.size(), 0.0), sum_sq(pre.size(), 0.0), count(pre.size(), 0.0);
  std::vector<double> step_sum(pre.size()), step_sum_sq(pre.size()), step_count(pre.size());
  std::vector<double> grad_norm_sum(static_cast<size_t>(session_.gradients().size()), 0.0);
  // Data-parallel: after each step the workers sum, besides the gradients, one small vector:
  // [loss·n_r, correct, stop requests, then per probe Σv, Σv², count].
  constexpr size_t kLoss = 0, kCorrect = 1, kStop = 2, kProbes = 3;
  if (parallel) step_sums_.assign(kProbes + 3 * pre.size(), 0.0);

  double loss_sum = 0, correct_sum = 0;
  int64_t samples = 0, skipped = 0;
  RunningStd loss_spread;  // the counted steps' losses
  // A skipped step must not leave its running statistics behind: keep the state from before it.
  const bool may_skip = config_.on_nonfinite == NonFinitePolicy::skip;
  std::vector<float> state_before(may_skip ? session_.state().data.size() : 0);
  auto& grads = session_.gradients();
  const Eigen::Map<const Eigen::ArrayXf> all_grads(grads.data.data(), static_cast<Eigen::Index>(grads.data.size()));
  const auto start = Clock::now();
  for (int64_t b = 0; b < steps; ++b) {
    const bool stop = observer && observer->should_stop && observer->should_stop();
    // One process stops before the step; workers carry the request through the step's sum, so that
    // every worker stops at the same step (a worker that stopped alone would leave the others
    // waiting in the sum).
    if (stop && !parallel) throw TrainingInterrupted(epoch_ + 1, b, steps);
    const auto batch_rows = order.batch(b);
    const int64_t n = static_cast<int64_t>(batch_rows.size());
    const BatchShare share = share_of(n, workers, parallel_.rank());
    const auto rows = batch_rows.subspan(static_cast<size_t>(share.first), static_cast<size_t>(share.rows));
    session_.set_batch(share.rows);
    session_.set_first_row(share.first);
    train.gather(rows, session_.input(model_.input).data, session_.labels(model_.labels).data(), session_.pool());
    if (may_skip) std::copy(session_.state().data.begin(), session_.state().data.end(), state_before.begin());
    float loss = session_.forward(Mode::train);
    if (!parallel && !std::isfinite(loss)) {
      if (!may_skip)
        throw NonFiniteError(nonfinite_message(session_, "training loss", epoch_ + 1, b + 1, session_.first_nonfinite_value()));
      copy_into(session_.state().data, state_before);
      ++skipped;
      continue;
    }
    // Read before backward: backward reuses the memory of tensors it no longer needs.
    float correct = session_.saved(model_.loss, "correct").data[0];
    if (config_.record_internals)
      for (size_t l = 0; l < pre.size(); ++l) {
        const auto v = session_.value(pre[l].node).vec().template cast<double>();
        step_sum[l] = v.sum();
        step_sum_sq[l] = v.square().sum();
        step_count[l] = static_cast<double>(v.size());
      }
    if (!parallel) {
      session_.backward();
    } else {
      // d(global mean loss)/d(this worker's mean loss) = n_r / n. Every worker runs backward even
      // when its loss is not finite: synchronized batch norm sums inside backward.
      const float weight = static_cast<float>(share.rows) / static_cast<float>(n);
      session_.backward(std::span<const float>(&weight, 1));
      parallel_.collective->sum(std::span<float>(grads.data.data(), grads.data.size()));
      std::fill(step_sums_.begin(), step_sums_.end(), 0.0);
      step_sums_[kLoss] = static_cast<double>(loss) * static_cast<double>(share.rows);
      step_sums_[kCorrect] = correct;
      step_sums_[kStop] = stop ? 1.0 : 0.0;
      for (size_t l = 0; l < pre.size() && config_.record_internals; ++l) {
        step_sums_[kProbes + 3 * l] = step_sum[l];
        step_sums_[kProbes + 3 * l + 1] = step_sum_sq[l];
        step_sums_[kProbes + 3 * l + 2] = step_count[l];
      }
      parallel_.collective->sum(std::span<double>(step_sums_));
      if (step_sums_[kStop] > 0) throw TrainingInterrupted(epoch_ + 1, b, steps);
      loss = static_cast<float>(step_sums_[kLoss] / static_cast<double>(n));
      correct = static_cast<float>(step_sums_[kCorrect]);
      for (size_t l = 0; l < pre.size() && config_.record_internals; ++l) {
        step_sum[l] = step_sums_[kProbes + 3 * l];
        step_sum_sq[l] = step_sums_[kProbes + 3 * l + 1];
        step_count[l] = step_sums_[kProbes + 3 * l + 2];
      }
      if (!std::isfinite(loss)) {
        // The same decision on every worker: the loss is the global one.
        if (!may_skip)
          throw NonFiniteError(nonfinite_message(session_, "training loss", epoch_ + 1, b + 1, session_.first_nonfinite_value()));
        copy_into(session_.state().data, state_before);
        ++skipped;
        continue;
      }
    }
    // NOTE: (g − g) is 0 for a finite g and NaN otherwise, so one vectorized sum checks them all
    // (allFinite() compiles to a compare and branch per element).
    if ((all_grads - all_grads).sum() != 0.0f) {
      if (!may_skip)
        throw NonFiniteError(nonfinite_message(session_, "gradient", epoch_ + 1, b + 1, session_.first_nonfinite_gradient()));
      copy_into(session_.state().data, state_before);
      ++skipped;
      continue;
    }
    loss_sum += static_cast<double>(loss) * static_cast<double>(n);
    loss_spread.add(static_cast<double>(loss));
    correct_sum += correct;
    samples += n;
    if (config_.record_internals) {
      for (size_t l = 0; l < pre.size(); ++l) {
        sum[l] += step_sum[l];
        sum_sq[l] += step_sum_sq[l];
        count[l] += step_count[l];
      }
      for (int p = 0; p < grads.size(); ++p)
        grad_norm_sum[static_cast<size_t>(p)] += std::sqrt(static_cast<double>(grads.view(p).vec().square().sum()));
    }
    optimizer_.step(session_.parameters(), session_.gradients(), session_.pool());
    if (observer && observer->step) {
      const double rows = static_cast<double>(std::max<int64_t>(samples, 1));
      observer->step({.step = b + 1, .steps = steps, .samples = samples, .seconds = seconds_since(start),
                      .loss = loss_sum / rows, .acc = correct_sum / rows});
    }
  }
  if (parallel) {
    average_per_worker_state();
    check_workers_agree();
  }

  EpochMetrics m;
  m.seconds = seconds_since(start);
  m.epoch = ++epoch_;
  m.steps = steps;
  m.skipped_steps = skipped;
  m.lr = lr;
  // Every step skipped: no loss to report (NaN, written as null).
  m.train_loss = samples ? loss_sum / static_cast<double>(samples) : std::numeric_limits<double>::quiet_NaN();
  m.train_loss_std = loss_spread.std();
  m.train_acc = samples ? correct_sum / static_cast<double>(samples) : std::numeric_limits<double>::quiet_NaN();
  m.samples_per_second = m.seconds > 0 ? static_cast<double>(samples) / m.seconds : 0;
  if (config_.record_internals) {
    for (size_t l = 0; l < pre.size(); ++l) {
      const double mean = sum[l] / count[l];
      const double var = std::max(0.0, sum_sq[l] / count[l] - mean * mean);
      m.layers.push_back({pre[l].label, mean, std::sqrt(var)});
    }
    const double used = static_cast<double>(std::max<int64_t>(steps - skipped, 1));
    for (int p = 0; p < grads.size(); ++p)
      m.grad_norms.push_back({grads.entries[static_cast<size_t>(p)].name, grad_norm_sum[static_cast<size_t>(p)] / used});
  }
  const EvalMetrics val = evaluate(data_.val);
  m.val_loss = val.loss;
  m.val_acc = val.acc;
  return m;
}

// running ← (1/N)·Σ_workers running: each worker updated its running statistics from its own
// shares, running ← (1 − m)·running + m·stat, which is linear in them, so the average over the
// workers after the epoch is the running statistic of the share-averaged batch statistics
// ((1/N)·Σ_r stat_r) — what one process with ghost batches of the same shares keeps.
void Trainer::average_per_worker_state() {
  if (per_worker_state_.empty()) return;
  auto& state = session_.state();
  size_t at = 0;
  for (int e : per_worker_state_)
    for (float v : state.view(e).vec()) state_buffer_[at++] = v;
  parallel_.collective->sum(std::span<float>(state_buffer_));
  const float inv = 1.0f / static_cast<float>(parallel_.workers());
  at = 0;
  for (int e : per_worker_state_)
    for (float& v : state.view(e).vec()) v = state_buffer_[at++] * inv;
}

// Every worker must hold the same parameters, bit for bit (Collective's contract: the same sums
// everywhere). With h_r a 20-bit hash of worker r's parameters, all h_r are equal iff
// N·Σh_r² = (Σh_r)² (Cauchy–Schwarz), which doubles compute exactly for these sizes.
void Trainer::check_workers_agree() {
  const auto& p = session_.parameters().data;
  uint64_t h = 1469598103934665603ull;  // FNV-1a over the parameters' bytes
  const auto* bytes = reinterpret_cast<const unsigned char*>(p.data());
  for (size_t i = 0; i < p.size() * sizeof(float); ++i) h = (h ^ bytes[i]) * 1099511628211ull;
  std::array<double, 4> sums{};
  const double lo = static_cast<double>(h & 0xfffff), hi = static_cast<double>((h >> 20) & 0xfffff);
  sums = {lo, lo * lo, hi, hi * hi};
  parallel_.collective->sum(std::span<double>(sums));
  const double n = parallel_.workers();
  if (n * sums[1] != sums[0] * sums[0] || n * sums[3] != sums[2] * sums[2])
    throw RuntimeError("after epoch " + std::to_string(epoch_ + 1) + " the " + std::to_string(parallel_.workers()) +
                       " data-parallel workers hold different parameters: the gradient sums did not come back with the "
                       "same bits on every worker");
}

EvalMetrics Trainer::evaluate(const data::Dataset& d, Mode mode, int64_t batch) {
  copy_into(eval_session_.parameters().data, session_.parameters().data);
  copy_into(eval_session_.state().data, session_.state().data);
  const int64_t chunk = batch > 0 ? batch : (mode == Mode::eval ? config_.eval_batch_size : config_.batch_size);
  // Data-parallel, eval mode: each worker scores its share of the rows and the workers sum. A row's
  // loss in eval mode does not depend on the rows beside it, so only the order of the loss sum
  // differs from one process (the count of right predictions is exact). With batch statistics the
  // chunks are part of the result, so every worker evaluates them all, as one process does.
  if (parallel_.workers() < 2 || mode != Mode::eval || d.size() == 0)
    return evaluate_dataset(eval_session_, model_, d, mode, chunk);
  const BatchShare share = share_of(d.size(), parallel_.workers(), parallel_.rank());
  const EvalSums mine = evaluate_rows(eval_session_, model_, d, mode, chunk, share.first, share.first + share.rows);
  std::array<double, 2> sums = {mine.loss_sum, mine.correct};
  parallel_.collective->sum(std::span<double>(sums));
  const double n = static_cast<double>(d.size());
  return {.loss = sums[0] / n, .acc = sums[1] / n, .samples = d.size()};
}

}  // namespace bnlab

// The training configuration's fields, each declared once — its name, its command-line flag, its
// key in the metrics document, its valid range and a one-line doc — and the default is the struct
// member's initializer. The declarations drive validation (here), the JSON of checkpoints
// (train/serialize.cpp), the metrics document's config block (lab/metrics_json.cpp) and the
// command-line flags (tools/train_flags.cpp), so a new field is one line in one list.
//
//   bnlab::OptimizerConfig o;
//   bnlab::visit_fields(o, [](const bnlab::FieldInfo& f, auto& value) { … f.name, f.flag, value … });
//   bnlab::TrainConfig c;  c.optimizer.lr = -0.1;
//   c.validate();   // throws ConfigError: "lr must be positive and finite, got -0.1" (field "lr")
//
// A visitor is called as v(info, member) for every field in declaration order; for TrainConfig the
// optimizer's fields come where "optimizer" stands, each with `nested = "optimizer"`.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "graph/errors.hpp"
#include "graph/fields.hpp"
#include "train/optimizer.hpp"
#include "train/trainer.hpp"

namespace bnlab {

inline std::string field_text(OptimizerKind v) { return to_string(v); }
inline std::string field_text(NonFinitePolicy v) { return to_string(v); }
inline std::string field_text(LrSchedule v) { return to_string(v); }
inline std::string field_text(EarlyStopMetric v) { return to_string(v); }

// Enum fields by name (UsageError listing the known names otherwise).
inline void parse_field(const std::string& s, OptimizerKind& out) { out = optimizer_from_string(s); }
inline void parse_field(const std::string& s, NonFinitePolicy& out) { out = nonfinite_policy_from_string(s); }
inline void parse_field(const std::string& s, LrSchedule& out) { out = lr_schedule_from_string(s); }
inline void parse_field(const std::string& s, EarlyStopMetric& out) { out = early_stop_metric_from_string(s); }

inline constexpr Range kUnitLeftOpen{0, 1, true, false};  // (0, 1]

template <class C, class V>
  requires std::is_same_v<std::remove_const_t<C>, OptimizerConfig>
void visit_fields(C& c, V&& v) {
  v(FieldInfo{"kind", "--optimizer", "optimizer", "sgd, momentum, adam or adamw"}, c.kind);
  v(FieldInfo{"lr", "--lr", "lr", "learning rate", kPositive}, c.lr);
  v(FieldInfo{"momentum", "--momentum", "momentum", "momentum (--optimizer momentum)", kUnitOpen}, c.momentum);
  v(FieldInfo{"beta1", "--beta1", "beta1", "Adam's beta1", kUnitOpen}, c.beta1);
  v(FieldInfo{"beta2", "--beta2", "beta2", "Adam's beta2", kUnitOpen}, c.beta2);
  v(FieldInfo{"eps", "--adam-eps", "adam_eps", "Adam's epsilon (Keras' 1e-7)", kPositive}, c.eps);
  v(FieldInfo{"weight_decay", "--weight-decay", "weight_decay", "decoupled weight decay (--optimizer adamw)", kNonNegative},
    c.weight_decay);
}

// dataset and model are chosen by flags of their own (--dataset in the data group, --model or
// --variants), so they carry no flag here; the metrics document names them itself ("dataset",
// "preset").
template <class C, class V>
  requires std::is_same_v<std::remove_const_t<C>, TrainConfig>
void visit_fields(C& c, V&& v) {
  v(FieldInfo{"dataset"}, c.dataset);
  v(FieldInfo{"model"}, c.model);
  v(FieldInfo{"epochs", "--epochs", "epochs", "epochs to train", kAtLeastOne}, c.epochs);
  v(FieldInfo{"batch_size", "--batch-size", "batch_size", "training batch size", kAtLeastOne}, c.batch_size);
  v(FieldInfo{"drop_last", "--drop-last", "drop_last", "skip each epoch's incomplete last batch"}, c.drop_last);
  visit_fields(c.optimizer, [&](FieldInfo f, auto& value) {
    f.nested = "optimizer";
    v(f, value);
  });
  v(FieldInfo{"seed", "--seed", "seed", "seed of the split, the initial weights and the batch order"}, c.seed);
  v(FieldInfo{"threads", "--threads", "threads", "threads for the matrix products", kAtLeastOne}, c.threads);
  v(FieldInfo{"eval_batch_size", nullptr, nullptr, "", kAtLeastOne}, c.eval_batch_size);
  v(FieldInfo{"record_internals"}, c.record_internals);
  v(FieldInfo{"on_nonfinite", "--on-nonfinite", "on_nonfinite",
              "a step whose loss or gradient is not finite: stop (fail, naming the step) or skip it (counted)"},
    c.on_nonfinite);
  v(FieldInfo{"lr_schedule", "--lr-schedule", "lr_schedule",
              "learning rate per epoch: constant, step, cosine or warmup-cosine (docs/metrics.md has the formulas)"},
    c.lr_schedule);
  v(FieldInfo{"lr_step_epochs", "--lr-step-epochs", "lr_step_epochs", "step: multiply the rate by --lr-gamma every N epochs",
              kAtLeastOne, nullptr, "N"},
    c.lr_step_epochs);
  v(FieldInfo{"lr_gamma", "--lr-gamma", "lr_gamma", "step: the factor", kPositive}, c.lr_gamma);
  v(FieldInfo{"lr_min", "--lr-min", "lr_min", "cosine, warmup-cosine: the rate the cosine falls to", kNonNegative}, c.lr_min);
  v(FieldInfo{"lr_warmup_epochs", "--lr-warmup-epochs", "lr_warmup_epochs",
              "warmup-cosine: epochs of linear warm-up before the cosine (fewer than --epochs)", kNonNegative, nullptr, "N"},
    c.lr_warmup_epochs);
  v(FieldInfo{"lr_warmup_start", "--lr-warmup-start", "lr_warmup_start",
              "warmup-cosine: the first epoch's rate as a fraction of --lr (PyTorch LinearLR's start_factor)", kUnitLeftOpen},
    c.lr_warmup_start);
  v(FieldInfo{"early_stop", "--early-stop", "early_stop",
              "stop when --early-stop-metric has not improved for PATIENCE epochs, and score the best epoch's weights "
              "(needs a validation split; off unless given)",
              kNonNegative, nullptr, "PATIENCE"},
    c.early_stop);
  v(FieldInfo{"early_stop_metric", "--early-stop-metric", "early_stop_metric", "early stopping watches val_loss or val_acc"},
    c.early_stop_metric);
  v(FieldInfo{"early_stop_min_delta", "--early-stop-min-delta", "early_stop_min_delta",
              "early stopping: the least change that counts as an improvement", kNonNegative},
    c.early_stop_min_delta);
}

}  // namespace bnlab

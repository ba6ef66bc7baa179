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

// Enum fields by name (UsageError listing the known names otherwise).
inline void parse_field(const std::string& s, OptimizerKind& out) { out = optimizer_from_string(s); }
inline void parse_field(const std::string& s, NonFinitePolicy& out) { out = nonfinite_policy_from_string(s); }

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
}

}  // namespace bnlab

// Checkpoints: a model and its training state in one safetensors file, readable outside bnlab.
//
//   // Save after every epoch (atomically: `<path>.tmp`, fsync, rename, fsync the directory).
//   bnlab::save_checkpoint("run.safetensors", trainer, history, load_options);
//
//   // Resume: the model and the configuration come from the checkpoint.
//   bnlab::Checkpoint ck = bnlab::read_checkpoint("run.safetensors");   // parsed and validated
//   bnlab::data::Splits data = bnlab::data::load(ck.dataset, ck.data.value_or(bnlab::data::LoadOptions{}));
//   bnlab::Trainer t(ck.spec, ck.config, data);
//   bnlab::restore(t, ck);                      // parameters, running statistics, Adam moments, epoch
//   std::vector<bnlab::EpochMetrics> history = ck.history;
//   while (t.epoch() < ck.config.epochs) history.push_back(t.train_epoch());
//
//   // Inference without a Trainer: rebuild the model from the spec, load parameters and state.
//   bnlab::Model model = bnlab::build_model(ck.spec);
//   bnlab::Session s(bnlab::compile(model.graph, model.loss, {.backward = false}));
//   bnlab::load_parameters(s, ck);              // then s.forward(bnlab::Mode::eval)
//   // (train/predictor.hpp wraps this: evaluate a split, class probabilities of rows.)
//
// The file is safetensors (train/safetensors.hpp has the layout; docs/checkpoints.md the details and
// a Python reader) with these "__metadata__" strings:
//   "format": "bnlab-checkpoint", "format_version": "2", "spec": "{…}" (the ModelSpec: input shape,
//   classes, layers, recipe), "train_config": "{…}", "progress": "{…}", "history": "[…]",
//   "dataset": "…", "data": "{…}" (when the writer gave the data options), "preprocessing": "{…}"
//   (the trainer's data's Preparation: divisor, sample shape, standardization statistics),
//   "class_names": "[…]" (what each class id means, when the data said; older files have none)
// Version 1 files (whose "spec" held the MLP family's parameters) still load.
// Tensors: every parameter ("fc1.weight", …), every state tensor ("bn1.running_mean", …) and the
// optimizer's moments ("optimizer.m.<parameter>" for momentum, adam and adamw, "optimizer.v.<parameter>"
// for adam and adamw; sgd has none), in that order.
//
// Guarantees: a load succeeds completely or throws InputError — one line naming the file and what
// did not match — before anything is modified; restore() then continues training exactly where the
// saved run was (same seed and thread count: bit-identical weights and metrics).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "data/registry.hpp"
#include "graph/session.hpp"
#include "models/model.hpp"
#include "train/safetensors.hpp"
#include "train/trainer.hpp"

namespace bnlab {

inline constexpr const char* kCheckpointFormat = "bnlab-checkpoint";
// Version 2 stores the model as a layer list (ModelSpec); version 1 (the MLP family's parameters)
// still loads.
inline constexpr int kCheckpointVersion = 2;

struct Checkpoint {
  std::string path;                        // where it was read from (messages)
  ModelSpec spec;
  TrainConfig config;                      // the optimizer's configuration included
  std::string dataset;                     // the data::load name
  std::optional<data::LoadOptions> data;   // how the data were loaded, if the writer said
  // How the inputs were prepared (metadata "preprocessing"; absent in files from before it): the
  // files' divisor, the sample shape, the standardization statistics actually used.
  std::optional<data::Preparation> preparation;
  // What each class id means (metadata "class_names", [spec.classes]); empty in files from before it.
  std::vector<std::string> class_names;
  int epoch = 0;                           // epochs completed
  int64_t optimizer_steps = 0;
  std::vector<EpochMetrics> history;       // one entry per completed epoch
  // Data-parallel runs (metadata "data_parallel", absent for one process): the workers it was
  // trained by and their batch-norm statistics. Resuming needs the same number of workers.
  int workers = 1;
  BnStats bn_stats = BnStats::sync;
  std::map<std::string, CheckpointTensor> tensors;
  std::map<std::string, std::string> metadata;  // the raw "__metadata__" strings

  // The tensor `name`; InputError naming the file when it is absent.
  const CheckpointTensor& tensor(const std::string& name) const;
};

// Saves the trainer's parameters, state and optimizer moments with its spec, configuration and
// progress. `history` is every epoch's metrics so far (so a resumed run can report the whole run);
// `data` is how the data were loaded (so eval and resume can prepare the same splits).
// requires: history.size() == trainer.epoch() (else UsageError).
void save_checkpoint(const std::string& path, const Trainer& trainer, const std::vector<EpochMetrics>& history,
                     const std::optional<data::LoadOptions>& data = std::nullopt);

// Reads and validates a checkpoint completely: the file format, format and version, every metadata
// field, and the tensors against the stored spec and optimizer (missing, extra, or a shape that
// differs). Throws InputError "<path>: …".
Checkpoint read_checkpoint(const std::string& path);

// Copies the checkpoint into the trainer in place: parameters, running statistics, optimizer moments
// and step count, and the epoch counter. Before copying anything it checks that every tensor exists
// with the trainer's shape ("tensor 'fc1.weight' has shape [20,32] in the checkpoint but [20,64] in
// the model"), that the spec is the same, and that the optimizer, seed, batch size and drop_last
// are the checkpoint's (a resume takes its configuration from the checkpoint; epochs, threads and
// eval_batch_size may differ). On an InputError the trainer is unchanged.
void restore(Trainer& trainer, const Checkpoint& ckpt);

// Copies the parameters and state (running statistics) into a session of the same model, in place;
// optimizer tensors are ignored. All-or-nothing like restore().
void load_parameters(Session& session, const Checkpoint& ckpt);

// The tensors a checkpoint of this model and optimizer holds, in file order: (name, shape).
std::vector<std::pair<std::string, std::vector<int64_t>>> checkpoint_layout(const ModelSpec& spec, OptimizerKind optimizer);

// Where --save-best keeps the best epoch beside `path`: "run.safetensors" → "run.best.safetensors",
// "run" → "run.best".
std::string best_checkpoint_path(const std::string& path);

}  // namespace bnlab

// bnlab eval: a saved model's loss and accuracy on the test (or validation) split, in eval mode
// (batch norm with its running statistics), from the data prepared exactly as at training.
//
//   bnlab eval --checkpoint run.safetensors                         # the checkpoint's dataset and options
//   bnlab eval --checkpoint run.safetensors --split val --json eval.json
//   bnlab eval --checkpoint run.safetensors --dataset mnist --data-dir ~/mnist   # another dataset of the same shape
#include <chrono>
#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "graph/errors.hpp"
#include "lab/metrics_json.hpp"
#include "lab/numbers.hpp"
#include "lab/run_control.hpp"
#include "tools/command.hpp"
#include "tools/signals.hpp"
#include "train/atomic_file.hpp"
#include "train/checkpoint.hpp"
#include "train/model_file.hpp"
#include "train/predictor.hpp"

namespace bnlab::tool {

namespace {

struct EvalFlags {
  std::string checkpoint;
  std::string dataset;
  std::string data_dir;
  std::string split = "test";
  std::string json;
};

using Clock = std::chrono::steady_clock;

void run_eval(const EvalFlags& f) {
  if (f.split != "test" && f.split != "val") throw UsageError("--split " + f.split + ": must be test or val");
  if (!f.json.empty()) check_output_path("--json", f.json);
  const Checkpoint ck = read_checkpoint(f.checkpoint);

  // The checkpoint's data options; --dataset and --data-dir override where given (the stored folder
  // belongs to the stored dataset, so another dataset starts from its own default).
  data::LoadOptions options = checkpoint_load_options(ck);
  std::string dataset = ck.dataset;
  if (!f.dataset.empty() && f.dataset != ck.dataset) {
    dataset = f.dataset;
    options.data_dir.clear();
  }
  if (!f.data_dir.empty()) {
    if (dataset == "synthetic") throw UsageError("--data-dir " + f.data_dir + ": dataset synthetic is generated and reads no files");
    options.data_dir = f.data_dir;
  }
  // The statistics the run standardized with, when the checkpoint has them: bit for bit what it
  // computed from the same data, and the right ones for another dataset too.
  const data::Preparation trained = training_preparation(ck);
  data::LoadOptions unstandardized = options;
  if (trained.standardization) unstandardized.standardize = false;
  const auto start = Clock::now();
  data::Splits data = data::load(dataset, unstandardized);
  data::Dataset& d = f.split == "test" ? data.test : data.val;
  if (d.size() == 0)
    throw InputError(fmt::format("the {} split of {} is empty (the run used --val-fraction {}); nothing to evaluate", f.split,
                                 dataset, options.val_fraction));
  try {
    check_input_shape(ck.spec.input_shape, d);  // before standardizing: statistics of another size do not apply
  } catch (const UsageError& e) {
    throw InputError("--checkpoint " + ck.path + ": " + e.what() + (d.source.empty() ? "" : ", read from " + d.source));
  }
  if (trained.standardization) data::apply_standardization(d, *trained.standardization);

  Predictor predictor(ck);
  EvalMetrics m;
  try {
    m = predictor.evaluate(d);
  } catch (const UsageError& e) {  // more classes in the data than the model has
    throw UsageError("--checkpoint " + ck.path + ": " + e.what());
  } catch (const InputError& e) {  // data scaled otherwise than the training data
    throw InputError(std::string(e.what()) +
                     (dataset == "csv" ? "; bnlab predict --input FILE --pixels 255|1 scores labelled CSV rows" : ""));
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  const std::string name = ck.config.model;
  fmt::print("{} {} (epoch {}) on {}: {} rows, loss {} acc {}\n", name, ck.spec.describe(), ck.epoch, d.name, d.size(),
             fixed(m.loss, 4), fixed(m.acc, 4));
  std::fflush(stdout);
  if (f.json.empty()) return;

  RunRecord run;
  run.name = name;
  run.config = ck.config;
  run.spec = ck.spec;
  run.train_size = data.train.size();
  run.val_size = data.val.size();
  run.test_size = data.test.size();
  run.epochs = ck.history;
  if (f.split == "test") run.test = m;
  run.total_seconds = seconds;
  nlohmann::ordered_json config = data_config(options);
  config["dataset"] = dataset;  // the dataset evaluated on (the training one is the checkpoint's)
  nlohmann::ordered_json doc = metrics_document("eval", {run}, config);
  doc["runs"][0]["eval"] = {{"checkpoint", ck.path},       {"epoch", ck.epoch}, {"dataset", dataset},
                            {"split", f.split},            {"samples", m.samples},
                            {"loss", json_number(m.loss)}, {"acc", json_number(m.acc)}};
  write_file_atomically(f.json, doc.dump(2) + "\n");
}

}  // namespace

void register_eval(CLI::App& app, CommandResult&) {
  CLI::App* cmd = app.add_subcommand("eval", "evaluate a saved model (a checkpoint) on the test or validation split in eval mode");
  auto f = std::make_shared<EvalFlags>();
  cmd->add_option("--checkpoint", f->checkpoint, "the checkpoint to evaluate (written by train --checkpoint)")
      ->type_name("PATH")
      ->required();
  cmd->add_option("--dataset", f->dataset, "evaluate on this dataset instead of the checkpoint's (same features and classes)")
      ->type_name("NAME");
  cmd->add_option("--data-dir", f->data_dir, "folder of the dataset's files (default: the checkpoint's, or the dataset's own)")
      ->type_name("DIR");
  cmd->add_option("--split", f->split, "test or val (prepared as at training: the same seed, split and standardization)")
      ->capture_default_str();
  cmd->add_option("--json", f->json, "write the result as a metrics document (command \"eval\") to PATH")->type_name("PATH");
  cmd->callback([f] { run_eval(*f); });
}

}  // namespace bnlab::tool

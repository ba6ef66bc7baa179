// bnlab eval: a saved model's loss and accuracy on the test, validation or training split, in eval
// mode (batch norm with its running statistics), from the data prepared exactly as at training (the
// same seeded split, limits and standardization), then per class: the confusion matrix (rows the
// true class, columns the predicted one, with the dataset's class names) and each class's accuracy,
// counted in the same pass as the loss and accuracy. All of it is text for people, on stderr like
// every command's (README, "Output streams"); --json is the machine form, --quiet leaves the one
// result line.
//
//   bnlab eval --checkpoint run.safetensors                         # the checkpoint's dataset and options
//   bnlab eval --checkpoint run.safetensors --split val --json eval.json
//   bnlab eval --checkpoint run.safetensors --dataset mnist --data-dir ~/mnist   # another dataset of the same shape
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "graph/errors.hpp"
#include "graph/suggest.hpp"
#include "lab/metrics_json.hpp"
#include "lab/numbers.hpp"
#include "lab/run_control.hpp"
#include "tools/command.hpp"
#include "tools/flag_values.hpp"
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
  int threads = 1;
  bool quiet = false;
};

using Clock = std::chrono::steady_clock;

// Names in the table's first column are cut to this many characters (Fashion-MNIST's longest,
// "T-shirt/top", is 11), so ten classes fit in 100 columns.
constexpr size_t kNameWidth = 14;

// The confusion matrix with each class's rows and accuracy, one line per true class:
//                     0     1 …   rows     acc
//   0 T-shirt/top   850     2 …   1000  0.8500
std::string confusion_table(const ConfusionMatrix& cm, const std::vector<std::string>& names) {
  const int64_t c = cm.classes();
  int64_t largest = 0;
  for (int64_t t = 0; t < c; ++t) largest = std::max(largest, cm.class_rows(t));
  const size_t id_width = std::to_string(c - 1).size();
  const size_t cell = std::max<size_t>(4, std::to_string(largest).size()) + 1;
  size_t name_width = 0;
  for (const std::string& n : names) name_width = std::max(name_width, std::min(n.size(), kNameWidth));
  const auto name_of = [&](int64_t k) {
    const std::string& n = names[static_cast<size_t>(k)];
    return n.size() <= kNameWidth ? n : n.substr(0, kNameWidth - 1) + "~";
  };
  std::string out = "rows: true class; columns: predicted class (arg-max of the logits, a tie to the lowest id)\n";
  std::string head = fmt::format("{:>{}}", "", id_width + 1 + name_width);
  for (int64_t p = 0; p < c; ++p) head += fmt::format("{:>{}}", p, cell);
  out += head + fmt::format("{:>{}} {:>7}\n", "rows", cell + 1, "acc");
  for (int64_t t = 0; t < c; ++t) {
    std::string line = fmt::format("{:>{}} {:<{}}", t, id_width, name_of(t), name_width);
    for (int64_t p = 0; p < c; ++p) line += fmt::format("{:>{}}", cm.count(t, p), cell);
    out += line + fmt::format("{:>{}} {:>7}\n", cm.class_rows(t), cell + 1, fixed(cm.class_accuracy(t), 4));
  }
  return out;
}

// The names for the table and the JSON: the evaluated data's (what its labels mean), else the
// checkpoint's, else the ids.
std::vector<std::string> names_for(const data::Splits& data, const Checkpoint& ck) {
  if (static_cast<int64_t>(data.class_names.size()) == ck.spec.classes) return data.class_names;
  return class_names(ck);
}

data::Dataset& split_of(data::Splits& data, const std::string& split) {
  if (split == "train") return data.train;
  return split == "val" ? data.val : data.test;
}

void run_eval(const EvalFlags& f) {
  if (f.split != "test" && f.split != "val" && f.split != "train")
    throw UsageError("--split " + f.split + ": unknown split" + known_names_hint(f.split, {"test", "val", "train"}));
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
  data::Dataset& d = split_of(data, f.split);
  if (d.size() == 0)
    throw InputError(fmt::format("the {} split of {} is empty (the run used --val-fraction {}); nothing to evaluate", f.split,
                                 dataset, options.val_fraction));
  try {
    check_input_shape(ck.spec.input_shape, d);  // before standardizing: statistics of another size do not apply
  } catch (const UsageError& e) {
    throw InputError("--checkpoint " + ck.path + ": " + e.what() + (d.source.empty() ? "" : ", read from " + d.source));
  }
  if (trained.standardization) data::apply_standardization(d, *trained.standardization);

  Predictor predictor(ck, f.threads);
  EvalMetrics m;
  ConfusionMatrix confusion(ck.spec.classes);
  try {
    m = predictor.evaluate(d, Mode::eval, &confusion);
  } catch (const UsageError& e) {  // more classes in the data than the model has
    throw UsageError("--checkpoint " + ck.path + ": " + e.what());
  } catch (const InputError& e) {  // data scaled otherwise than the training data
    throw InputError(std::string(e.what()) +
                     (dataset == "csv" ? "; bnlab predict --input FILE --pixels 255|1 scores labelled CSV rows" : ""));
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  const std::string name = ck.config.model;
  fmt::print(stderr, "{} {} (epoch {}) on {}: {} rows, loss {} acc {}\n", name, ck.spec.describe(), ck.epoch, d.name, d.size(),
             fixed(m.loss, 4), fixed(m.acc, 4));
  const std::vector<std::string> names = names_for(data, ck);
  if (!f.quiet) fmt::print(stderr, "{}", confusion_table(confusion, names));
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
  nlohmann::ordered_json& ev = doc["runs"][0]["eval"];
  ev["class_names"] = names;
  nlohmann::ordered_json per_class = nlohmann::ordered_json::array(), matrix = nlohmann::ordered_json::array();
  for (int64_t t = 0; t < confusion.classes(); ++t) {
    per_class.push_back({{"class", t},
                         {"name", names[static_cast<size_t>(t)]},
                         {"samples", confusion.class_rows(t)},
                         {"correct", confusion.class_correct(t)},
                         {"acc", json_number(confusion.class_accuracy(t))}});
    nlohmann::ordered_json row = nlohmann::ordered_json::array();
    for (int64_t p = 0; p < confusion.classes(); ++p) row.push_back(confusion.count(t, p));
    matrix.push_back(std::move(row));
  }
  ev["per_class"] = std::move(per_class);
  ev["confusion"] = std::move(matrix);
  write_file_atomically(f.json, doc.dump(2) + "\n");
}

}  // namespace

void register_eval(CLI::App& app, CommandResult&) {
  CLI::App* cmd = app.add_subcommand("eval", "evaluate a saved model (a checkpoint) on the test, validation or training split in "
                                              "eval mode, with per-class accuracy and the confusion matrix");
  auto f = std::make_shared<EvalFlags>();
  cmd->add_option("--checkpoint", f->checkpoint, "the checkpoint to evaluate (written by train --checkpoint)")
      ->type_name("PATH")
      ->required();
  cmd->add_option("--dataset", f->dataset, "evaluate on this dataset instead of the checkpoint's (same features and classes)")
      ->type_name("NAME");
  cmd->add_option("--data-dir", f->data_dir, "folder of the dataset's files (default: the checkpoint's, or the dataset's own)")
      ->type_name("DIR");
  cmd->add_option("--split", f->split, "test, val or train (prepared as at training: the same seed, split and standardization)")
      ->capture_default_str();
  cmd->add_option("--json", f->json, "write the result as a metrics document (command \"eval\") to PATH")->type_name("PATH");
  add_number_option(*cmd, "--threads", f->threads, "threads the forward passes split their work over", kAtLeastOne)
      ->capture_default_str();
  cmd->add_flag("--quiet", f->quiet, "print only the result line, not the confusion matrix (--json still has it)");
  cmd->callback([f] { run_eval(*f); });
}

}  // namespace bnlab::tool

#include "train/checkpoint.hpp"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "data/file_kind.hpp"
#include "graph/compile.hpp"
#include "graph/errors.hpp"
#include "train/serialize.hpp"

namespace bnlab {

namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr const char* kDataOrder = "seed+epoch";

std::string where(const std::string& path) { return path + ": "; }

// "batch", "layer" or "none": the kind of normalization a model uses (for messages).
std::string norm_label(const ModelSpec& spec) {
  if (spec.has(LayerKind::batch_norm)) return "batch";
  if (spec.has(LayerKind::layer_norm)) return "layer";
  return "none";
}

std::vector<int64_t> dims(const Shape& s) {
  std::vector<int64_t> d;
  for (int i = 0; i < s.rank(); ++i) d.push_back(s[i]);
  return d;
}

std::string metadata_field(const SafetensorsFile& f, const std::string& path, const std::string& key) {
  const auto it = f.metadata.find(key);
  if (it == f.metadata.end()) throw InputError(where(path) + "__metadata__ has no \"" + key + "\" field");
  return it->second;
}

// Runs a parser of one metadata field, prefixing its InputError (or a validate() UsageError) with
// the file and the field.
template <class F>
auto parse_field(const std::string& path, const std::string& key, F parse) {
  try {
    return parse();
  } catch (const InputError& e) {
    throw InputError(where(path) + "__metadata__ \"" + key + "\": " + e.what());
  } catch (const UsageError& e) {
    throw InputError(where(path) + "__metadata__ \"" + key + "\": " + e.what());
  }
}

// The first field (depth first, as "optimizer.lr") whose value differs between two JSON objects of
// the same struct: "'activation' is \"tanh\" in the checkpoint but \"relu\" in the model", or "".
std::string first_difference(const json& a, const json& b, const std::string& prefix = "") {
  for (const auto& item : a.items()) {
    const std::string name = prefix + item.key();
    const auto other = b.find(item.key());
    if (other != b.end() && *other == item.value()) continue;
    if (other != b.end() && item.value().is_object() && other->is_object())
      return first_difference(item.value(), *other, name + ".");
    // Arrays of the same length (the layer list): the first element that differs, by index.
    if (other != b.end() && item.value().is_array() && other->is_array() && item.value().size() == other->size())
      for (size_t i = 0; i < other->size(); ++i) {
        const json& x = item.value()[i];
        const json& y = (*other)[i];
        if (x == y) continue;
        const std::string element = name + "[" + std::to_string(i) + "]";
        if (x.is_object() && y.is_object()) return first_difference(x, y, element + ".");
        return "'" + element + "' is " + x.dump() + " in the checkpoint but " + y.dump() + " in the model";
      }
    return "'" + name + "' is " + item.value().dump() + " in the checkpoint but " +
           (other == b.end() ? std::string("absent") : other->dump()) + " in the model";
  }
  return "";
}

// One destination of a load: a tensor of a store in the model.
struct Target {
  std::string name;
  TensorStore<float>* store;
  int index;
};

void add_store(std::vector<Target>& out, TensorStore<float>& store, const std::string& prefix = "") {
  for (int i = 0; i < store.size(); ++i) out.push_back({prefix + store.entries[static_cast<size_t>(i)].name, &store, i});
}

// Checks every target against the checkpoint (present, same shape) and that the checkpoint has no
// tensor outside `targets` (other than those `ignored` says to skip); then copies — in place, since
// sessions hold views into the stores' buffers.
template <class Ignored>
void check_and_copy(const Checkpoint& ckpt, const std::vector<Target>& targets, Ignored ignored,
                    const std::function<void()>& more_checks) {
  std::set<std::string> used;
  for (const Target& t : targets) {
    const StoreEntry& e = t.store->entries[static_cast<size_t>(t.index)];
    const auto it = ckpt.tensors.find(t.name);
    if (it == ckpt.tensors.end())
      throw InputError(where(ckpt.path) + "missing tensor '" + t.name + "' (the model has it with shape " +
                       shape_string(dims(e.shape)) + ")");
    if (it->second.shape != dims(e.shape))
      throw InputError(where(ckpt.path) + "tensor '" + t.name + "' has shape " + shape_string(it->second.shape) +
                       " in the checkpoint but " + shape_string(dims(e.shape)) + " in the model");
    used.insert(t.name);
  }
  for (const auto& [name, tensor] : ckpt.tensors)
    if (!used.count(name) && !ignored(name))
      throw InputError(where(ckpt.path) + "unexpected tensor '" + name + "' " + shape_string(tensor.shape) +
                       ": the model has no tensor of that name");
  if (more_checks) more_checks();
  for (const Target& t : targets) {
    const CheckpointTensor& src = ckpt.tensors.at(t.name);
    const StoreEntry& e = t.store->entries[static_cast<size_t>(t.index)];
    std::copy(src.data.begin(), src.data.end(), t.store->data.begin() + e.offset);
  }
}

bool uses_first_moment(OptimizerKind k) { return k != OptimizerKind::sgd; }
bool uses_second_moment(OptimizerKind k) { return k == OptimizerKind::adam || k == OptimizerKind::adamw; }

}  // namespace

std::string best_checkpoint_path(const std::string& path) {
  const std::filesystem::path p(path);
  if (p.has_extension())
    return (p.parent_path() / (p.stem().string() + ".best" + p.extension().string())).string();
  return path + ".best";
}

// ---- checkpoints ----

const CheckpointTensor& Checkpoint::tensor(const std::string& name) const {
  const auto it = tensors.find(name);
  if (it == tensors.end()) throw InputError(where(path) + "missing tensor '" + name + "'");
  return it->second;
}

std::vector<std::pair<std::string, std::vector<int64_t>>> checkpoint_layout(const ModelSpec& spec, OptimizerKind optimizer) {
  const Model model = build_model(spec);
  const Program p = compile(model.graph, model.loss, {.backward = false});
  std::vector<std::pair<std::string, std::vector<int64_t>>> params, out;
  for (NodeId id : p.parameters) params.emplace_back(p.graph.node(id).name, dims(p.graph.node(id).shape));
  out = params;
  for (const ProgramNode& pn : p.order)
    for (size_t s = 0; s < pn.state_names.size(); ++s) out.emplace_back(pn.state_names[s], dims(pn.state_shapes[s]));
  if (uses_first_moment(optimizer))
    for (const auto& [name, shape] : params) out.emplace_back("optimizer.m." + name, shape);
  if (uses_second_moment(optimizer))
    for (const auto& [name, shape] : params) out.emplace_back("optimizer.v." + name, shape);
  return out;
}

void save_checkpoint(const std::string& path, const Trainer& trainer, const std::vector<EpochMetrics>& history,
                     const std::optional<data::LoadOptions>& data) {
  if (static_cast<int64_t>(history.size()) != trainer.epoch())
    throw UsageError("save_checkpoint: the history holds " + std::to_string(history.size()) + " epochs but the trainer has completed " +
                     std::to_string(trainer.epoch()));
  const TrainConfig& config = trainer.config();
  const Optimizer& opt = trainer.optimizer();
  std::vector<TensorRef> tensors;
  auto add = [&](const TensorStore<float>& store, const std::string& prefix) {
    for (int i = 0; i < store.size(); ++i) {
      const StoreEntry& e = store.entries[static_cast<size_t>(i)];
      tensors.push_back({prefix + e.name, dims(e.shape),
                         std::span<const float>(store.data).subspan(static_cast<size_t>(e.offset), static_cast<size_t>(e.size))});
    }
  };
  add(trainer.session().parameters(), "");
  add(trainer.session().state(), "");
  if (uses_first_moment(config.optimizer.kind)) add(opt.first_moment(), "optimizer.m.");
  if (uses_second_moment(config.optimizer.kind)) add(opt.second_moment(), "optimizer.v.");

  ojson progress;
  progress["epoch"] = trainer.epoch();
  progress["optimizer_steps"] = opt.steps();
  // NOTE: training draws random numbers in two places only, neither of which carries generator state
  // from one epoch to the next: the parameters (Rng(seed), once, at construction) and the batch order
  // (epoch e's permutation from Rng::derived(seed, "batches", e)). So (seed, epoch) is the whole RNG state.
  progress["data_order"] = kDataOrder;
  progress["rng"] = {{"generator", "xoshiro256**"},
                     {"seed", config.seed},
                     {"parameter_init", "Rng(seed)"},
                     {"batch_order", "Rng::derived(seed, \"batches\", epoch)"},
                     {"carried_state", nullptr}};

  std::map<std::string, std::string> meta{
      {"format", kCheckpointFormat},
      {"format_version", std::to_string(kCheckpointVersion)},
      {"spec", to_json(trainer.model().spec)},
      {"train_config", to_json(config)},
      {"progress", progress.dump()},
      {"history", to_json(history)},
      {"dataset", config.dataset},
  };
  if (data) meta["data"] = to_json(*data);
  data::Preparation preparation = trainer.data().preparation;
  if (preparation.sample_shape.empty()) {  // splits made by hand, not by data::prepare_splits
    preparation.divisor = trainer.data().train.divisor;
    preparation.sample_shape = trainer.data().train.sample_shape();
  }
  meta["preprocessing"] = to_json(preparation);
  if (static_cast<int64_t>(trainer.data().class_names.size()) == trainer.model().spec.classes)
    meta["class_names"] = json(trainer.data().class_names).dump();
  if (trainer.parallel().workers() > 1)
    meta["data_parallel"] = json{{"workers", trainer.parallel().workers()}, {"bn_stats", to_string(trainer.parallel().bn_stats)}}.dump();
  write_safetensors(path, tensors, meta);
}

Checkpoint read_checkpoint(const std::string& path) {
  // A file of another kind is named for what it is; one of no known kind may be a damaged
  // checkpoint, which read_safetensors describes byte by byte.
  data::refuse_file_kind(path, {data::FileKind::safetensors, data::FileKind::binary}, "a bnlab checkpoint",
                         "a checkpoint is the .safetensors file a training run saves");
  SafetensorsFile f = read_safetensors(path);
  Checkpoint c;
  c.path = path;

  const auto format = f.metadata.find("format");
  if (format == f.metadata.end())
    throw InputError(where(path) + "not a bnlab checkpoint: __metadata__ has no \"format\" field");
  if (format->second != kCheckpointFormat)
    throw InputError(where(path) + "unknown format '" + format->second + "' (expected '" + kCheckpointFormat + "')");
  const std::string version = metadata_field(f, path, "format_version");
  if (version != "1" && version != std::to_string(kCheckpointVersion))
    throw InputError(where(path) + "checkpoint format version '" + version + "' is not supported (this bnlab reads versions 1 to " +
                     std::to_string(kCheckpointVersion) + ")");

  // Version 1 stored the MLP family's parameters; version 2 the layer list (ModelSpec).
  c.spec = parse_field(path, "spec", [&] {
    const std::string text = metadata_field(f, path, "spec");
    ModelSpec s = version == "1" ? model_spec_from_format1_json(text) : model_spec_from_json(text);
    s.validate();
    return s;
  });
  c.config = parse_field(path, "train_config", [&] {
    TrainConfig t = train_config_from_json(metadata_field(f, path, "train_config"));
    t.validate();
    return t;
  });
  c.history = parse_field(path, "history", [&] { return history_from_json(metadata_field(f, path, "history")); });
  c.dataset = metadata_field(f, path, "dataset");
  if (f.metadata.count("data_parallel"))
    parse_field(path, "data_parallel", [&] {
      const json p = json::parse(f.metadata.at("data_parallel"), nullptr, false);  // not JSON: discarded, refused below
      if (!p.is_object() || !p.contains("workers") || !p["workers"].is_number_integer() || p["workers"].get<int>() < 1 ||
          !p.contains("bn_stats") || !p["bn_stats"].is_string())
        throw InputError("must be {\"workers\": N >= 1, \"bn_stats\": \"sync\" or \"local\"}");
      c.workers = p["workers"].get<int>();
      c.bn_stats = bn_stats_from_string(p["bn_stats"].get<std::string>());
      return 0;
    });
  if (f.metadata.count("data"))
    c.data = parse_field(path, "data", [&] { return load_options_from_json(f.metadata.at("data")); });
  if (f.metadata.count("preprocessing"))
    c.preparation = parse_field(path, "preprocessing", [&] {
      data::Preparation p = preparation_from_json(f.metadata.at("preprocessing"));
      const int64_t inputs = c.spec.input_features();
      // In double: three sizes of up to 2^24 would overflow an int64_t, and any product that large
      // differs from the model's input count anyway.
      double values = 1;
      for (int64_t d : p.sample_shape) values *= static_cast<double>(d);
      if (values != static_cast<double>(inputs))
        throw InputError("sample_shape " + data::shape_text(p.sample_shape) + " holds " + field_text(values) +
                         " values, but the model takes " + std::to_string(inputs) + " inputs");
      if (p.standardization && static_cast<int64_t>(p.standardization->mean.size()) != inputs)
        throw InputError("standardization of " + std::to_string(p.standardization->mean.size()) + " features, but the model takes " +
                         std::to_string(inputs) + " inputs");
      return p;
    });
  if (f.metadata.count("class_names"))
    c.class_names = parse_field(path, "class_names", [&] {
      const json names = json::parse(f.metadata.at("class_names"), nullptr, false);  // not JSON: discarded
      if (!names.is_array() || static_cast<int64_t>(names.size()) != c.spec.classes ||
          !std::all_of(names.begin(), names.end(), [](const json& n) { return n.is_string(); }))
        throw InputError("must be an array of " + std::to_string(c.spec.classes) + " strings (one name per class of the model)");
      return names.get<std::vector<std::string>>();
    });

  parse_field(path, "progress", [&] {
    json p;
    try {
      p = json::parse(metadata_field(f, path, "progress"));
    } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e999
      throw InputError(std::string("not valid JSON (") + e.what() + ")");
    }
    if (!p.is_object()) throw InputError(std::string("expected an object, got ") + p.type_name());
    for (const char* key : {"epoch", "optimizer_steps", "data_order", "rng"})
      if (!p.contains(key)) throw InputError(std::string("missing field '") + key + "'");
    for (const auto& item : p.items())
      if (item.key() != "epoch" && item.key() != "optimizer_steps" && item.key() != "data_order" && item.key() != "rng")
        throw InputError("unknown field '" + item.key() + "'");
    if (!p["epoch"].is_number_unsigned() || p["epoch"].get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int>::max()))
      throw InputError("field 'epoch': expected a non-negative integer, got " + p["epoch"].dump());
    if (!p["optimizer_steps"].is_number_unsigned() ||
        p["optimizer_steps"].get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      throw InputError("field 'optimizer_steps': expected a non-negative integer, got " + p["optimizer_steps"].dump());
    if (p["data_order"] != kDataOrder)
      throw InputError("unknown data order " + p["data_order"].dump() + " (this bnlab knows \"" + kDataOrder + "\")");
    if (!p["rng"].is_object()) throw InputError(std::string("field 'rng': expected an object, got ") + p["rng"].type_name());
    c.epoch = p["epoch"].get<int>();
    c.optimizer_steps = p["optimizer_steps"].get<int64_t>();
    return 0;
  });
  if (static_cast<int64_t>(c.history.size()) != c.epoch)
    throw InputError(where(path) + "progress says " + std::to_string(c.epoch) + " epochs were completed but the history holds " +
                     std::to_string(c.history.size()));
  for (size_t i = 0; i < c.history.size(); ++i)
    if (c.history[i].epoch != static_cast<int>(i) + 1)
      throw InputError(where(path) + "__metadata__ \"history\": entry " + std::to_string(i) + " is epoch " +
                       std::to_string(c.history[i].epoch) + ", expected " + std::to_string(i + 1));

  // The tensors against what the stored spec and optimizer need.
  const auto layout = checkpoint_layout(c.spec, c.config.optimizer.kind);
  const std::string model = c.spec.describe() + " " + norm_label(c.spec) + "-norm model with " + to_string(c.config.optimizer.kind);
  std::set<std::string> expected;
  for (const auto& [name, shape] : layout) {
    expected.insert(name);
    const auto it = f.tensors.find(name);
    if (it == f.tensors.end())
      throw InputError(where(path) + "missing tensor '" + name + "' (a " + model + " has it with shape " + shape_string(shape) + ")");
    if (it->second.shape != shape)
      throw InputError(where(path) + "tensor '" + name + "' has shape " + shape_string(it->second.shape) + " but the checkpoint's " +
                       model + " needs " + shape_string(shape));
  }
  for (const std::string& name : f.order)
    if (!expected.count(name))
      throw InputError(where(path) + "unexpected tensor '" + name + "': a " + model + " has no tensor of that name");

  c.tensors = std::move(f.tensors);
  c.metadata = std::move(f.metadata);
  return c;
}

void restore(Trainer& trainer, const Checkpoint& ckpt) {
  Session& session = trainer.session();
  Optimizer& opt = trainer.optimizer();
  const OptimizerKind kind = trainer.config().optimizer.kind;
  std::vector<Target> targets;
  add_store(targets, session.parameters());
  add_store(targets, session.state());
  if (uses_first_moment(kind)) add_store(targets, opt.first_moment(), "optimizer.m.");
  if (uses_second_moment(kind)) add_store(targets, opt.second_moment(), "optimizer.v.");

  auto config_checks = [&] {
    const std::string spec_diff = first_difference(json::parse(to_json(ckpt.spec)), json::parse(to_json(trainer.model().spec)));
    if (!spec_diff.empty()) throw InputError(where(ckpt.path) + "the model differs: spec field " + spec_diff);
    // A resume takes the optimizer and the data order from the checkpoint.
    const json saved = json::parse(to_json(ckpt.config)), model = json::parse(to_json(trainer.config()));
    json a, b;
    for (const char* key : {"optimizer", "seed", "batch_size", "drop_last", "lr_schedule", "lr_step_epochs", "lr_gamma", "lr_min",
                            "lr_warmup_epochs", "lr_warmup_start"}) {
      a[key] = saved[key];
      b[key] = model[key];
    }
    const std::string diff = first_difference(a, b);
    if (!diff.empty())
      throw InputError(where(ckpt.path) + "the training configuration differs: " + diff +
                       " (a resume continues with the checkpoint's optimizer, seed, batch size, drop_last and learning-rate schedule)");
    // A cosine's rates are spread over the run's epochs: another count would change them mid-run.
    if (depends_on_epochs(ckpt.config.lr_schedule) && ckpt.config.epochs != trainer.config().epochs)
      throw InputError(where(ckpt.path) + "the run's " + to_string(ckpt.config.lr_schedule) + " learning-rate schedule spans its " +
                       std::to_string(ckpt.config.epochs) + " epochs, so it cannot continue to " +
                       std::to_string(trainer.config().epochs) + " (its rates would change); a constant or step schedule can");
  };
  check_and_copy(ckpt, targets, [](const std::string&) { return false; }, config_checks);
  opt.set_steps(ckpt.optimizer_steps);
  trainer.set_epoch(ckpt.epoch);
}

void load_parameters(Session& session, const Checkpoint& ckpt) {
  std::vector<Target> targets;
  add_store(targets, session.parameters());
  add_store(targets, session.state());
  check_and_copy(ckpt, targets, [](const std::string& name) { return name.rfind("optimizer.", 0) == 0; }, {});
}

}  // namespace bnlab

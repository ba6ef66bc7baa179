#include "train/checkpoint.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include <fcntl.h>
#include <unistd.h>

#include "graph/compile.hpp"
#include "graph/errors.hpp"
#include "train/serialize.hpp"

namespace bnlab {

namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr const char* kMetadataKey = "__metadata__";
constexpr const char* kDataOrder = "seed+epoch";
// Largest header we accept (the safetensors reference reader's limit): a longer "length" means a
// file that is not a safetensors file at all.
constexpr uint64_t kMaxHeader = 100'000'000;

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

// ---- little-endian float32 ----

void put_floats_le(std::span<const float> src, char* dst) {
  if (src.empty()) return;  // (memcpy from a null pointer is undefined even for 0 bytes)
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(dst, src.data(), src.size_bytes());
  } else {
    for (size_t i = 0; i < src.size(); ++i) {
      uint32_t u;
      std::memcpy(&u, &src[i], 4);
      for (int b = 0; b < 4; ++b) dst[4 * i + static_cast<size_t>(b)] = static_cast<char>((u >> (8 * b)) & 0xFF);
    }
  }
}

void get_floats_le(const unsigned char* src, std::span<float> dst) {
  if (dst.empty()) return;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(dst.data(), src, dst.size_bytes());
  } else {
    for (size_t i = 0; i < dst.size(); ++i) {
      uint32_t u = 0;
      for (int b = 0; b < 4; ++b) u |= static_cast<uint32_t>(src[4 * i + static_cast<size_t>(b)]) << (8 * b);
      std::memcpy(&dst[i], &u, 4);
    }
  }
}

// ---- atomic write ----

class File {
 public:
  File(const std::string& path, int flags) : path_(path), fd_(::open(path.c_str(), flags | O_CLOEXEC, 0644)) {
    if (fd_ < 0) fail("cannot open");
  }
  ~File() {
    if (fd_ >= 0) ::close(fd_);
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  void write_all(const char* p, size_t n) {
    while (n > 0) {
      const ssize_t w = ::write(fd_, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) fail("cannot write");
      p += w;
      n -= static_cast<size_t>(w);
    }
  }
  void sync() {
    if (::fsync(fd_) != 0) fail("cannot fsync");
  }
  void close() {
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail("cannot close");
  }

 private:
  [[noreturn]] void fail(const char* what) const {
    throw RuntimeError(std::string(what) + " '" + path_ + "': " + std::strerror(errno));
  }
  std::string path_;
  int fd_;
};

void write_atomically(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  try {
    File f(tmp, O_WRONLY | O_CREAT | O_TRUNC);
    f.write_all(bytes.data(), bytes.size());
    f.sync();
    f.close();
    if (::rename(tmp.c_str(), path.c_str()) != 0)
      throw RuntimeError("cannot rename '" + tmp + "' to '" + path + "': " + std::strerror(errno));
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  // Make the rename itself durable. NOTE: best effort — some file systems refuse fsync on a directory.
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    (void)::fsync(fd);
    ::close(fd);
  }
}

// ---- reading helpers ----

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(where(path) + "cannot open: " + std::strerror(errno));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw InputError(where(path) + "read error: " + std::strerror(errno));
  return bytes;
}

uint64_t offset_value(const json& v, const std::string& path, const std::string& tensor) {
  if (!v.is_number_unsigned())
    throw InputError(where(path) + "tensor '" + tensor + "': data_offsets must be two non-negative integers, got " + v.dump());
  return v.get<uint64_t>();
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

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string best_checkpoint_path(const std::string& path) {
  const std::filesystem::path p(path);
  if (p.has_extension())
    return (p.parent_path() / (p.stem().string() + ".best" + p.extension().string())).string();
  return path + ".best";
}

// ---- the format ----

void write_safetensors(const std::string& path, const std::vector<TensorRef>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  ojson header;
  header[kMetadataKey] = metadata;
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const TensorRef& t : tensors) {
    if (t.name == kMetadataKey || t.name.empty()) throw UsageError("write_safetensors: tensor name '" + t.name + "' is reserved");
    if (!names.insert(t.name).second) throw UsageError("write_safetensors: tensor '" + t.name + "' appears twice");
    int64_t n = 1;
    for (int64_t d : t.shape) {
      if (d < 0) throw UsageError("write_safetensors: tensor '" + t.name + "' has a negative dimension");
      n *= d;
    }
    if (static_cast<size_t>(n) != t.data.size())
      throw UsageError("write_safetensors: tensor '" + t.name + "' has " + std::to_string(t.data.size()) +
                       " values but shape " + shape_string(t.shape));
    const uint64_t bytes = 4 * static_cast<uint64_t>(n);
    header[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  // Pad with spaces so the data section starts 8-byte aligned (the format allows trailing whitespace).
  text.append((8 - text.size() % 8) % 8, ' ');

  std::string bytes(8 + text.size() + offset, '\0');
  const uint64_t n = text.size();
  for (int b = 0; b < 8; ++b) bytes[static_cast<size_t>(b)] = static_cast<char>((n >> (8 * b)) & 0xFF);
  std::memcpy(bytes.data() + 8, text.data(), text.size());
  char* data = bytes.data() + 8 + text.size();
  for (const TensorRef& t : tensors) {
    put_floats_le(t.data, data);
    data += t.data.size_bytes();
  }
  write_atomically(path, bytes);
}

SafetensorsFile read_safetensors(const std::string& path) {
  const std::string bytes = read_file(path);
  const uint64_t size = bytes.size();
  if (size < 8)
    throw InputError(where(path) + "truncated: the file has " + std::to_string(size) +
                     " bytes, fewer than the 8-byte header length at byte 0");
  uint64_t n = 0;
  for (int b = 0; b < 8; ++b) n |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[static_cast<size_t>(b)])) << (8 * b);
  if (n < 2 || n > kMaxHeader)
    throw InputError(where(path) + "bad header length " + std::to_string(n) + " at byte 0 (not a safetensors file?)");
  if (n > size - 8)
    throw InputError(where(path) + "truncated: the header length at byte 0 says " + std::to_string(n) +
                     " bytes of header from byte 8, but the file ends at byte " + std::to_string(size));

  json header;
  try {
    header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(n));
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    const auto colon = what.find(": ");
    if (colon != std::string::npos) what = what.substr(colon + 2);
    throw InputError(where(path) + "the header is not valid JSON at byte " + std::to_string(8 + e.byte - 1) + ": " + what);
  } catch (const json::out_of_range& e) {  // a number beyond double's range, e.g. 1e999 (error 406)
    throw InputError(where(path) + "the header is not valid JSON: " + e.what());
  }
  if (!header.is_object()) throw InputError(where(path) + "the header is JSON but not an object (" + header.type_name() + ")");

  SafetensorsFile f;
  const uint64_t data_start = 8 + n;
  const uint64_t data_size = size - data_start;
  struct Span {
    uint64_t begin, end;
    std::string name;
  };
  std::vector<Span> spans;
  for (const auto& item : header.items()) {
    const std::string& name = item.key();
    const json& v = item.value();
    if (name == kMetadataKey) {
      if (!v.is_object()) throw InputError(where(path) + "__metadata__ must be an object of strings, got " + v.type_name());
      for (const auto& m : v.items()) {
        if (!m.value().is_string())
          throw InputError(where(path) + "__metadata__ \"" + m.key() + "\" is a " + m.value().type_name() +
                           "; metadata values must be strings");
        f.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string t = "tensor '" + name + "'";
    if (!v.is_object()) throw InputError(where(path) + t + ": expected an object, got " + v.type_name());
    for (const auto& field : v.items())
      if (field.key() != "dtype" && field.key() != "shape" && field.key() != "data_offsets")
        throw InputError(where(path) + t + ": unknown field '" + field.key() + "'");
    if (!v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets"))
      throw InputError(where(path) + t + ": needs dtype, shape and data_offsets");
    const json& dtype = v["dtype"];
    if (!dtype.is_string()) throw InputError(where(path) + t + ": dtype must be a string");
    if (dtype.get<std::string>() != "F32")
      throw InputError(where(path) + t + " has dtype " + dtype.get<std::string>() + "; bnlab reads F32 tensors only");
    const json& shape = v["shape"];
    if (!shape.is_array()) throw InputError(where(path) + t + ": shape must be an array");
    CheckpointTensor tensor;
    uint64_t elements = 1;
    for (const json& d : shape) {
      if (!d.is_number_unsigned() || d.get<uint64_t>() > (uint64_t{1} << 40))
        throw InputError(where(path) + t + ": shape " + shape.dump() + " must hold non-negative integers");
      tensor.shape.push_back(d.get<int64_t>());
      // Saturate instead of wrapping: the offsets check below reports a shape too large for the data.
      if (__builtin_mul_overflow(elements, d.get<uint64_t>(), &elements)) elements = UINT64_MAX;
    }
    const json& offsets = v["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2)
      throw InputError(where(path) + t + ": data_offsets must be [begin, end], got " + offsets.dump());
    const uint64_t begin = offset_value(offsets[0], path, name), end = offset_value(offsets[1], path, name);
    if (begin > end) throw InputError(where(path) + t + ": data_offsets " + offsets.dump() + " end before they begin");
    if (end > data_size)
      throw InputError(where(path) + t + ": data_offsets " + offsets.dump() + " end at byte " + std::to_string(data_start + end) +
                       " of the file, which has " + std::to_string(size) + " bytes (truncated?)");
    // `elements` stops growing once past the data size, but 4 * elements can still wrap around 2^64
    // when the data section is 4 MiB or more (shape [4194304,1099511627776] with offsets [0,0]).
    const bool huge = elements > UINT64_MAX / 4;
    if (huge || end - begin != 4 * elements)
      throw InputError(where(path) + t + ": data_offsets " + offsets.dump() + " hold " + std::to_string(end - begin) +
                       " bytes but shape " + shape.dump() + " of F32 needs " +
                       (huge ? "more than 2^64" : std::to_string(4 * elements)));
    spans.push_back({begin, end, name});
    tensor.data.resize(static_cast<size_t>(elements));
    get_floats_le(reinterpret_cast<const unsigned char*>(bytes.data()) + data_start + begin, tensor.data);
    f.tensors.emplace(name, std::move(tensor));
  }
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < spans.size(); ++i)
    if (spans[i].begin < spans[i - 1].end)
      throw InputError(where(path) + "tensors '" + spans[i - 1].name + "' and '" + spans[i].name +
                       "' overlap in the data section (bytes " + std::to_string(data_start + spans[i].begin) + "–" +
                       std::to_string(data_start + spans[i - 1].end) + " of the file)");
  for (const Span& s : spans) f.order.push_back(s.name);
  return f;
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
  write_safetensors(path, tensors, meta);
}

Checkpoint read_checkpoint(const std::string& path) {
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
  if (f.metadata.count("data"))
    c.data = parse_field(path, "data", [&] { return load_options_from_json(f.metadata.at("data")); });

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
    for (const char* key : {"optimizer", "seed", "batch_size", "drop_last"}) {
      a[key] = saved[key];
      b[key] = model[key];
    }
    const std::string diff = first_difference(a, b);
    if (!diff.empty())
      throw InputError(where(ckpt.path) + "the training configuration differs: " + diff +
                       " (a resume continues with the checkpoint's optimizer, seed, batch size and drop_last)");
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

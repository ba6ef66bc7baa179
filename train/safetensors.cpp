#include "train/safetensors.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>

#include "graph/errors.hpp"
#include "train/atomic_file.hpp"

namespace bnlab {

namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr const char* kMetadataKey = "__metadata__";
// Largest header we accept (the safetensors reference reader's limit): a longer "length" means a
// file that is not a safetensors file at all.
constexpr uint64_t kMaxHeader = 100'000'000;

std::string where(const std::string& path) { return path + ": "; }

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

}  // namespace

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
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

  // Streamed: the length, the header, then each tensor's data (one tensor in memory at a time).
  AtomicFile out(path);
  const uint64_t n = text.size();
  char length[8];
  for (int b = 0; b < 8; ++b) length[b] = static_cast<char>((n >> (8 * b)) & 0xFF);
  out.write(std::string_view(length, 8));
  out.write(text);
  std::string buffer;
  for (const TensorRef& t : tensors) {
    buffer.resize(t.data.size_bytes());
    put_floats_le(t.data, buffer.data());
    out.write(buffer);
  }
  out.commit();
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

}  // namespace bnlab

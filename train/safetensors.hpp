// The safetensors format alone: named float32 tensors and string metadata in one file, readable by
// any safetensors reader (Python's `safetensors`, or the few lines in docs/checkpoints.md). bnlab's
// checkpoints (train/checkpoint.hpp) are such files with fixed metadata fields and tensor names.
//
//   std::vector<float> w(6, 0.5f);
//   bnlab::write_safetensors("w.safetensors", {{"w", {2, 3}, w}}, {{"note", "example"}});
//   bnlab::SafetensorsFile f = bnlab::read_safetensors("w.safetensors");
//   // f.tensors.at("w").shape == {2, 3}; f.metadata.at("note") == "example"; f.order == {"w"}
//
// The file:
//   8 bytes   N, the header length, little-endian uint64 (a multiple of 8: the header is padded with spaces)
//   N bytes   JSON: {"<tensor>": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, …,
//                    "__metadata__": {"<key>": "<string>", …}}
//   the rest  raw little-endian float32 data; offsets are relative to the start of this section
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace bnlab {

struct CheckpointTensor {
  std::vector<int64_t> shape;  // [] scalar, [n], [r,c], …
  std::vector<float> data;     // row-major; the product of `shape` elements
};

struct SafetensorsFile {
  std::map<std::string, CheckpointTensor> tensors;
  std::map<std::string, std::string> metadata;   // "__metadata__"
  std::vector<std::string> order;                // tensor names by data offset
};

struct TensorRef {
  std::string name;
  std::vector<int64_t> shape;
  std::span<const float> data;  // requires: data.size() == product of shape
};

// Writes `tensors` (in this order) and `metadata` to `path` atomically (train/atomic_file.hpp: to
// "<path>.tmp", streamed one tensor at a time, fsync, rename over `path`, fsync the directory).
// Throws RuntimeError (naming the file and the system's reason) when writing fails, UsageError for a
// duplicate or reserved name or a data size that does not match its shape.
void write_safetensors(const std::string& path, const std::vector<TensorRef>& tensors,
                       const std::map<std::string, std::string>& metadata);

// Reads and checks the format: header length, JSON, dtype F32 only, shapes, offsets inside the data
// section and not overlapping, metadata all strings. Throws InputError "<path>: …" naming the tensor
// and the byte offset where it applies.
SafetensorsFile read_safetensors(const std::string& path);

std::string shape_string(const std::vector<int64_t>& shape);  // "[20,32]"

}  // namespace bnlab

#include "data/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "data/file_kind.hpp"
#include "graph/errors.hpp"
#include "graph/memory.hpp"

namespace bnlab::data {

namespace {

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", v);
  return buf;
}

void check_readable(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) {
    if (ec && ec != std::errc::no_such_file_or_directory) throw InputError(path + ": cannot access: " + ec.message());
    throw InputError(path + ": no such file");
  }
  if (std::filesystem::is_directory(status)) throw InputError(path + ": is a directory, expected a file");
}

// The gzip trailer's ISIZE: the uncompressed size mod 2^32 of the last member. Only a hint for
// reserving the buffer (wrong for multi-member, > 4 GiB or cut-off files), so it is capped at
// deflate's maximum ratio of about 1032:1.
size_t gzip_size_hint(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  const auto size = static_cast<std::streamoff>(in.tellg());
  if (!in || size < 18) return 0;
  std::array<unsigned char, 4> t{};
  in.seekg(size - 4);
  in.read(reinterpret_cast<char*>(t.data()), 4);
  if (!in) return 0;
  const size_t isize = size_t{t[0]} | (size_t{t[1]} << 8) | (size_t{t[2]} << 16) | (size_t{t[3]} << 24);
  return std::min(isize, static_cast<size_t>(size) * 1032);
}

std::vector<uint8_t> read_gzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw InputError(path + ": cannot open: " + std::strerror(errno));
  gzbuffer(f, 1 << 18);
  // Reserving (not resizing) touches no memory, so a bad hint costs nothing, and a right one
  // spares the reallocations that would copy tens of megabytes several times over.
  std::vector<uint8_t> out;
  out.reserve(gzip_size_hint(path));
  std::vector<uint8_t> chunk(size_t{1} << 18);
  size_t checked_up_to = size_t{1} << 20;  // the size up to which the memory left was checked
  for (;;) {
    const int n = gzread(f, chunk.data(), static_cast<unsigned>(chunk.size()));
    int errnum = Z_OK;
    const char* msg = gzerror(f, &errnum);
    // zlib reports a cut-off stream as Z_BUF_ERROR ("unexpected end of file") while still
    // returning the bytes it got, so the error is checked even when n > 0.
    if (n < 0 || (errnum != Z_OK && errnum != Z_STREAM_END)) {
      const std::string what = msg ? msg : "unknown error";
      gzclose(f);
      throw InputError(path + ": corrupt or truncated gzip data after decompressed byte offset " +
                       std::to_string(out.size() + static_cast<size_t>(std::max(n, 0))) + ": " + what);
    }
    if (n == 0) break;
    // The data is kept as it arrives (the header's claims are checked against it afterwards); a
    // stream that inflates beyond the memory left is refused before the vector grows into it.
    const size_t grown = out.size() + static_cast<size_t>(n);
    if (grown > checked_up_to) {
      // Until the next look the data may double: that much more memory must be there.
      try {
        check_memory(static_cast<double>(grown), [&] {
          return path + ": the gzip data decompresses to more than " + format_bytes(static_cast<double>(grown)) + " and growing";
        }, "the file is corrupt, or too large for this machine");
      } catch (...) {
        gzclose(f);
        throw;
      }
      checked_up_to = 2 * grown;
    }
    out.insert(out.end(), chunk.begin(), chunk.begin() + n);
  }
  gzclose(f);
  return out;
}

uint32_t be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// A lookup instead of a division per pixel; the entries are exactly v / 255.0f.
const std::array<float, 256>& byte_scale() {
  static const std::array<float, 256> table = [] {
    std::array<float, 256> t{};
    for (int v = 0; v < 256; ++v) t[static_cast<size_t>(v)] = static_cast<float>(v) / 255.0f;
    return t;
  }();
  return table;
}

}  // namespace

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  check_readable(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open: " + std::strerror(errno));
  // Peek at the magic so a gzip file is read once, by zlib, rather than once raw and once again.
  std::array<char, 2> magic{};
  in.read(magic.data(), 2);
  if (in.gcount() == 2 && static_cast<uint8_t>(magic[0]) == 0x1f && static_cast<uint8_t>(magic[1]) == 0x8b)
    return read_gzip(path);
  in.clear();
  in.seekg(0, std::ios::end);
  const auto end = static_cast<std::streamoff>(in.tellg());
  in.seekg(0);
  std::vector<uint8_t> bytes(static_cast<size_t>(end > 0 ? end : 0));
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (in.gcount() != static_cast<std::streamsize>(bytes.size()))
    throw InputError(path + ": read error at byte offset " + std::to_string(in.gcount()));
  return bytes;
}

IdxArray read_idx(const std::string& path) {
  std::vector<uint8_t> bytes = read_file_bytes(path);
  const auto size = static_cast<int64_t>(bytes.size());
  if (size < 4)
    throw InputError(path + ": truncated IDX header: file ends at byte offset " + std::to_string(size) +
                     ", the magic number needs 4 bytes");
  const uint32_t magic = be32(bytes.data());
  const int rank = bytes[3];
  if (bytes[0] != 0 || bytes[1] != 0) {
    const FileKind kind = sniff_bytes(bytes);
    throw InputError(path + ": not an IDX file" + (kind == FileKind::binary ? "" : " (it looks like " + describe(kind) + ")") +
                     ": magic number " + hex32(magic) +
                     " at byte offset 0, expected 0x000008NN (e.g. 0x00000803 images, 0x00000801 labels)");
  }
  if (bytes[2] != 0x08)
    throw InputError(path + ": unsupported IDX element type in magic number " + hex32(magic) +
                     " at byte offset 0: only unsigned byte (0x08) is supported");
  if (rank == 0)
    throw InputError(path + ": IDX rank 0 in magic number " + hex32(magic) +
                     " at byte offset 0: need rank >= 1 (items first)");

  IdxArray out;
  out.header_bytes = 4 + 4 * int64_t{rank};
  if (size < out.header_bytes)
    throw InputError(path + ": truncated IDX header: file ends at byte offset " + std::to_string(size) +
                     ", the header of rank " + std::to_string(rank) + " needs " +
                     std::to_string(out.header_bytes) + " bytes");
  int64_t count = 1;
  // The product of the non-zero dimensions: bounded too, so that a caller multiplying some of the
  // dimensions (features per item of an empty [0, 2^32-1, 2^32-1] file) cannot overflow either.
  int64_t nonzero = 1;
  std::string dims_text;
  for (int d = 0; d < rank; ++d) {
    const int64_t dim = be32(bytes.data() + 4 + 4 * d);
    out.dims.push_back(dim);
    if (d > 0) dims_text += 'x';
    dims_text += std::to_string(dim);
    // A corrupt header can claim more than fits in memory; the size check below catches it as
    // long as the product itself does not overflow.
    if (dim != 0 && nonzero > std::numeric_limits<int64_t>::max() / 4 / dim)
      throw InputError(path + ": implausible IDX dimensions " + dims_text + " in the header");
    if (dim != 0) nonzero *= dim;
    count *= dim;
  }
  const int64_t expected = out.header_bytes + count;
  if (size < expected)
    throw InputError(path + ": truncated: data ends at byte offset " + std::to_string(size) +
                     ", expected " + std::to_string(expected) + " bytes (header " +
                     std::to_string(out.header_bytes) + " + " + dims_text + ")");
  if (size > expected)
    throw InputError(path + ": " + std::to_string(size - expected) +
                     " unexpected bytes after the data, starting at byte offset " +
                     std::to_string(expected) + " (header says " + dims_text + ")");
  bytes.erase(bytes.begin(), bytes.begin() + out.header_bytes);
  out.values = std::move(bytes);
  return out;
}

Dataset read_idx_dataset(const std::string& images_path, const std::string& labels_path,
                         int32_t num_classes, std::string name) {
  const IdxArray images = read_idx(images_path);
  const IdxArray labels = read_idx(labels_path);
  if (labels.dims.size() != 1)
    throw InputError(labels_path + ": a labels file must have rank 1 (magic 0x00000801), found rank " +
                     std::to_string(labels.dims.size()) + " at byte offset 3");
  const int64_t rows = images.dims[0];
  if (labels.dims[0] != rows)
    throw InputError(images_path + " has " + std::to_string(rows) + " images but " + labels_path + " has " +
                     std::to_string(labels.dims[0]) + " labels");

  Dataset out;
  out.name = std::move(name);
  out.source = images_path;
  out.divisor = 255;
  out.num_classes = num_classes;
  out.feature_count = 1;
  for (size_t d = 1; d < images.dims.size(); ++d) out.feature_count *= images.dims[d];
  // [N,H,W] images are one channel: [H,W,1]; [N,H,W,C] keep their channels; [N,F] stay flat.
  out.shape.assign(images.dims.begin() + 1, images.dims.end());
  if (out.shape.size() == 2) out.shape.push_back(1);
  if (out.shape.size() > 3) out.shape.clear();  // rank 5 and more: flat

  out.labels.resize(static_cast<size_t>(rows));
  for (int64_t i = 0; i < rows; ++i) {
    const uint8_t label = labels.values[static_cast<size_t>(i)];
    if (label >= num_classes)
      throw InputError(labels_path + ": label " + std::to_string(label) + " at byte offset " +
                       std::to_string(labels.header_bytes + i) + " is not below the class count " +
                       std::to_string(num_classes));
    out.labels[static_cast<size_t>(i)] = label;
  }
  const auto& scale = byte_scale();
  check_memory(static_cast<double>(images.values.size()) * sizeof(float), [&] {
    return images_path + ": " + std::to_string(rows) + " images of " + std::to_string(out.feature_count) + " values need " +
           format_bytes(static_cast<double>(images.values.size()) * sizeof(float)) + " as floats";
  }, "use a smaller dataset");
  out.features.resize(images.values.size());
  for (size_t k = 0; k < images.values.size(); ++k) out.features[k] = scale[images.values[k]];
  return out;
}

}  // namespace bnlab::data

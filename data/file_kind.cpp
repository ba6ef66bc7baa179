#include "data/file_kind.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <fstream>

#include "graph/errors.hpp"

namespace bnlab::data {

namespace {

// The largest header length taken for a safetensors file's: train/safetensors.cpp refuses more.
constexpr uint64_t kMaxSafetensorsHeader = 100'000'000;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Printable ASCII, tab, line ends, and bytes of UTF-8 sequences (not checked further: the first
// bytes may cut a sequence in two). A NUL or another control character is binary.
bool looks_like_text(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c >= 0x20 ? c != 0x7F : (c == '\t' || c == '\n' || c == '\r' || c == '\f');
  });
}

}  // namespace

FileKind sniff_bytes(std::string_view head) {
  head = head.substr(0, kSniffBytes);
  if (head.empty()) return FileKind::empty;
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(head[i]); };
  if (head.size() >= 9 && head[8] == '{') {
    uint64_t n = 0;
    for (size_t b = 0; b < 8; ++b) n |= uint64_t{byte(b)} << (8 * b);
    if (n >= 2 && n <= kMaxSafetensorsHeader) return FileKind::safetensors;
  }
  if (head.size() >= 2 && byte(0) == 0x1F && byte(1) == 0x8B) return FileKind::gzip;
  if (starts_with(head, "\x89PNG\r\n\x1A\n")) return FileKind::png;
  if (starts_with(head, std::string_view("PK\x03\x04", 4))) return FileKind::zip;
  if (starts_with(head, "\x93NUMPY")) return FileKind::npy;
  if (head.size() >= 4 && byte(0) == 0 && byte(1) == 0 && byte(3) >= 1) {
    const unsigned char type = byte(2);
    if (type == 0x08 || type == 0x09 || type == 0x0B || type == 0x0C || type == 0x0D || type == 0x0E) return FileKind::idx;
  }
  if (head.size() >= 3 && head[0] == 'P' && is_space(head[2])) {
    if (head[1] == '2' || head[1] == '5') return FileKind::pgm;
    if (head[1] == '3' || head[1] == '6') return FileKind::ppm;
  }
  if (!looks_like_text(head)) return FileKind::binary;
  std::string_view text = head;
  if (starts_with(text, "\xEF\xBB\xBF")) text.remove_prefix(3);
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return FileKind::text;
  if (text[first] == '{' || text[first] == '[') return FileKind::json;
  const std::string_view first_line = text.substr(0, text.find('\n'));
  return first_line.find(',') != std::string_view::npos ? FileKind::csv : FileKind::text;
}

FileKind sniff_bytes(std::span<const uint8_t> head) {
  return sniff_bytes(std::string_view(reinterpret_cast<const char*>(head.data()), head.size()));
}

std::optional<FileSniff> sniff_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::array<char, kSniffBytes> head{};
  in.read(head.data(), head.size());
  if (in.bad()) return std::nullopt;
  const std::string_view bytes(head.data(), static_cast<size_t>(in.gcount()));
  FileSniff s{sniff_bytes(bytes), false};
  if (s.kind != FileKind::gzip) return s;
  // What the stream holds; a stream that does not decompress stays "gzip-compressed data".
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) return s;
  std::array<char, kSniffBytes> inner{};
  const int n = gzread(f, inner.data(), static_cast<unsigned>(inner.size()));
  gzclose(f);
  if (n > 0) s = {sniff_bytes(std::string_view(inner.data(), static_cast<size_t>(n))), true};
  return s;
}

std::string describe(FileKind kind) {
  switch (kind) {
    case FileKind::empty: return "an empty file";
    case FileKind::safetensors: return "a safetensors checkpoint";
    case FileKind::json: return "a JSON document";
    case FileKind::idx: return "an IDX file";
    case FileKind::gzip: return "gzip-compressed data";
    case FileKind::png: return "a PNG image";
    case FileKind::pgm: return "a PGM image";
    case FileKind::ppm: return "a PPM image";
    case FileKind::zip: return "a zip archive";
    case FileKind::npy: return "a NumPy array file";
    case FileKind::csv: return "a CSV file";
    case FileKind::text: return "a text file";
    case FileKind::binary: return "binary data of no known kind";
  }
  return "?";
}

std::string describe(const FileSniff& s) {
  if (!s.gzipped) return describe(s.kind);
  // "a JSON document" → "a gzip-compressed JSON document"; "an IDX file" → "a gzip-compressed IDX file"
  std::string what = describe(s.kind);
  if (s.kind == FileKind::empty) return "a gzip file that decompresses to nothing";
  if (s.kind == FileKind::binary) return "gzip-compressed binary data of no known kind";
  what = what.substr(what.find(' ') + 1);
  return "a gzip-compressed " + what;
}

std::string not_a_message(const std::string& path, const FileSniff& sniff, const std::string& wanted, const std::string& hint) {
  return path + " is not " + wanted + " (it looks like " + describe(sniff) + ")" + (hint.empty() ? "" : "; " + hint);
}

void refuse_file_kind(const std::string& path, std::initializer_list<FileKind> accepted, const std::string& wanted,
                      const std::string& hint) {
  const std::optional<FileSniff> sniff = sniff_file(path);
  const auto accepts = [&](FileKind k) { return std::find(accepted.begin(), accepted.end(), k) != accepted.end(); };
  // A gzip file is read only by a reader that decompresses, and only when what it holds is readable.
  if (!sniff || (accepts(sniff->kind) && (!sniff->gzipped || accepts(FileKind::gzip)))) return;
  throw InputError(not_a_message(path, *sniff, wanted, hint));
}

}  // namespace bnlab::data

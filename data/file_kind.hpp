// What a file is, by its first bytes, so that a wrong file is named for what it is ("run.json is not
// a bnlab checkpoint (it looks like a JSON document)") instead of failing deep inside a parser with
// a message about a byte. The signatures:
//
//   safetensors  an 8-byte little-endian header length (≤ 100 MB, so its top bytes are zero), then '{'
//   JSON         '{' or '[' after optional whitespace (and a UTF-8 byte-order mark)
//   IDX          00 00, an element type (08 09 0B 0C 0D 0E), a rank ≥ 1
//   gzip         1F 8B; the kind of what it decompresses to is looked at too ("a gzip-compressed IDX file")
//   PNG          89 50 4E 47 0D 0A 1A 0A
//   PGM / PPM    'P' then '2', '5' (PGM) or '3', '6' (PPM), then whitespace
//   zip          50 4B 03 04 (also a PyTorch .pt file or a NumPy .npz)
//   NumPy        93 'NUMPY' (.npy)
//   CSV / text   printable text (UTF-8 allowed); CSV when its first line holds a comma
//   binary       anything else (a CIFAR-10 batch has no signature)
//
//   data::FileSniff s = data::sniff_file("run.json");     // {FileKind::json, gzipped = false}
//   data::describe(s);                                    // "a JSON document"
//   data::refuse_file_kind("run.json", {FileKind::safetensors, FileKind::binary}, "a bnlab checkpoint");
//     // InputError "run.json is not a bnlab checkpoint (it looks like a JSON document)"
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace bnlab::data {

enum class FileKind { empty, safetensors, json, idx, gzip, png, pgm, ppm, zip, npy, csv, text, binary };

// How many leading bytes the signatures need (a text check looks at this many).
inline constexpr size_t kSniffBytes = 512;

struct FileSniff {
  FileKind kind = FileKind::binary;
  bool gzipped = false;  // `kind` is what the gzip stream decompresses to (gzip: it did not decompress)
};

// The kind of the data that starts with `head` (at most kSniffBytes of it are looked at).
FileKind sniff_bytes(std::string_view head);
FileKind sniff_bytes(std::span<const uint8_t> head);

// The kind of the file at `path`, a gzip file by what it holds; nullopt when it cannot be opened
// (the reader that follows says why, in its own words).
std::optional<FileSniff> sniff_file(const std::string& path);

// "a JSON document", "a safetensors checkpoint", "a gzip-compressed IDX file", "an empty file", …
std::string describe(FileKind kind);
std::string describe(const FileSniff& sniff);

// Throws InputError "PATH is not WANTED (it looks like KIND)[; HINT]" unless the file's kind is one
// of `accepted` or the file cannot be opened (left to the reader). A gzip file passes when `gzip` and
// the kind it decompresses to are both accepted (the data readers decompress). Put `binary` among the accepted
// kinds when a damaged file of the wanted kind may look like no kind at all, so the reader can say
// which byte is wrong.
void refuse_file_kind(const std::string& path, std::initializer_list<FileKind> accepted, const std::string& wanted,
                      const std::string& hint = "");

// The message refuse_file_kind throws, for data already in memory (predict's --input, read whole).
std::string not_a_message(const std::string& path, const FileSniff& sniff, const std::string& wanted, const std::string& hint = "");

}  // namespace bnlab::data

// data/file_kind.hpp: each signature from bytes written out by hand, a gzip file by what it holds,
// and the one-line refusal the readers throw.
#include <doctest/doctest.h>

#include <string>

#include "data/file_kind.hpp"
#include "data_test_support.hpp"
#include "graph/errors.hpp"

using namespace bnlab;
using namespace bnlab::test;
using data::FileKind;
using data::sniff_bytes;

namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s += static_cast<char>(c);
  return s;
}

}  // namespace

TEST_CASE("signatures") {
  CHECK(sniff_bytes(std::string_view()) == FileKind::empty);
  // safetensors: header length 16, little-endian, then the header's '{'
  CHECK(sniff_bytes(bytes({16, 0, 0, 0, 0, 0, 0, 0}) + "{\"a\":{}}        ") == FileKind::safetensors);
  // a length beyond 100 MB is no safetensors header ("{" at byte 8 of a JSON file is then JSON's)
  CHECK(sniff_bytes("{\"runs\": {\"a\":1}}") == FileKind::json);
  CHECK(sniff_bytes("  \n[1, 2]") == FileKind::json);
  CHECK(sniff_bytes("\xEF\xBB\xBF{}") == FileKind::json);
  CHECK(sniff_bytes(bytes({0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 4})) == FileKind::idx);
  CHECK(sniff_bytes(bytes({0, 0, 8, 1, 0, 0, 0, 5})) == FileKind::idx);
  CHECK(sniff_bytes(bytes({0, 0, 8, 0})) == FileKind::binary);  // rank 0
  CHECK(sniff_bytes(bytes({0, 0, 7, 1})) == FileKind::binary);  // no such element type
  CHECK(sniff_bytes(bytes({0x1F, 0x8B, 8, 0})) == FileKind::gzip);
  CHECK(sniff_bytes(bytes({0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 13})) == FileKind::png);
  CHECK(sniff_bytes("P5\n4 4\n255\n") == FileKind::pgm);
  CHECK(sniff_bytes("P2 4 4 255") == FileKind::pgm);
  CHECK(sniff_bytes("P6\n4 4\n255\n") == FileKind::ppm);
  CHECK(sniff_bytes("P5x") == FileKind::text);
  CHECK(sniff_bytes(bytes({'P', 'K', 3, 4, 20, 0})) == FileKind::zip);
  CHECK(sniff_bytes(bytes({0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0})) == FileKind::npy);
  CHECK(sniff_bytes("label,x1,x2\n1,0.5,2\n") == FileKind::csv);
  CHECK(sniff_bytes("1,0.5,2\r\n") == FileKind::csv);
  CHECK(sniff_bytes("hello, this is not a checkpoint") == FileKind::csv);  // a comma on its first line
  CHECK(sniff_bytes("just words\nand more, later") == FileKind::text);
  CHECK(sniff_bytes("caf\xC3\xA9\n") == FileKind::text);  // UTF-8 is text
  CHECK(sniff_bytes(bytes({3, 200, 17, 0, 5})) == FileKind::binary);  // a CIFAR-10 record: no signature
  // Only the first kSniffBytes count: a NUL after them leaves text text.
  CHECK(sniff_bytes(std::string(data::kSniffBytes, 'a') + '\0') == FileKind::text);
}

TEST_CASE("descriptions, and a gzip file by what it decompresses to") {
  CHECK(data::describe(FileKind::safetensors) == "a safetensors checkpoint");
  CHECK(data::describe(FileKind::idx) == "an IDX file");
  CHECK(data::describe({FileKind::json, true}) == "a gzip-compressed JSON document");
  CHECK(data::describe({FileKind::idx, true}) == "a gzip-compressed IDX file");
  CHECK(data::describe({FileKind::gzip, false}) == "gzip-compressed data");

  TempDir dir;
  const std::string gz = dir / "m.json.gz";
  const std::string doc = "{\"runs\": []}";
  write_gzip(gz, Bytes(doc.begin(), doc.end()));
  const auto s = data::sniff_file(gz);
  REQUIRE(s.has_value());
  CHECK(s->kind == FileKind::json);
  CHECK(s->gzipped);
  CHECK(!data::sniff_file(dir / "missing").has_value());
  const std::string broken = dir / "broken.gz";
  write_bytes(broken, {0x1F, 0x8B, 0xFF, 0xFF});
  CHECK(data::sniff_file(broken)->kind == FileKind::gzip);
}

TEST_CASE("refuse_file_kind: one line naming the file and what it looks like; accepted kinds and unreadable files pass") {
  TempDir dir;
  const std::string json = dir / "run.json";
  write_text(json, "{\"runs\": []}\n");
  std::string message;
  try {
    data::refuse_file_kind(json, {FileKind::safetensors, FileKind::binary}, "a bnlab checkpoint", "give the .safetensors file");
  } catch (const InputError& e) {
    message = e.what();
  }
  CHECK(message == json + " is not a bnlab checkpoint (it looks like a JSON document); give the .safetensors file");
  CHECK_NOTHROW(data::refuse_file_kind(json, {FileKind::json}, "a metrics document"));
  CHECK_NOTHROW(data::refuse_file_kind(dir / "missing.json", {FileKind::safetensors}, "a bnlab checkpoint"));
  // A gzip file passes only a reader that decompresses (gzip accepted) and reads what it holds.
  const std::string gz = dir / "rows.csv.gz";
  const std::string rows = "1,2,3\n";
  write_gzip(gz, Bytes(rows.begin(), rows.end()));
  CHECK_NOTHROW(data::refuse_file_kind(gz, {FileKind::csv, FileKind::gzip}, "a CSV file"));
  CHECK_THROWS_WITH_AS(data::refuse_file_kind(gz, {FileKind::csv}, "a CSV file"),
                       (gz + " is not a CSV file (it looks like a gzip-compressed CSV file)").c_str(), InputError);
  CHECK(data::not_a_message("x.png", {FileKind::png}, "CSV rows") == "x.png is not CSV rows (it looks like a PNG image)");
}

// CSV reading: header detection, number formats, pixel scaling, and errors naming line and column.
#include <doctest/doctest.h>

#include "data/csv.hpp"
#include "data/registry.hpp"
#include "data_test_support.hpp"
#include "graph/errors.hpp"

using namespace bnlab;
using namespace bnlab::test;
using data::read_csv;

TEST_CASE("header skipped, spaces, CRLF, blank lines, signs and exponents accepted") {
  TempDir dir;
  write_text(dir / "a.csv", "label, x1 ,x2\r\n1,0.5,-2\r\n\r\n 0 , +3e-1,4\n2,.25,1E2");
  const data::Dataset d = read_csv(dir / "a.csv", {}, "csv/train");
  REQUIRE(d.size() == 3);
  CHECK(d.feature_count == 2);
  CHECK(d.num_classes == 3);
  CHECK(d.name == "csv/train");
  CHECK(d.labels == std::vector<int32_t>{1, 0, 2});
  CHECK(d.features == std::vector<float>{0.5f, -2.0f, 0.3f, 4.0f, 0.25f, 100.0f});
}

TEST_CASE("without a header the first line is data; labels written as 3.0 are accepted") {
  TempDir dir;
  write_text(dir / "a.csv", "3.0,1,2,3\n0,4,5,6\n");
  const auto d = read_csv(dir / "a.csv", {}, "x");
  CHECK(d.size() == 2);
  CHECK(d.feature_count == 3);
  CHECK(d.labels == std::vector<int32_t>{3, 0});
  CHECK(d.num_classes == 4);
  CHECK(d.row(1)[2] == 6.0f);
}

TEST_CASE("features are used as given unless the pixels flag divides by 255") {
  TempDir dir;
  write_text(dir / "p.csv", "0,255,51,0\n");
  CHECK(read_csv(dir / "p.csv", {}, "x").features == std::vector<float>{255.0f, 51.0f, 0.0f});
  CHECK(read_csv(dir / "p.csv", {.pixels = true}, "x").features == std::vector<float>{1.0f, 0.2f, 0.0f});
}

TEST_CASE("a gzipped CSV is read too; an empty file or a lone header is an empty dataset") {
  TempDir dir;
  const std::string text = "y,a\n1,2\n";
  write_gzip(dir / "a.csv.gz", Bytes(text.begin(), text.end()));
  CHECK(read_csv(dir / "a.csv.gz", {}, "x").labels == std::vector<int32_t>{1});
  write_text(dir / "empty.csv", "");
  CHECK(read_csv(dir / "empty.csv", {}, "x").size() == 0);
  write_text(dir / "header.csv", "label,a,b\n");
  const auto h = read_csv(dir / "header.csv", {}, "x");
  CHECK(h.size() == 0);
  CHECK(h.feature_count == 2);
}

TEST_CASE("a wrong number of fields names file, line and the expected count") {
  TempDir dir;
  const std::string path = dir / "a.csv";
  write_text(path, "label,a,b\n1,2,3\n\n0,1\n");
  check_mentions(message_of<InputError>([&] { read_csv(path, {}, "x"); }),
                 {path, "line 4", "2 fields", "expected 3", "line 1"});
  write_text(path, "7\n");
  check_mentions(message_of<InputError>([&] { read_csv(path, {}, "x"); }), {path, "line 1", "one field"});
}

TEST_CASE("a non-number names file, line, column and the text") {
  TempDir dir;
  const std::string path = dir / "a.csv";
  write_text(path, "1,2,3\n0,4,abc\n");
  check_mentions(message_of<InputError>([&] { read_csv(path, {}, "x"); }),
                 {path, "line 2", "column 3", "'abc'", "not a finite number"});
  write_text(path, "1,2,3\n0,,3\n");
  check_mentions(message_of<InputError>([&] { read_csv(path, {}, "x"); }), {"line 2", "column 2", "''"});
  write_text(path, "1,2,3\n0,nan,3\n");
  check_mentions(message_of<InputError>([&] { read_csv(path, {}, "x"); }), {"line 2", "column 2", "'nan'"});
  write_text(path, "1,2,3\n0,1,-inf\n");
  check_mentions(message_of<InputError>([&] { read_csv(path, {}, "x"); }), {"line 2", "column 3", "'-inf'"});
  write_text(path, "1,2,3\n\"0\",1,2\n");
  check_mentions(message_of<InputError>([&] { read_csv(path, {}, "x"); }), {"line 2", "column 1", "label"});
}

TEST_CASE("labels must be non-negative integers") {
  TempDir dir;
  const std::string path = dir / "a.csv";
  write_text(path, "1,2\n-1,3\n");
  check_mentions(message_of<InputError>([&] { read_csv(path, {}, "x"); }), {path, "line 2", "column 1", "'-1'"});
  write_text(path, "1,2\n1.5,3\n");
  check_mentions(message_of<InputError>([&] { read_csv(path, {}, "x"); }), {"line 2", "column 1", "'1.5'"});
}

TEST_CASE("the registry's csv dataset: train.csv + test.csv, shared class count, errors") {
  TempDir dir;
  write_text(dir / "train.csv", "y,a,b\n0,1,2\n1,3,4\n0,5,6\n1,7,8\n0,9,10\n");
  write_text(dir / "test.csv", "2,1,1\n");
  const auto s = data::load("csv", {.data_dir = dir.path().string(), .val_fraction = 0.2});
  CHECK(s.train.size() == 4);
  CHECK(s.val.size() == 1);
  CHECK(s.test.size() == 1);
  CHECK(s.train.num_classes == 3);  // the test set has label 2
  CHECK(s.val.num_classes == 3);
  CHECK(s.test.num_classes == 3);

  write_text(dir / "test.csv", "1,1,1,1\n");
  check_mentions(message_of<InputError>([&] { data::load("csv", {.data_dir = dir.path().string()}); }),
                 {dir / "test.csv", ": 4 fields per row (label and 3 features)", "but " + dir / "train.csv" + " has 3 (label and 2)"});

  write_text(dir / "train.csv", "y,a,b\n");
  check_mentions(message_of<InputError>([&] { data::load("csv", {.data_dir = dir.path().string()}); }),
                 {"csv", "training set has no rows"});
}

// Regression tests for what the fuzz targets of tests/fuzz found (tests/fuzz/README.md lists them;
// each input is kept as corpus/<target>/found-*): the command a user runs on such a file exits with
// status 2 and one line naming the file, and writes nothing.
#include <doctest/doctest.h>

#include <string>

#include "cli_test_support.hpp"

using namespace bnlab::test;

TEST_CASE("bnlab report: a metrics document with a field of another type than bnlab writes (fuzz_run_store)") {
  TempDir dir;
  // found-report-command-number.json, and the same for a few other fields the report reads.
  for (const std::string& doc : {std::string(R"({"command": 5, "runs": []})"), std::string(R"({"command": "sweep", "version": 3, "runs": []})"),
                                 std::string(R"({"command": "sweep", "sweep": [1], "runs": []})"),
                                 std::string(R"({"command": "study", "study": {"items": [{"id": "one"}]}, "runs": []})")}) {
    CAPTURE(doc);
    write_text(dir / "metrics.json", doc);
    const Run r = run_bnlab("report " + (dir / "metrics.json") + " --out " + (dir / "out"), dir);
    check_error(r, 2, {dir / "metrics.json", ": not a bnlab metrics document: a field has another type than bnlab writes",
                       "[json.exception.type_error."});
    CHECK(!fs::exists(dir / "out/report.md"));
    CHECK(leftover_tmp_files(dir.path()).empty());
  }
}

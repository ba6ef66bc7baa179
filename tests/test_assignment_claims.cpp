// The assignment's claims table (lab/assignment_claims.hpp): every item it names exists, every study
// item tests some claim, docs/claims.md has the same rows with the same items, and the study report
// shows each claim with this study's verdicts.
#include <doctest/doctest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "lab/assignment_claims.hpp"
#include "lab/report.hpp"
#include "lab/study_items.hpp"

using namespace bnlab::lab;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The row of docs/claims.md that starts "| NUMBER |", or "".
std::string doc_row(const std::string& doc, const std::string& number) {
  const std::string start = "\n| " + number + " |";
  const size_t at = doc.find(start);
  if (at == std::string::npos) return "";
  return doc.substr(at + 1, doc.find('\n', at + 1) - at - 1);
}

}  // namespace

TEST_CASE("every claim names study items that exist, or says why none tests it") {
  std::set<std::string> numbers;
  for (const AssignmentClaim& c : assignment_claims()) {
    CAPTURE(c.number);
    CHECK(numbers.insert(c.number).second);
    CHECK(!c.claim.empty());
    CHECK(!c.sections.empty());
    CHECK((!c.items.empty() || !c.untested.empty()));
    for (const std::string& name : c.items) {
      bool known = false;
      for (const StudyItem& item : study_items()) known = known || item.name == name;
      CHECK_MESSAGE(known, name);
    }
  }
}

TEST_CASE("every study item tests at least one of the assignment's claims") {
  for (const StudyItem& item : study_items()) {
    bool named = false;
    for (const AssignmentClaim& c : assignment_claims())
      for (const std::string& name : c.items) named = named || name == item.name;
    CHECK_MESSAGE(named, item.name);
  }
}

TEST_CASE("docs/claims.md has a row for every claim, naming the items that test it") {
  const std::string doc = read_file(std::string(BNLAB_SOURCE_DIR) + "/docs/claims.md");
  for (const AssignmentClaim& c : assignment_claims()) {
    CAPTURE(c.number);
    const std::string row = doc_row(doc, c.number);
    REQUIRE(!row.empty());
    for (const std::string& name : c.items) {
      const StudyItem* item = nullptr;
      for (const StudyItem& i : study_items())
        if (i.name == name) item = &i;
      REQUIRE(item);
      CHECK_MESSAGE(row.find("item " + std::to_string(item->id)) != std::string::npos, row);
    }
    // A claim no item tests names no item ("item 12") in its row.
    if (c.items.empty()) CHECK_MESSAGE(!std::regex_search(row, std::regex("item [0-9]")), row);
  }
}

TEST_CASE("the study report lists the claims with this study's verdicts, and items left out as such") {
  // A study of items 2 and 3 only, with made-up verdicts: claim 2 (learning rates) shows item 2's
  // verdict, claim 1 (convergence) says item 1 was not in this study, claim 16 its reason.
  const nlohmann::ordered_json doc = {
      {"command", "study"},
      {"runs", nlohmann::ordered_json::array()},
      {"study",
       {{"items",
         {{{"id", 2}, {"name", "learning rates"}, {"title", "higher learning rates"}, {"verdict", "supported"}, {"summary", "s2"}},
          {{"id", 3}, {"name", "initialization"}, {"title", "initialization"}, {"verdict", "mixed"}, {"summary", "s3"}}}}}}};
  const std::string md = report_markdown(doc, {}, {}, {}, "metrics.json");
  CHECK(md.find("## The assignment's claims") != std::string::npos);
  CHECK(md.find("| 2 | allows higher learning rates | Q1.1 §3, Q1.2 §4, Q1.6 §2, Q3.2 adv. 7 | 2 learning rates | **supported** |") !=
        std::string::npos);
  CHECK(md.find("| 3 | less sensitive to weight initialization | Q1.1 §3, Q1.2 §3, Q1.6 §4, Q3.2 adv. 5 | 3 initialization | **mixed** |") !=
        std::string::npos);
  CHECK(md.find("| 1 | converges faster | Q1.1 §3, Q1.2 §1, Q1.6 §2, Q2.5, Q3.2 adv. 1 | convergence | not in this study |") !=
        std::string::npos);
  CHECK(md.find("| 16 | reduces (internal) covariate shift | Q1.2 §7, Q1.6 §1, Q1.3 | — | planned:") != std::string::npos);
}

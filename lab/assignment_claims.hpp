// The claims of the assignment bnlab grew from (../shared/000_f06ef4de845b692e.txt), each once, with
// the sections that make it and the study items that test it, or why none does. One table, read by
// the study report (its "The assignment's claims" section, with this study's verdicts) and checked
// against docs/claims.md by tests/test_assignment_claims.cpp, so the two cannot drift apart.
//
//   for (const AssignmentClaim& c : assignment_claims())
//     if (c.items.empty()) fmt::print("{}: untested ({})\n", c.claim, c.untested);
#pragma once

#include <string>
#include <vector>

namespace bnlab::lab {

struct AssignmentClaim {
  std::string number;    // "1" … as in docs/claims.md ("D1" … for definitions)
  std::string claim;     // in a few words
  std::string sections;  // where the assignment makes it: "Q1.1 §3, Q1.2 §1"
  // The study items that test it, by StudyItem::name; empty when none does.
  std::vector<std::string> items;
  // Why no item tests it, or what else does ("planned: …", "bnlab has no recurrent layers");
  // empty when items do.
  std::string untested;
};

// Every claim, in the order of docs/claims.md.
const std::vector<AssignmentClaim>& assignment_claims();

}  // namespace bnlab::lab

// From the study's finished runs to its answers: for each selected item (study_items.hpp), its
// analysis — the numbers its criterion reads, the verdict, a one-line summary, a table for the
// report and the data of its figure. Everything is read from the runs' records (run_from_json of
// cached and fresh runs alike).
//
//   StudyContext ctx{.budget = b, .threshold = 0.85, .classes = 10, .items = {1, 6}};
//   json items = analyze_study(ctx, runs_by_name);   // [{"id": 1, "verdict": "mixed", …}, …]
//
// One object per item, in id order (the metrics document's study.items, README "Metrics"):
//   id, name, title, claim, criterion (StudyItem::criterion), verdict ("supported", "not supported",
//   "mixed", "inconclusive"), summary (one line with the key numbers), tolerance,
//   numbers: {columns: [...], rows: [[...]], plus item-specific raw values},
//   runs: the names of the runs it read, figure: the figure's data (plots.hpp figure_to_json).
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "lab/study_item.hpp"

namespace bnlab::lab {

// Throws RuntimeError naming a run the items need that is not in `runs`, UsageError for an id that
// is not an item.
nlohmann::ordered_json analyze_study(const StudyContext& ctx, const std::map<std::string, RunRecord>& runs);

}  // namespace bnlab::lab

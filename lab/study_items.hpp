// The registry of `bnlab study`'s items (study_item.hpp): one list, in id order, that the plan
// (study_jobs), the analysis (analyze_study), `--items` (its parsing, default and help) and the
// report go through. Adding an item = its file lab/study/item_<name>.cpp + one line in
// study_items.cpp; nothing else counts or names the items.
//
//   for (const StudyItem& item : study_items()) fmt::print("{} {}\n", item.id, item.name);
//   const StudyItem* depth = find_study_item(4);   // nullptr for an id that is not an item
#pragma once

#include <string>
#include <vector>

#include "lab/study_item.hpp"

namespace bnlab::lab {

// Every item, ids ascending.
const std::vector<StudyItem>& study_items();

// nullptr when no item has this id.
const StudyItem* find_study_item(int id);

// "1..8": the range of ids, for messages.
std::string study_item_range();

// "1 convergence, 2 learning rates, …": ids and names, for the --items help.
std::string study_items_help();

}  // namespace bnlab::lab

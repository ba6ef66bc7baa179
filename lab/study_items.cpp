#include "lab/study_items.hpp"

#include <stdexcept>

#include <fmt/format.h>

namespace bnlab::lab {

// The items, in id order: X(name) for the item defined by study_item_<name>() in lab/study/item_<name>.cpp.
#define BNLAB_STUDY_ITEMS(X) \
  X(convergence)             \
  X(learning_rates)          \
  X(initialization)          \
  X(depth)                   \
  X(small_batches)           \
  X(regularization)          \
  X(train_eval)              \
  X(cost)                    \
  X(worker_statistics)       \
  X(consistency)             \
  X(hyperparameters)         \
  X(regularizers)

#define BNLAB_DECLARE_STUDY_ITEM(name) StudyItem study_item_##name();
BNLAB_STUDY_ITEMS(BNLAB_DECLARE_STUDY_ITEM)
#undef BNLAB_DECLARE_STUDY_ITEM

namespace {

std::vector<StudyItem> make_items() {
#define BNLAB_STUDY_ITEM(name) study_item_##name(),
  std::vector<StudyItem> items = {BNLAB_STUDY_ITEMS(BNLAB_STUDY_ITEM)};
#undef BNLAB_STUDY_ITEM
  // NOTE: ids are what --items, run ownership (the smallest selected id trains a shared run) and the
  // figure names use; a list out of order or with a gap is a programming error, caught at first use.
  for (size_t i = 0; i < items.size(); ++i)
    if (items[i].id != static_cast<int>(i) + 1 || !items[i].analyze)
      throw std::logic_error(fmt::format("study item '{}': ids must run 1, 2, … in registry order, each with an analysis",
                                         items[i].name));
  return items;
}

}  // namespace

const std::vector<StudyItem>& study_items() {
  static const std::vector<StudyItem> items = make_items();
  return items;
}

const StudyItem* find_study_item(int id) {
  for (const StudyItem& item : study_items())
    if (item.id == id) return &item;
  return nullptr;
}

std::vector<int> study_item_ids() {
  std::vector<int> ids;
  for (const StudyItem& item : study_items()) ids.push_back(item.id);
  return ids;
}

std::string study_item_range() { return fmt::format("{}..{}", study_items().front().id, study_items().back().id); }

std::string study_items_help() {
  std::string s;
  for (const StudyItem& item : study_items()) s += fmt::format("{}{} {}", s.empty() ? "" : ", ", item.id, item.name);
  return s;
}

}  // namespace bnlab::lab

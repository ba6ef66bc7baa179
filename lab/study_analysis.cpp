#include "lab/study_analysis.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "graph/errors.hpp"
#include "lab/study_items.hpp"

namespace bnlab::lab {

json analyze_study(const StudyContext& ctx, const std::map<std::string, RunRecord>& runs) {
  json items = json::array();
  std::vector<int> selected = ctx.items;
  std::sort(selected.begin(), selected.end());
  selected.erase(std::unique(selected.begin(), selected.end()), selected.end());
  for (int id : selected) {
    const StudyItem* item = find_study_item(id);
    if (!item) throw UsageError(fmt::format("{} is not a study item ({})", id, study_item_range()));
    ItemRuns c{ctx, runs, {}};
    ItemResult r = item->analyze(c);
    r.figure.name = fmt::format("study-item{}", item->id);
    items.push_back({{"id", item->id},
                     {"name", item->name},
                     {"title", item->title},
                     {"claim", item->claim},
                     {"criterion", item->criterion},
                     {"verdict", to_string(r.verdict)},
                     {"summary", r.summary},
                     {"tolerance", std::isfinite(r.tolerance) ? json(r.tolerance) : json(nullptr)},
                     {"numbers", r.numbers},
                     {"runs", c.used},
                     {"figure", figure_to_json(r.figure)}});
  }
  return items;
}

}  // namespace bnlab::lab

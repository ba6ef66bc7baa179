#include "lab/sweep_summary.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include <fmt/format.h>

namespace bnlab::lab {

namespace {

std::string reached_text(const SweepRow& r) {
  if (r.reached == 0) return "never";
  std::string s = format_mean_std(r.threshold_epoch, 1);
  if (r.reached < r.runs) s += fmt::format(" ({}/{} seeds)", r.reached, r.runs);
  return s;
}

std::string runs_text(const SweepRow& r) {
  return r.diverged ? fmt::format("{} ({} diverged)", r.runs, r.diverged) : std::to_string(r.runs);
}

}  // namespace

std::vector<SweepRow> sweep_summary(const std::vector<RunRecord>& runs, double threshold) {
  std::vector<std::pair<std::string, int64_t>> order;
  std::map<std::pair<std::string, int64_t>, std::vector<const RunRecord*>> groups;
  for (const RunRecord& r : runs) {
    const std::pair<std::string, int64_t> key{r.config.model, r.config.batch_size};
    if (!groups.count(key)) order.push_back(key);
    groups[key].push_back(&r);
  }
  std::vector<SweepRow> rows;
  for (const auto& key : order) {
    SweepRow row;
    row.variant = key.first;
    row.batch_size = key.second;
    std::vector<double> ta, va, sa, tl, vl, sl, es, te;
    for (const RunRecord* r : groups[key]) {
      ++row.runs;
      row.diverged += diverged(*r);
      ta.push_back(final_value(*r, EpochMetric::train_acc));
      va.push_back(final_value(*r, EpochMetric::val_acc));
      sa.push_back(test_value(*r, Score::acc));
      tl.push_back(final_value(*r, EpochMetric::train_loss));
      vl.push_back(final_value(*r, EpochMetric::val_loss));
      sl.push_back(test_value(*r, Score::loss));
      es.push_back(mean_epoch_seconds(*r));
      if (const auto e = first_epoch_reaching(*r, threshold)) {
        te.push_back(*e);
        ++row.reached;
      }
    }
    row.train_acc = mean_std(ta), row.val_acc = mean_std(va), row.test_acc = mean_std(sa);
    row.train_loss = mean_std(tl), row.val_loss = mean_std(vl), row.test_loss = mean_std(sl);
    row.epoch_seconds = mean_std(es);
    row.threshold_epoch = mean_std(te);
    rows.push_back(std::move(row));
  }
  return rows;
}

json sweep_summary_table(const std::vector<SweepRow>& rows, double threshold) {
  json table_rows = json::array();
  for (const SweepRow& r : rows)
    table_rows.push_back({r.variant, std::to_string(r.batch_size), runs_text(r), format_mean_std(r.train_acc, 4),
                          format_mean_std(r.val_acc, 4), format_mean_std(r.test_acc, 4), format_mean_std(r.train_loss, 4),
                          format_mean_std(r.val_loss, 4), format_mean_std(r.test_loss, 4), format_mean_std(r.epoch_seconds, 3),
                          reached_text(r)});
  return {{"columns",
           {"variant", "batch", "runs", "train acc", "val acc", "test acc", "train loss", "val loss", "test loss", "s/epoch",
            fmt::format("epoch val acc >= {}", threshold)}},
          {"rows", std::move(table_rows)}};
}

std::string sweep_summary_text(const std::vector<SweepRow>& rows, double threshold) {
  const json t = sweep_summary_table(rows, threshold);
  const auto& cols = t["columns"];
  // Two tables so that each fits a terminal: identity + accuracy, identity + loss and time.
  const std::vector<std::vector<size_t>> tables = {{0, 1, 2, 3, 4, 5}, {0, 1, 6, 7, 8, 9, 10}};
  std::string out;
  for (const auto& which : tables) {
    std::vector<size_t> width;
    for (size_t c : which) {
      // Widths in code points: "±" is two bytes but one column.
      auto len = [](const std::string& s) {
        size_t n = 0;
        for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;
        return n;
      };
      size_t w = len(cols[c].get<std::string>());
      for (const auto& r : t["rows"]) w = std::max(w, len(r[c].get<std::string>()));
      width.push_back(w);
    }
    auto line = [&](const auto& cells) {
      std::string l;
      for (size_t i = 0; i < which.size(); ++i) {
        const std::string s = cells[which[i]].template get<std::string>();
        size_t n = 0;
        for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;
        const std::string pad(width[i] - n, ' ');
        // Text columns left-aligned, numbers right-aligned.
        l += (i ? "  " : "") + (which[i] == 0 ? s + pad : pad + s);
      }
      return l + "\n";
    };
    out += line(cols);
    for (const auto& r : t["rows"]) out += line(r);
    out += "\n";
  }
  return out;
}

}  // namespace bnlab::lab

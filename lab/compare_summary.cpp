#include "lab/compare_summary.hpp"

#include <algorithm>
#include <functional>

#include <fmt/format.h>

#include "lab/numbers.hpp"
#include "lab/run_stats.hpp"

namespace bnlab::lab {

namespace {

std::string difference_name(const RunRecord& variant, const RunRecord& base) { return variant.name + " - " + base.name; }

}  // namespace

json compare_summary_table(const std::vector<RunRecord>& variants, double threshold) {
  const RunRecord& base = variants.front();
  json columns = json::array({""});
  for (const RunRecord& v : variants) columns.push_back(v.name);
  for (size_t i = 1; i < variants.size(); ++i) columns.push_back(difference_name(variants[i], base));
  json rows = json::array();
  // One row: each variant's value, then each variant's difference from the first.
  auto metric_row = [&](const std::string& label, const std::function<double(const RunRecord&)>& value, int precision) {
    json row = json::array({label});
    for (const RunRecord& v : variants) row.push_back(fixed(value(v), precision));
    for (size_t i = 1; i < variants.size(); ++i) row.push_back(signed_fixed(value(variants[i]) - value(base), precision));
    rows.push_back(std::move(row));
  };
  metric_row("test loss", [](const RunRecord& r) { return test_value(r, Score::loss); }, 4);
  metric_row("test acc", [](const RunRecord& r) { return test_value(r, Score::acc); }, 4);
  json reached = json::array({fmt::format("first epoch val acc >= {}", threshold)});
  for (const RunRecord& v : variants) {
    const auto e = first_epoch_reaching(v, threshold);
    reached.push_back(e ? std::to_string(*e) : "never");
  }
  rows.push_back(std::move(reached));
  metric_row("mean s/epoch", [](const RunRecord& r) { return mean_epoch_seconds(r); }, 2);
  return {{"columns", std::move(columns)}, {"rows", std::move(rows)}};
}

std::string compare_summary_text(const json& table) {
  const json& columns = table["columns"];
  const json& rows = table["rows"];
  size_t label_width = 16;
  for (const json& r : rows) label_width = std::max(label_width, r[0].get<std::string>().size());
  std::vector<size_t> widths;
  for (size_t i = 1; i < columns.size(); ++i) widths.push_back(std::max<size_t>(columns[i].get<std::string>().size(), 9));
  auto line = [&](const json& cells) {
    std::string s = fmt::format("{:<{}}", cells[0].get<std::string>(), label_width);
    for (size_t i = 1; i < cells.size() && i <= widths.size(); ++i)
      s += fmt::format("  {:>{}}", cells[i].get<std::string>(), widths[i - 1]);
    return s + "\n";
  };
  std::string out = line(columns);
  for (const json& r : rows) out += line(r);
  return out;
}

json compare_epoch_table(const std::vector<RunRecord>& variants) {
  const RunRecord& base = variants.front();
  json columns = json::array({"epoch"});
  for (const RunRecord& v : variants) {
    columns.push_back(v.name + " val loss");
    columns.push_back(v.name + " val acc");
  }
  for (size_t i = 1; i < variants.size(); ++i) {
    columns.push_back(difference_name(variants[i], base) + " val loss");
    columns.push_back(difference_name(variants[i], base) + " val acc");
  }
  size_t epochs = 0;
  for (const RunRecord& v : variants) epochs = std::max(epochs, v.epochs.size());
  json rows = json::array();
  for (size_t e = 1; e <= epochs; ++e) {
    const int epoch = static_cast<int>(e);
    json row = json::array({std::to_string(e)});
    for (const RunRecord& v : variants) {
      row.push_back(fixed(epoch_value(v, epoch, EpochMetric::val_loss), 4));
      row.push_back(fixed(epoch_value(v, epoch, EpochMetric::val_acc), 4));
    }
    for (size_t i = 1; i < variants.size(); ++i)
      for (EpochMetric k : {EpochMetric::val_loss, EpochMetric::val_acc})
        row.push_back(signed_fixed(epoch_value(variants[i], epoch, k) - epoch_value(base, epoch, k), 4));
    rows.push_back(std::move(row));
  }
  return {{"columns", std::move(columns)}, {"rows", std::move(rows)}};
}

}  // namespace bnlab::lab

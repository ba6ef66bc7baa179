#include "lab/report_input.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "graph/errors.hpp"
#include "train/serialize.hpp"

namespace bnlab::lab {

namespace {

using json = nlohmann::ordered_json;

// The fields of one CSV line; quoted fields as metrics_csv.cpp writes them ("a,b" and "" for ").
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') out.back() += '"', ++i;
      else if (c == '"') quoted = false;
      else out.back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  return out;
}

bool is_csv_header(const std::string& first_line) {
  const std::vector<std::string> f = csv_fields(first_line);
  return f.size() >= 2 && f[0] == "run" && f[1] == "epoch";
}

std::string first_line_of(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

std::string describe_input(ReportInputKind kind) {
  switch (kind) {
    case ReportInputKind::document: return "metrics document";
    case ReportInputKind::run_file: return "run file (one run of a sweep's or study's run store)";
    case ReportInputKind::csv: return "metrics CSV";
  }
  return "?";
}

json runs_from_metrics_csv(const std::string& path, const std::string& text) {
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  const std::vector<std::string> header = csv_fields(line);
  std::map<std::string, size_t> column;
  for (size_t i = 0; i < header.size(); ++i) column[header[i]] = i;
  json runs = json::array();
  std::map<std::string, size_t> run_index;  // name → position in runs
  for (int number = 2; std::getline(in, line); ++number) {
    if (line.empty() || line == "\r") continue;
    const std::vector<std::string> f = csv_fields(line);
    const auto fail = [&](const std::string& what) -> void {
      throw InputError(fmt::format("{}: line {}: {}", path, number, what));
    };
    if (f.size() != header.size()) fail(fmt::format("{} fields where the header has {}", f.size(), header.size()));
    // A number of the CSV: empty is a value the run did not have (NaN, as metrics_csv writes it).
    const auto number_of = [&](const char* name) {
      const auto it = column.find(name);
      if (it == column.end() || f[it->second].empty()) return std::numeric_limits<double>::quiet_NaN();
      const std::string& s = f[it->second];
      char* end = nullptr;
      errno = 0;
      const double v = std::strtod(s.c_str(), &end);
      if (end != s.c_str() + s.size() || errno == ERANGE) fail(fmt::format("{} '{}' is not a number", name, s));
      return v;
    };
    EpochMetrics m;
    const double epoch = number_of("epoch");
    if (!(epoch >= 1 && epoch <= 1e9 && epoch == std::floor(epoch))) fail(fmt::format("epoch '{}' is not an epoch number", f[1]));
    m.epoch = static_cast<int>(epoch);
    m.train_loss = number_of("train_loss");
    m.train_loss_std = number_of("train_loss_std");  // NaN in a CSV written before the column
    m.train_acc = number_of("train_acc");
    m.val_loss = number_of("val_loss");
    m.val_acc = number_of("val_acc");
    m.seconds = number_of("seconds");
    m.samples_per_second = number_of("samples_per_second");
    const std::string& name = f[0];
    if (!run_index.count(name)) {
      run_index[name] = runs.size();
      runs.push_back({{"name", name}, {"config", json::object()}, {"epochs", json::array()}, {"total_seconds", nullptr}});
    }
    runs[run_index[name]]["epochs"].push_back(json::parse(to_json(m)));
  }
  return runs;
}

ReportInput report_input_from_text(const std::string& path, const std::string& text) {
  const size_t start = text.find_first_not_of(" \t\r\n");
  const std::string kinds =
      "give a metrics document (--json of train, compare, sweep or study), a run file of a sweep or study (DIR/runs/NAME.json) "
      "or a --csv file";
  ReportInput r;
  if (start != std::string::npos && text[start] == '{') {
    json doc;
    try {
      doc = json::parse(text);
    } catch (const json::exception& e) {
      throw InputError(path + ": not a JSON document: " + e.what());
    }
    if (doc.contains("runs")) {
      if (!doc["runs"].is_array()) throw InputError(path + ": not a bnlab metrics document (\"runs\" is not a list)");
      r.doc = std::move(doc);
      return r;
    }
    if (doc.contains("name") && doc.contains("epochs")) {
      r.kind = ReportInputKind::run_file;
      r.doc = {{"tool", "bnlab"}, {"runs", json::array({std::move(doc)})}};
      return r;
    }
    throw InputError(path + ": JSON, but not a bnlab metrics document (no \"runs\" list) nor a run file (no \"name\" and \"epochs\"); " +
                     kinds);
  }
  if (start != std::string::npos && is_csv_header(first_line_of(text))) {
    r.kind = ReportInputKind::csv;
    r.doc = {{"tool", "bnlab"}, {"runs", runs_from_metrics_csv(path, text)}};
    return r;
  }
  throw InputError(path + ": not a file bnlab can report on; " + kinds);
}

}  // namespace bnlab::lab

#include "data/csv.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <string_view>

#include "data/file_kind.hpp"
#include "data/idx.hpp"
#include "graph/errors.hpp"

namespace bnlab::data {

std::string_view trim_csv(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// std::from_chars rejects a leading '+', which spreadsheets do write.
bool parse_csv_number(std::string_view field, double& value) {
  if (field.size() > 1 && field.front() == '+' && field[1] != '-') field.remove_prefix(1);
  if (field.empty()) return false;
  const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  return ec == std::errc() && end == field.data() + field.size() && std::isfinite(value);
}

void split_csv(std::string_view line, std::vector<std::string_view>& fields) {
  fields.clear();
  for (;;) {
    const size_t comma = line.find(',');
    fields.push_back(trim_csv(line.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    line.remove_prefix(comma + 1);
  }
}


Dataset read_csv(const std::string& path, const CsvOptions& options, std::string name) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  // An image, an archive or an IDX file would fail on its first "field" with a byte in the message.
  if (const FileKind kind = sniff_bytes(text); kind != FileKind::csv && kind != FileKind::text && kind != FileKind::empty)
    throw InputError(not_a_message(path, {kind}, "a CSV file", "CSV rows are a label and the features, separated by commas"));

  Dataset out;
  out.name = std::move(name);
  out.source = path;
  out.divisor = options.pixels ? 255 : 1;
  std::vector<std::string_view> fields;
  size_t expected_fields = 0;
  int64_t first_line = 0;  // the line that fixed the field count
  int32_t max_label = -1;
  int64_t line_no = 0;
  const double feature_divisor = options.pixels ? 255.0 : 1.0;

  auto fail = [&](size_t column, std::string_view field, const std::string& why) {
    throw InputError(path + ": line " + std::to_string(line_no) + ", column " + std::to_string(column) +
                     ": '" + std::string(field.substr(0, 40)) + "' " + why);
  };

  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view line = trim_csv(text.substr(pos, nl - pos));
    pos = nl + 1;
    ++line_no;
    if (line.empty()) continue;
    split_csv(line, fields);

    if (expected_fields == 0) {
      expected_fields = fields.size();
      first_line = line_no;
      if (expected_fields < 2)
        throw InputError(path + ": line " + std::to_string(line_no) +
                         ": one field only; need the label then at least one feature");
      out.feature_count = static_cast<int64_t>(expected_fields) - 1;
      double probe = 0;
      if (!parse_csv_number(fields[0], probe)) continue;  // a header line
    } else if (fields.size() != expected_fields) {
      throw InputError(path + ": line " + std::to_string(line_no) + ": " + std::to_string(fields.size()) +
                       " fields, expected " + std::to_string(expected_fields) + " as on line " +
                       std::to_string(first_line));
    }

    double label = 0;
    if (!parse_csv_number(fields[0], label)) fail(1, fields[0], "is not a number (the label)");
    // Below int32's maximum, so the class count (largest label + 1) is an int32 too.
    if (label < 0 || label != std::floor(label) || label >= std::numeric_limits<int32_t>::max())
      fail(1, fields[0], "is not a valid label: labels are non-negative integers below 2147483647");
    const auto label_id = static_cast<int32_t>(label);
    out.labels.push_back(label_id);
    if (label_id > max_label) max_label = label_id;

    for (size_t c = 1; c < fields.size(); ++c) {
      double v = 0;
      if (!parse_csv_number(fields[c], v)) fail(c + 1, fields[c], "is not a finite number");
      v /= feature_divisor;
      // Features are floats: a double beyond float's range (1e39, say) would become infinite.
      if (std::fabs(v) > std::numeric_limits<float>::max()) fail(c + 1, fields[c], "is too large for a 32-bit float");
      out.features.push_back(static_cast<float>(v));
    }
  }
  out.num_classes = max_label + 1;
  return out;
}

}  // namespace bnlab::data

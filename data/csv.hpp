// Reading a labelled dataset from CSV: the class id in the first column, then the features.
//
//   // train.csv:  label,x1,x2        <- optional header, skipped when its first field is not a number
//   //             1,0.5,-2
//   //             0,3e-1,4
//   bnlab::data::Dataset d = bnlab::data::read_csv("train.csv", {}, "csv/train");
//   // d.size() == 2, d.feature_count == 2, d.num_classes == 2 (largest label + 1)
//   bnlab::data::read_csv("pixels.csv", {.pixels = true}, "x");   // 0–255 values scaled by 1/255
//
// Fields are separated by commas and may carry surrounding spaces; blank lines and \r\n endings
// are accepted, quoting is not (there is nothing to quote in numbers). A gzipped file is read too.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "data/dataset.hpp"

namespace bnlab::data {

struct CsvOptions {
  bool pixels = false;  // features are 0–255 pixel values: divide by 255
};

// Throws InputError naming the file, line and column for a row with a different number of fields
// than the first line, a field that is not a finite number, or a label that is not a non-negative
// integer. An empty file (or a header alone) gives an empty dataset.
Dataset read_csv(const std::string& path, const CsvOptions& options, std::string name);

// The pieces of a CSV line, as read_csv reads them (also used by `bnlab predict`):
// `line` without surrounding blanks (and '\r'); its comma-separated fields, each trimmed, into
// `fields`; one field as a finite number (a leading '+', as spreadsheets write it, is accepted).
std::string_view trim_csv(std::string_view line);
void split_csv(std::string_view line, std::vector<std::string_view>& fields);
bool parse_csv_number(std::string_view field, double& value);

}  // namespace bnlab::data

#include "lab/metrics_csv.hpp"

#include <cmath>
#include <iterator>

#include <fmt/format.h>

namespace bnlab::lab {

namespace {

// Run names are ours ("plain", "batchnorm-bs64"), but quote anyway so a user-chosen name with a
// comma cannot shift the columns.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string csv_number(double v) { return std::isfinite(v) ? fmt::format("{}", v) : std::string(); }

}  // namespace

std::string metrics_csv(const std::vector<RunRecord>& runs) {
  std::string out = "run,epoch,train_loss,train_acc,val_loss,val_acc,seconds,samples_per_second,train_loss_std\n";
  auto it = std::back_inserter(out);
  for (const RunRecord& r : runs)
    for (const EpochMetrics& m : r.epochs)
      fmt::format_to(it, "{},{},{},{},{},{},{},{},{}\n", csv_field(r.name), m.epoch, csv_number(m.train_loss),
                     csv_number(m.train_acc), csv_number(m.val_loss), csv_number(m.val_acc), csv_number(m.seconds),
                     csv_number(m.samples_per_second), csv_number(m.train_loss_std));
  return out;
}

}  // namespace bnlab::lab

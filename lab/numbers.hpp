// Number formatting shared by the tables and progress lines: a missing value (NaN from an empty
// validation split) shows as "-" rather than "nan", so columns stay readable.
#pragma once

#include <cmath>
#include <string>

#include <fmt/format.h>

namespace bnlab::lab {

inline std::string fixed(double v, int precision) {
  return std::isfinite(v) ? fmt::format("{:.{}f}", v, precision) : std::string("-");
}

// Signed, for differences: "+0.0123".
inline std::string signed_fixed(double v, int precision) {
  if (!std::isfinite(v)) return "-";
  // A difference that rounds to zero reads "+0.00", not "-0.00".
  if (std::abs(v) < 0.5 * std::pow(10.0, -precision)) v = 0;
  return fmt::format("{:+.{}f}", v, precision);
}

}  // namespace bnlab::lab

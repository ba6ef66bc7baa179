#include "graph/fields.hpp"

#include <sstream>

namespace bnlab {

std::string field_text(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

std::string Range::text() const {
  const bool lo_inf = std::isinf(lo), hi_inf = std::isinf(hi);
  if (lo_inf && hi_inf) return "finite";
  if (hi_inf) {
    if (lo == 0) return lo_open ? "positive and finite" : ">= 0";
    return (lo_open ? "> " : "at least ") + field_text(lo);
  }
  if (lo_inf) return (hi_open ? "< " : "at most ") + field_text(hi);
  return std::string("in ") + (lo_open ? "(" : "[") + field_text(lo) + ", " + field_text(hi) + (hi_open ? ")" : "]");
}

}  // namespace bnlab

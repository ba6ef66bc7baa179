#include "tools/flag_values.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <string_view>

#include "graph/errors.hpp"

namespace bnlab::tool {

namespace {

// Why a text is not a value: "not NOUN DETAIL" ("not an integer (it holds a space)"), or a value out
// of the type's range, said whole in `out_of_range`. Empty: no refusal.
struct Refusal {
  std::string noun, detail, out_of_range;
  bool refused() const { return !noun.empty() || !out_of_range.empty(); }
};

Refusal not_a(std::string noun, std::string detail = "") { return {std::move(noun), std::move(detail), ""}; }
Refusal beyond(std::string range) { return {"", "", std::move(range)}; }

template <class T>
std::string kind() {
  if constexpr (std::is_floating_point_v<T>) return "a number";
  else if constexpr (std::is_unsigned_v<T>) return "a non-negative integer";
  else return "an integer";
}

bool starts_with_word(std::string_view s, std::string_view word) {
  if (s.size() < word.size()) return false;
  for (size_t i = 0; i < word.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != word[i]) return false;
  return true;
}

// The magnitude `digits` (decimal digits only) with its sign, if T holds it.
template <class T>
Refusal integer_value(std::string_view digits, bool negative, T& out) {
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) return not_a(kind<T>());
  uint64_t magnitude = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude);
  using L = std::numeric_limits<T>;
  const std::string range = negative ? fmt::format("out of range (at least {})", L::min()) : fmt::format("out of range (at most {})", L::max());
  if (ec == std::errc::result_out_of_range) return beyond(range);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return not_a(kind<T>());
  if (!negative) {
    if (magnitude > static_cast<uint64_t>(L::max())) return beyond(range);
    out = static_cast<T>(magnitude);
    return {};
  }
  if (magnitude == 0) {
    out = 0;
    return {};
  }
  // |min| = max + 1 for the two's complement types; -(m - 1) - 1 never overflows.
  if (magnitude - 1 > static_cast<uint64_t>(L::max())) return beyond(range);
  out = static_cast<T>(-static_cast<T>(magnitude - 1) - 1);
  return {};
}

// The power of ten of a decimal number's leading non-zero digit ("123.4" 2, "0.05e3" 1), to tell an
// overflow from an underflow: from_chars says only "out of range", and strtod would read the
// decimal point of the current locale.
int64_t leading_power_of_ten(std::string_view text) {
  const size_t e = text.find_first_of("eE");
  const std::string_view mantissa = text.substr(0, e);
  int64_t exponent = 0;
  if (e != std::string_view::npos) {
    std::string_view digits = text.substr(e + 1);
    const bool minus = !digits.empty() && digits.front() == '-';
    if (!digits.empty() && (digits.front() == '-' || digits.front() == '+')) digits.remove_prefix(1);
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), exponent);
    if (ec == std::errc::result_out_of_range) exponent = std::numeric_limits<int32_t>::max();
    if (minus) exponent = -exponent;
  }
  const size_t point = std::min(mantissa.find('.'), mantissa.size());
  const size_t first = mantissa.find_first_of("123456789");
  if (first == std::string_view::npos) return std::numeric_limits<int32_t>::min();
  const int64_t position = first < point ? static_cast<int64_t>(point - first) - 1 : -static_cast<int64_t>(first - point);
  return position + exponent;
}

template <class T>
Refusal real_value(std::string_view text, bool negative, T& out) {
  if (starts_with_word(text, "inf") || starts_with_word(text, "nan")) return not_a("a finite number");
  if (text.find(',') != std::string_view::npos) return not_a("a number", "(the decimal point is '.', not ',')");
  double v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v, std::chars_format::general);
  const std::string too_large = fmt::format("out of range (beyond ±{:.2g})", std::numeric_limits<T>::max());
  if (ec == std::errc::result_out_of_range)
    return beyond(leading_power_of_ten(text) > 0 ? too_large : "out of range (too close to 0 to be represented; write 0 for zero)");
  if (ec != std::errc() || ptr != text.data() + text.size()) return not_a("a number");
  if (std::fabs(v) > static_cast<double>(std::numeric_limits<T>::max())) return beyond(too_large);
  out = static_cast<T>(negative ? -v : v);
  return {};
}

template <class T>
Refusal refusal(const std::string& text, T& out) {
  if (text.empty()) return not_a(kind<T>(), "(the value is empty)");
  if (std::any_of(text.begin(), text.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); }))
    return not_a(kind<T>(), "(it holds a space)");
  std::string_view s = text;
  const bool negative = s.front() == '-';
  if (s.front() == '+' || s.front() == '-') s.remove_prefix(1);
  if (s.empty()) return not_a(kind<T>());
  if (negative && std::is_unsigned_v<T>) return not_a("a non-negative integer", "(no minus sign)");
  if (s.size() > 1 && s[0] == '0' && std::string_view("xXbBoO").find(s[1]) != std::string_view::npos)
    return not_a(kind<T>(), "in decimal (no 0x, 0b or 0o prefix)");
  if constexpr (std::is_floating_point_v<T>)
    return real_value(s, negative, out);
  else
    return integer_value(s, negative, out);
}

}  // namespace

template <class T>
std::string number_error(const std::string& text, T& out) {
  const Refusal r = refusal(text, out);
  if (!r.out_of_range.empty()) return r.out_of_range;
  if (r.noun.empty()) return "";
  return "not " + r.noun + (r.detail.empty() ? "" : " " + r.detail);
}

std::string range_bound(const Range& r, bool integer) {
  const bool no_lo = std::isinf(r.lo), no_hi = std::isinf(r.hi);
  if (no_lo && no_hi) return "";
  // An integer above 0 is one at least 1.
  const auto lower = [&] {
    if (integer && r.lo_open) return "≥ " + field_text(std::floor(r.lo) + 1);
    return (r.lo_open ? "> " : "≥ ") + field_text(r.lo);
  };
  const auto upper = [&] {
    if (integer && r.hi_open) return "≤ " + field_text(std::ceil(r.hi) - 1);
    return (r.hi_open ? "< " : "≤ ") + field_text(r.hi);
  };
  if (no_hi) return lower();
  if (no_lo) return upper();
  return std::string("in ") + (r.lo_open ? "(" : "[") + field_text(r.lo) + ", " + field_text(r.hi) + (r.hi_open ? ")" : "]");
}

std::string shown_value(const std::string& text) {
  const bool spaced =
      text.empty() || std::any_of(text.begin(), text.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
  return spaced ? "'" + text + "'" : text;
}

template <class T>
T parse_number(const std::string& flag, const std::string& text, const Range& range) {
  T value{};
  const Refusal r = refusal(text, value);
  if (!r.out_of_range.empty()) throw UsageError(fmt::format("{} {}: {}", flag, shown_value(text), r.out_of_range));
  if (r.refused()) {
    // "expected an integer ≥ 1", "expected a finite number > 0", "expected a number (the decimal point …)"
    const std::string bound = range_bound(range, !std::is_floating_point_v<T>);
    throw UsageError(fmt::format("{} {}: expected {}{}{}", flag, shown_value(text), r.noun, bound.empty() ? "" : " " + bound,
                                 r.detail.empty() ? "" : " " + r.detail));
  }
  return value;
}

template <class T>
std::vector<T> parse_list(const std::string& flag, const std::string& text) {
  std::vector<T> out;
  size_t start = 0, item = 1;
  const auto bad = [&](const std::string& why) { throw UsageError(fmt::format("{} {}: {}", flag, shown_value(text), why)); };
  while (true) {
    const size_t end = std::min(text.find(',', start), text.size());
    const std::string s = text.substr(start, end - start);
    if (s.empty()) bad(fmt::format("item {} is empty", item));
    if constexpr (std::is_same_v<T, std::string>) {
      if (std::any_of(s.begin(), s.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); }))
        bad(fmt::format("item {} '{}' holds a space", item, s));
      out.push_back(s);
    } else {
      T v{};
      if (const std::string why = number_error(s, v); !why.empty()) bad(fmt::format("item {} '{}' is {}", item, s, why));
      out.push_back(v);
    }
    if (end == text.size()) break;
    start = end + 1;
    ++item;
  }
  return out;
}

void refuse_empty_values(CLI::App& app) {
  const CLI::Validator non_empty(
      [](std::string& value) { return value.empty() ? std::string("an empty value (leave the flag out instead)") : std::string(); },
      "", "non-empty");
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    for (CLI::Option* opt : sub->get_options())
      if (opt->get_type_size() > 0) opt->check(non_empty);
    refuse_empty_values(*sub);
  }
}

#define BNLAB_NUMBER(T)                                               \
  template std::string number_error(const std::string&, T&);          \
  template T parse_number(const std::string&, const std::string&, const Range&);
BNLAB_NUMBER(int)
BNLAB_NUMBER(int64_t)
BNLAB_NUMBER(uint64_t)
BNLAB_NUMBER(double)
BNLAB_NUMBER(float)
#undef BNLAB_NUMBER
template std::vector<int64_t> parse_list(const std::string&, const std::string&);
template std::vector<uint64_t> parse_list(const std::string&, const std::string&);
template std::vector<int> parse_list(const std::string&, const std::string&);
template std::vector<std::string> parse_list(const std::string&, const std::string&);

}  // namespace bnlab::tool

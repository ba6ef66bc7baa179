// A configuration field declared once: its name, flag, key in the metrics document, valid range
// and doc. Each configuration struct lists its fields in a `visit_fields(config, visitor)` beside
// it (train/config_fields.hpp: the training configuration; data/registry.hpp: the data options),
// and that list drives validation (validate_fields, here), the JSON of checkpoints, the metrics
// document and the command-line flags.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "graph/errors.hpp"

namespace bnlab {

// The values a number field may take: [lo, hi], either end open, always finite.
struct Range {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool lo_open = false, hi_open = false;

  bool contains(double v) const {
    return std::isfinite(v) && (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
  }
  // "positive and finite", "at least 1", "in [0, 1)", ">= 0"
  std::string text() const;
};

inline constexpr Range kAny{};
inline constexpr Range kPositive{0, std::numeric_limits<double>::infinity(), true, false};
inline constexpr Range kNonNegative{0, std::numeric_limits<double>::infinity(), false, false};
inline constexpr Range kAtLeastOne{1, std::numeric_limits<double>::infinity(), false, false};
inline constexpr Range kUnitOpen{0, 1, false, true};  // [0, 1)

struct FieldInfo {
  const char* name;                // the JSON key ("lr"); a ConfigError names it
  const char* flag = nullptr;      // "--lr"; nullptr: no flag of its own
  const char* metrics = nullptr;   // key in the metrics document's config block; nullptr: not there
  const char* doc = "";            // the flag's help
  Range range = kAny;              // for numbers
  const char* nested = nullptr;    // "optimizer" for the optimizer's fields inside TrainConfig
  const char* type_name = nullptr; // the flag's value in --help ("N", "DIR"); nullptr: CLI11's
};

// A configuration value outside its field's range. what(): "lr must be positive and finite, got -0.1".
// A rule that involves other fields is a whole sentence naming them by their field names (`sentence`);
// the command line then names them by their flags (tools/train_flags.hpp, flag_error).
struct ConfigError : UsageError {
  ConfigError(std::string field, std::string value, std::string rule)
      : UsageError(field + " must be " + rule + ", got " + value), field(std::move(field)), value(std::move(value)),
        rule(std::move(rule)) {}
  static ConfigError because(std::string field, std::string value, std::string sentence) {
    ConfigError e(std::move(field), std::move(value), "", sentence);
    return e;
  }
  std::string field, value, rule, sentence;

 private:
  ConfigError(std::string f, std::string v, std::string r, const std::string& s)
      : UsageError(s), field(std::move(f)), value(std::move(v)), rule(std::move(r)), sentence(s) {}
};

// The text of a value as messages show it ("0.001", "32", "adam").
std::string field_text(double v);
inline std::string field_text(int64_t v) { return std::to_string(v); }
inline std::string field_text(int v) { return std::to_string(v); }
inline std::string field_text(uint64_t v) { return std::to_string(v); }
inline std::string field_text(bool v) { return v ? "true" : "false"; }
inline std::string field_text(const std::string& v) { return v; }
template <class T>
struct is_optional : std::false_type {};
template <class U>
struct is_optional<std::optional<U>> : std::true_type {};

// Throws ConfigError if `value` — a number, each number of a list, or an optional's value when it
// has one — is outside the field's range.
template <class T>
void check_field(const FieldInfo& f, const T& value) {
  if constexpr (is_optional<T>::value) {
    if (value) check_field(f, *value);
  } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
    for (int64_t x : value) check_field(f, x);
  } else if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
    if (!f.range.contains(static_cast<double>(value))) throw ConfigError(f.name, field_text(value), f.range.text());
  }
}

// Throws ConfigError for the first value outside its field's range (visit_fields found by
// argument-dependent lookup in the config's namespace).
template <class C>
void validate_fields(const C& c) {
  visit_fields(c, [](const FieldInfo& f, const auto& value) { check_field(f, value); });
}

}  // namespace bnlab

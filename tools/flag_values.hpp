// The values of command-line flags, read strictly and all by the same rules, so that a value is
// either taken to mean what a person reading it would think or refused with the flag, the text and
// the reason. CLI11's own conversion takes " 3" but not "3 ", reads "0x10" as 16, an unsigned
// seed "-1" as 2^64 - 1, "1e999" as inf and "1e-400" as 0, and an empty value as 0; every number of
// every command goes through parse_number instead.
//
// The rules (the README says them for users):
//   integer   an optional sign and decimal digits: "12", "+12", "-3" (signed flags), "007" is 7
//   number    a decimal number as C++ and Python write it: "0.001", "1e-3", ".5", "5.", "-2"
//   refused   an empty value, a space anywhere, hex/binary/octal prefixes ("0x10", "0x1p-3"), a decimal
//             comma ("0,1"), nan and inf, a number out of the type's range (no clamping, no
//             rounding to 0), a sign on an unsigned flag, anything after the number
//   lists     "a,b,c": each item by the rules above, no empty item ("128,,64", "128,"), no spaces
//
// A refusal says the type and, when the flag's field declares one, the range the value must be in
// (the range itself is checked by the field's validation, which says "must be at least 1").
//
//   int64_t n = parse_number<int64_t>("--epochs", "12");       // 12
//   parse_number<int64_t>("--epochs", "abc", kAtLeastOne);     // UsageError "--epochs abc: expected an integer ≥ 1"
//   parse_number<int64_t>("--epochs", "1e1");    // "--epochs 1e1: expected an integer"
//   parse_number<uint64_t>("--seed", "-1");      // "--seed -1: expected a non-negative integer (no minus sign)"
//   parse_number<double>("--lr", "1e999");       // "--lr 1e999: out of range (beyond ±1.8e+308)"
//   parse_list<int64_t>("--hidden", "128,,64");  // "--hidden 128,,64: item 2 is empty"
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "graph/fields.hpp"

namespace bnlab::tool {

// Why `text` is not a value of type T by the rules above ("not an integer (it holds a space)"), or ""
// when it is (and then `out` holds it).
template <class T>
std::string number_error(const std::string& text, T& out);

// The value of `text`, or UsageError "FLAG TEXT: expected KIND[ RANGE][ (why)]" (TEXT quoted when
// empty or spaced), or "FLAG TEXT: out of range (…)" beyond the type's range.
template <class T>
T parse_number(const std::string& flag, const std::string& text, const Range& range = kAny);

// A field's range as a refusal says it: "≥ 1", "> 0", "in [0, 1)", "" for any value. For an integer
// an open end is the nearest integer inside ("> 0" is "≥ 1").
std::string range_bound(const Range& range, bool integer);

// The items of a comma-separated list flag, each one there and of type T (int64_t, uint64_t, int or
// std::string): UsageError "--hidden 128,,64: item 2 is empty" or "--seeds 0,x: item 2 'x' is not a
// non-negative integer" — CLI11 would drop an empty item and take the rest.
template <class T>
std::vector<T> parse_list(const std::string& flag, const std::string& text);

// How a flag's value appears in a message: as typed, quoted when it is empty or holds a space.
std::string shown_value(const std::string& text);

// "INT", "UINT" or "FLOAT": the help's name of T's values.
template <class T>
const char* number_type_name() {
  if constexpr (std::is_floating_point_v<T>) return "FLOAT";
  else if constexpr (std::is_unsigned_v<T>) return "UINT";
  else return "INT";
}

// A number flag bound to `into` through parse_number (its help shows the current value with
// capture_default_str()); for an optional, the flag sets it only when given. `range` is what a
// refusal says the value must be in.
template <class T>
CLI::Option* add_number_option(CLI::App& cmd, const std::string& flag, T& into, const std::string& doc, Range range = kAny) {
  static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>);
  CLI::Option* opt = cmd.add_option_function<std::string>(
      flag, [&into, flag, range](const std::string& s) { into = parse_number<T>(flag, s, range); }, doc);
  opt->default_function([&into] { return fmt::format("{}", into); });
  return opt->type_name(number_type_name<T>());
}
template <class T>
CLI::Option* add_number_option(CLI::App& cmd, const std::string& flag, std::optional<T>& into, const std::string& doc,
                               Range range = kAny) {
  CLI::Option* opt = cmd.add_option_function<std::string>(
      flag, [&into, flag, range](const std::string& s) { into = parse_number<T>(flag, s, range); }, doc);
  return opt->type_name(number_type_name<T>());
}

// A list flag bound to `into` through parse_list; its help shows the current value as the default.
template <class T>
CLI::Option* add_list_option(CLI::App& cmd, const std::string& flag, std::vector<T>& into, const std::string& doc) {
  CLI::Option* opt =
      cmd.add_option_function<std::string>(flag, [&into, flag](const std::string& s) { into = parse_list<T>(flag, s); }, doc);
  std::string shown;
  for (const T& v : into) shown += (shown.empty() ? "" : ",") + fmt::format("{}", v);
  if (!into.empty()) opt->default_str(shown);
  return opt;
}
// The same for a refinement that stays empty unless the flag is given.
template <class T>
CLI::Option* add_list_option(CLI::App& cmd, const std::string& flag, std::optional<std::vector<T>>& into, const std::string& doc) {
  return cmd.add_option_function<std::string>(flag, [&into, flag](const std::string& s) { into = parse_list<T>(flag, s); }, doc);
}

// Every option of every subcommand of `app` that takes a value refuses an empty one
// ("--json: an empty value (give a PATH)"): an empty --json or --out would otherwise be taken as
// "not requested" and the output silently not written. Call once all commands are registered.
void refuse_empty_values(CLI::App& app);

}  // namespace bnlab::tool

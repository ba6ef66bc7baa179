// Strict reading of every flag value (tools/flag_values.hpp): the rules unit by unit, then a table
// that walks every flag of every command, as each command's --help lists it, and gives it each bad
// value of its kind. A flag added later is walked too, and a value type the table does not know
// fails the test until the table says which bad values it must refuse.
#include <doctest/doctest.h>

#include <clocale>
#include <cstdint>
#include <limits>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "cli_test_support.hpp"
#include "graph/errors.hpp"
#include "tools/flag_values.hpp"

using namespace bnlab::test;
using bnlab::tool::parse_list;
using bnlab::tool::parse_number;

namespace {

// The message of the UsageError that `parse` throws for `text`, or "accepted".
template <class Parse>
std::string message_of(Parse parse, const std::string& text) {
  try {
    (void)parse("--x", text);
  } catch (const bnlab::UsageError& e) {
    return e.what();
  }
  return "accepted";
}
template <class T>
std::string refusal(const std::string& text, const bnlab::Range& range = bnlab::kAny) {
  return message_of([&](const std::string& flag, const std::string& t) { return parse_number<T>(flag, t, range); }, text);
}
template <class T>
std::string list_refusal(const std::string& text) { return message_of(parse_list<T>, text); }

}  // namespace

TEST_CASE("integers: decimal digits with an optional sign, within the type's range") {
  CHECK(parse_number<int64_t>("--x", "12") == 12);
  CHECK(parse_number<int64_t>("--x", "+12") == 12);
  CHECK(parse_number<int64_t>("--x", "-3") == -3);
  CHECK(parse_number<int64_t>("--x", "007") == 7);  // decimal, not octal
  CHECK(parse_number<int64_t>("--x", "-0") == 0);
  CHECK(parse_number<int64_t>("--x", "9223372036854775807") == std::numeric_limits<int64_t>::max());
  CHECK(parse_number<int64_t>("--x", "-9223372036854775808") == std::numeric_limits<int64_t>::min());
  CHECK(parse_number<int>("--x", "-2147483648") == std::numeric_limits<int>::min());
  CHECK(parse_number<uint64_t>("--x", "18446744073709551615") == std::numeric_limits<uint64_t>::max());

  CHECK(refusal<int64_t>("") == "--x '': expected an integer (the value is empty)");
  CHECK(refusal<int64_t>(" 3") == "--x ' 3': expected an integer (it holds a space)");
  CHECK(refusal<int64_t>("3\t") == "--x '3\t': expected an integer (it holds a space)");
  CHECK(refusal<int64_t>("0x10") == "--x 0x10: expected an integer in decimal (no 0x, 0b or 0o prefix)");
  CHECK(refusal<int64_t>("0b11") == "--x 0b11: expected an integer in decimal (no 0x, 0b or 0o prefix)");
  CHECK(refusal<int64_t>("1e1") == "--x 1e1: expected an integer");
  CHECK(refusal<int64_t>("3.0") == "--x 3.0: expected an integer");
  CHECK(refusal<int64_t>("1_000") == "--x 1_000: expected an integer");
  CHECK(refusal<int64_t>("+") == "--x +: expected an integer");
  CHECK(refusal<int64_t>("--3") == "--x --3: expected an integer");
  CHECK(refusal<int64_t>("9223372036854775808") == "--x 9223372036854775808: out of range (at most 9223372036854775807)");
  CHECK(refusal<int64_t>("-9223372036854775809") == "--x -9223372036854775809: out of range (at least -9223372036854775808)");
  CHECK(refusal<int64_t>("99999999999999999999999") == "--x 99999999999999999999999: out of range (at most 9223372036854775807)");
  CHECK(refusal<int>("2147483648") == "--x 2147483648: out of range (at most 2147483647)");
  CHECK(refusal<int>("-2147483649") == "--x -2147483649: out of range (at least -2147483648)");
  CHECK(refusal<uint64_t>("-1") == "--x -1: expected a non-negative integer (no minus sign)");
  CHECK(refusal<uint64_t>("18446744073709551616") == "--x 18446744073709551616: out of range (at most 18446744073709551615)");
  // An Arabic-Indic three (U+0663) is a digit to a person but not to the rules.
  CHECK(refusal<int64_t>("\xd9\xa3") == "--x \xd9\xa3: expected an integer");
}

TEST_CASE("numbers: decimal, finite, representable; nothing locale-dependent") {
  CHECK(parse_number<double>("--x", "0.001") == 0.001);
  CHECK(parse_number<double>("--x", "1e-3") == 0.001);
  CHECK(parse_number<double>("--x", "1E+3") == 1000.0);
  CHECK(parse_number<double>("--x", ".5") == 0.5);
  CHECK(parse_number<double>("--x", "5.") == 5.0);
  CHECK(parse_number<double>("--x", "+2.5") == 2.5);
  CHECK(parse_number<double>("--x", "-2.5") == -2.5);
  CHECK(parse_number<double>("--x", "0e999999") == 0.0);
  CHECK(parse_number<double>("--x", "1.7976931348623157e308") == std::numeric_limits<double>::max());

  CHECK(refusal<double>("") == "--x '': expected a number (the value is empty)");
  CHECK(refusal<double>("0.1 ") == "--x '0.1 ': expected a number (it holds a space)");
  CHECK(refusal<double>("0,1") == "--x 0,1: expected a number (the decimal point is '.', not ',')");
  CHECK(refusal<double>("0x1p-3") == "--x 0x1p-3: expected a number in decimal (no 0x, 0b or 0o prefix)");
  CHECK(refusal<double>("nan") == "--x nan: expected a finite number");
  CHECK(refusal<double>("-inf") == "--x -inf: expected a finite number");
  CHECK(refusal<double>("Infinity") == "--x Infinity: expected a finite number");
  CHECK(refusal<double>("1e999") == "--x 1e999: out of range (beyond ±1.8e+308)");
  CHECK(refusal<double>("-1.5e999") == "--x -1.5e999: out of range (beyond ±1.8e+308)");
  CHECK(refusal<double>("1e-400") == "--x 1e-400: out of range (too close to 0 to be represented; write 0 for zero)");
  CHECK(refusal<double>("10000e-330") == "--x 10000e-330: out of range (too close to 0 to be represented; write 0 for zero)");
  CHECK(refusal<double>("1e") == "--x 1e: expected a number");
  CHECK(refusal<double>("1.5.2") == "--x 1.5.2: expected a number");
  CHECK(refusal<double>("0.1abc") == "--x 0.1abc: expected a number");
  CHECK(refusal<float>("1e39") == "--x 1e39: out of range (beyond ±3.4e+38)");

  // The decimal point is '.' whatever the locale says (from_chars reads no locale); where a locale
  // with a decimal comma is installed, setting it must change nothing.
  for (const char* name : {"de_DE.UTF-8", "fr_FR.UTF-8", "C.UTF-8"}) {
    if (std::setlocale(LC_ALL, name) == nullptr) continue;
    CAPTURE(name);
    CHECK(parse_number<double>("--x", "0.25") == 0.25);
    CHECK(refusal<double>("0,25") == "--x 0,25: expected a number (the decimal point is '.', not ',')");
  }
  std::setlocale(LC_ALL, "C");
}

TEST_CASE("lists: every item present and valid") {
  CHECK(parse_list<int64_t>("--x", "128,64") == std::vector<int64_t>{128, 64});
  CHECK(parse_list<int64_t>("--x", "7") == std::vector<int64_t>{7});
  CHECK(parse_list<std::string>("--x", "plain,batchnorm") == std::vector<std::string>{"plain", "batchnorm"});
  CHECK(list_refusal<int64_t>("") == "--x '': item 1 is empty");
  CHECK(list_refusal<int64_t>("128,,64") == "--x 128,,64: item 2 is empty");
  CHECK(list_refusal<int64_t>("128,") == "--x 128,: item 2 is empty");
  CHECK(list_refusal<int64_t>(",128") == "--x ,128: item 1 is empty");
  CHECK(list_refusal<int64_t>("128, 64") == "--x '128, 64': item 2 ' 64' is not an integer (it holds a space)");
  CHECK(list_refusal<int64_t>("0x80") == "--x 0x80: item 1 '0x80' is not an integer in decimal (no 0x, 0b or 0o prefix)");
  CHECK(list_refusal<int64_t>("1,99999999999999999999") ==
        "--x 1,99999999999999999999: item 2 '99999999999999999999' is out of range (at most 9223372036854775807)");
  CHECK(list_refusal<uint64_t>("0,-1") == "--x 0,-1: item 2 '-1' is not a non-negative integer (no minus sign)");
  CHECK(list_refusal<std::string>("plain, batchnorm") == "--x 'plain, batchnorm': item 2 ' batchnorm' holds a space");
  CHECK(list_refusal<std::string>("plain,") == "--x plain,: item 2 is empty");
}

namespace {

// One flag as `bnlab COMMAND --help` lists it: "  --lr FLOAT=0.001   learning rate".
struct Flag {
  std::string command, name, type;  // type "" for an on/off flag
};

std::vector<Flag> flags_of(const std::string& command, const TempDir& dir) {
  const Run r = run_bnlab(command + " --help", dir);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  std::vector<Flag> flags;
  const std::regex line(R"(^\s+(?:-\w,)?(--[a-z0-9-]+)(?: ([^ =]+))?(?:=\S*)?(?:\s{2,}.*)?$)");
  for (const std::string& l : lines_of(r.out)) {
    std::smatch m;
    if (!std::regex_match(l, m, line) || m[1] == "--help" || m[1] == "--version") continue;
    flags.push_back({command, m[1], m[2]});
  }
  return flags;
}

// The bad values of each kind of value, as the help names the kind.
const std::vector<std::string> kBadIntegers = {"",     " 3",  "3 ",     "0x10",  "1e1",
                                               "3.5",  "abc", "3abc",   "1,000", "99999999999999999999",
                                               "\xd9\xa3"};
const std::vector<std::string> kBadReals = {"", " 0.5", "0.5 ", "0x1p-3", "nan", "inf", "-inf", "1e999", "1e-400", "0,5", "abc", "1.5.2"};
const std::vector<std::string> kBadIntegerLists = {"", "4,,4", "4,", ",4", "4, 4", "0x4", "4,abc", "4,99999999999999999999"};
const std::vector<std::string> kBadNameLists = {"", "plain,,batchnorm", "plain,", "plain, batchnorm"};

std::vector<std::string> bad_values(const Flag& f) {
  static const std::map<std::string, std::vector<std::string>> by_type = [] {
    std::vector<std::string> unsigned_ints = kBadIntegers;
    unsigned_ints.push_back("-1");
    return std::map<std::string, std::vector<std::string>>{
        {"INT", kBadIntegers},     {"N", kBadIntegers},          {"PATIENCE", kBadIntegers},          {"G", kBadIntegers},           {"UINT", unsigned_ints},
        {"FLOAT", kBadReals},      {"N,N", kBadIntegerLists},    {"S,S", kBadIntegerLists},     {"H,W,C", kBadIntegerLists},
        {"NAME,NAME", kBadNameLists}, {"TEXT", {""}},            {"PATH", {""}},                {"DIR", {""}},
        {"NAME", {""}},            {"FAMILY", {""}},             {"FILE", {""}}};
  }();
  if (f.type.empty()) return {"maybe"};  // an on/off flag given a value
  if (f.type.find('|') != std::string::npos) return {"", "bogus"};  // one of the values the help lists
  const auto it = by_type.find(f.type);
  if (it == by_type.end()) {
    FAIL_CHECK("bnlab " << f.command << " " << f.name << ": value type " << f.type
                        << " is not in this table; add its bad values");
    return {};
  }
  return it->second;
}

// What a command needs besides the flag under test to get past its own required flags.
std::string required_args(const std::string& command) {
  if (command == "eval") return " --checkpoint none.safetensors";
  if (command == "predict") return " --checkpoint none.safetensors --input none.csv";
  if (command == "report") return " none";
  return "";
}

}  // namespace

TEST_CASE("every flag of every command refuses every bad value of its kind, naming the flag and the value") {
  TempDir dir;
  const fs::path work = dir / "work";
  fs::create_directories(work);
  int flags = 0, cases = 0;
  for (const std::string command : {"train", "compare", "gradcheck", "eval", "predict", "sweep", "study", "report"}) {
    for (const Flag& f : flags_of(command, dir)) {
      ++flags;
      for (const std::string& value : bad_values(f)) {
        ++cases;
        // --flag='value': one shell word, so a value starting with '-' is the flag's, not a flag.
        const Run r = run_shell("cd " + work.string() + " && " + BNLAB_TOOL_PATH + " " + command + required_args(command) +
                                    " " + f.name + "='" + value + "'",
                                dir);
        CAPTURE(command);
        CAPTURE(f.name);
        CAPTURE(value);
        CAPTURE(r.err);
        CHECK(r.status == 2);
        const auto lines = lines_of(r.err);
        REQUIRE(lines.size() == 1);
        CHECK(lines[0].rfind("bnlab: error: ", 0) == 0);
        CHECK(contains(lines[0], f.name));
        if (!value.empty()) CHECK(contains(lines[0], value));
        CHECK(fs::is_empty(work));  // nothing written, not even a temporary file
        record_bad_input(r);
      }
    }
  }
  MESSAGE(flags << " flags of 8 commands, " << cases << " bad values refused");
  CHECK(flags > 100);
}

// Fuzzes the command line (tools/app.hpp): the app main() builds, parsing an argv made of the input
// split at NUL bytes ("train\0--epochs\0003" is `bnlab train --epochs 003`). No command does its
// work: the app stops after parsing, just before CLI11 runs the chosen command's callback, so only
// CLI11's parsing and the flags' own callbacks and checks (list parsing, enum names, ranges,
// required flags) run. Their answers to a bad command line are CLI::ParseError (which includes
// --help), UsageError (and its ConfigError) and InputError; anything else is a finding.
//
// Why not replace each command's callback: a command keeps its flags' storage alive through the
// shared_ptr its callback holds (tools/cmd_report.cpp), so replacing the callback frees the storage
// CLI11 then writes the parsed values into.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "fuzz_common.hpp"
#include "graph/fields.hpp"
#include "tools/app.hpp"

namespace {

// Thrown where CLI11 would start running callbacks: everything has been parsed and checked.
struct Parsed {};

class ParseOnlyApp : public CLI::App {
 public:
  using CLI::App::App;
  void pre_callback() override { throw Parsed{}; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> args{"bnlab"};
  std::string arg;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      args.push_back(std::move(arg));
      arg.clear();
    } else {
      arg += static_cast<char>(data[i]);
    }
  }
  if (size > 0) args.push_back(std::move(arg));
  if (args.size() > 64) return 0;  // a command line, not a list of files
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());

  ParseOnlyApp app{bnlab::tool::app_description, "bnlab"};
  bnlab::tool::CommandResult result;
  bnlab::tool::add_commands(app, result);
  bnlab_fuzz::expect_errors<CLI::ParseError, bnlab::UsageError, bnlab::InputError>("cli", [&] {
    try {
      app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const Parsed&) {
    }
  });
  return 0;
}

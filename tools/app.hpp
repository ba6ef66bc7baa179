// The command line of bnlab as one CLI11 app: the global flags and every subcommand. main() and the
// command-line fuzzer (tests/fuzz/fuzz_cli.cpp) build the same app from here, so what is fuzzed is
// what users run.
//
//   CLI::App app{bnlab::tool::app_description, "bnlab"};
//   bnlab::tool::CommandResult result;
//   bnlab::tool::add_commands(app, result);
//   app.parse(argc, argv);   // runs the chosen command's work in its callback
#pragma once

#include <CLI/CLI.hpp>

#include "tools/command.hpp"

namespace bnlab::tool {

inline constexpr const char* app_description = "bnlab: a static-graph autodiff lab for studying batch normalization";

// --version, "exactly one command", the footer, and each command of command.hpp.
void add_commands(CLI::App& app, CommandResult& result);

// The one line bnlab prints for a CLI11 parse error of `app` (after app.parse threw `e`): an
// unknown flag named with the nearest flags of the command it was given to ("unknown flag --epoch;
// did you mean --epochs?"), a stray argument named as such, the others in CLI11's words.
std::string parse_error_message(const CLI::App& app, const CLI::ParseError& e);

}  // namespace bnlab::tool

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

}  // namespace bnlab::tool

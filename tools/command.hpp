// The subcommands of `bnlab`. Adding one: a file cmd_<name>.cpp defining register_<name>(), its
// declaration here, and one line in app.cpp's list.
//
// A command registers its flags on a CLI11 subcommand and does its work in the subcommand's
// callback. Errors are exceptions (graph/errors.hpp), mapped to exit statuses by main(); a command
// whose work succeeded but whose answer is "no" (gradcheck failing) sets the exit code instead.
#pragma once

#include <CLI/CLI.hpp>

namespace bnlab::lab {}

namespace bnlab::tool {

// The commands are written in terms of the lab library they drive.
using namespace bnlab::lab;

// What a callback reports back to main(): CLI11 callbacks return nothing.
struct CommandResult {
  int exit_code = 0;
};

void register_train(CLI::App& app, CommandResult& result);
void register_compare(CLI::App& app, CommandResult& result);
void register_gradcheck(CLI::App& app, CommandResult& result);
void register_eval(CLI::App& app, CommandResult& result);
void register_predict(CLI::App& app, CommandResult& result);
void register_sweep(CLI::App& app, CommandResult& result);
void register_study(CLI::App& app, CommandResult& result);
void register_report(CLI::App& app, CommandResult& result);

}  // namespace bnlab::tool

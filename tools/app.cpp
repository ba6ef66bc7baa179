#include "tools/app.hpp"

#include <string_view>
#include <vector>

#include "graph/suggest.hpp"
#include "tools/flag_values.hpp"

namespace bnlab::tool {

namespace {

// The command the arguments chose (the deepest one parsed), or the app itself.
const CLI::App& chosen_command(const CLI::App& app) {
  for (const CLI::App* sub : app.get_subcommands()) return chosen_command(*sub);
  return app;
}

std::string command_line_name(const CLI::App& cmd) {
  return cmd.get_parent() == nullptr ? cmd.get_name() : command_line_name(*cmd.get_parent()) + " " + cmd.get_name();
}

bool is_flag(const std::string& arg) {
  // "-3" and "-0.5" are values (a stray number), not flags.
  return arg.size() > 1 && arg[0] == '-' && !(arg[1] >= '0' && arg[1] <= '9') && arg[1] != '.';
}

std::string without_dashes(std::string_view s) {
  while (!s.empty() && s.front() == '-') s.remove_prefix(1);
  return std::string(s);
}

// "unknown flag --epoch; did you mean --epochs?": the flags of the command the user chose, compared
// without their dashes (so the typo distance is the name's).
std::string unknown_argument(const CLI::App& cmd, const std::vector<std::string>& extras) {
  const std::string where = command_line_name(cmd);
  for (const std::string& arg : extras) {
    if (!is_flag(arg)) continue;
    const std::string typed = arg.substr(0, arg.find('='));
    std::vector<std::string> names;
    for (const CLI::Option* opt : cmd.get_options())
      for (const std::string& name : opt->get_lnames()) names.push_back(name);
    std::vector<std::string> near = near_names(without_dashes(typed), names);
    if (near.empty()) return "unknown flag " + typed + " (" + where + " --help lists its flags)";
    return "unknown flag " + typed + "; did you mean --" + near[0] + (near.size() == 2 ? " or --" + near[1] : "") + "?";
  }
  if (cmd.get_subcommands([](const CLI::App*) { return true; }).empty() && cmd.get_parent() != nullptr) {
    // A value without its flag, or a second PATH.
    return "unexpected argument '" + extras.front() + "' (" + where + " --help lists what it takes)";
  }
  return "unexpected argument '" + extras.front() + "'";
}

}  // namespace

void add_commands(CLI::App& app, CommandResult& result) {
  app.set_version_flag("--version", BNLAB_VERSION);
  app.require_subcommand(1);
  register_train(app, result);
  register_compare(app, result);
  register_gradcheck(app, result);
  register_eval(app, result);
  register_predict(app, result);
  register_sweep(app, result);
  register_study(app, result);
  register_report(app, result);
  // Set after the commands are made: CLI11 copies a parent's footer into each new subcommand, and a
  // command's own help should not tell the reader to run a command's help.
  app.footer("Run 'bnlab COMMAND --help' for the flags of a command.");
  refuse_empty_values(app);
}

std::string parse_error_message(const CLI::App& app, const CLI::ParseError& e) {
  const CLI::App& cmd = chosen_command(app);
  const std::vector<std::string> extras = cmd.remaining();
  // "bnlab --bogus" is refused as "A subcommand is required": the unknown flag is the news.
  if (!extras.empty() && (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr || &cmd == &app)) return unknown_argument(cmd, extras);
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) != nullptr) {
    // CLI11: "--epochs: 1 required INT missing", "--epochs: At Most 1 required but received 2".
    const std::string what = e.what();
    const std::string flag = what.substr(0, what.find(':'));
    if (what.find("missing") != std::string::npos) return flag + ": needs a value (bnlab " + cmd.get_name() + " --help says which)";
    if (what.find("At Most") != std::string::npos) return flag + ": given more than once; give it once";
  }
  return e.what();
}

}  // namespace bnlab::tool

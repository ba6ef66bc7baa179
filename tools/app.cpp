#include "tools/app.hpp"

#include "tools/flag_values.hpp"

namespace bnlab::tool {

void add_commands(CLI::App& app, CommandResult& result) {
  app.set_version_flag("--version", BNLAB_VERSION);
  app.require_subcommand(1);
  app.footer("Run 'bnlab COMMAND --help' for the flags of a command.");
  register_train(app, result);
  register_compare(app, result);
  register_gradcheck(app, result);
  register_eval(app, result);
  register_predict(app, result);
  register_sweep(app, result);
  register_study(app, result);
  register_report(app, result);
  refuse_empty_values(app);
}

}  // namespace bnlab::tool

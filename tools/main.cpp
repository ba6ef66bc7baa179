// bnlab: the command line of the batch-normalization lab. main() only wires the subcommands and
// turns every failure into one line on stderr and an exit status (graph/errors.hpp):
// 2 for bad usage or input the user can fix, 1 for a failure while running.
#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>

#include "graph/errors.hpp"
#include "tools/command.hpp"
#include "tools/train_flags.hpp"
#include "train/trainer.hpp"

namespace {

int fail(int status, std::string message) {
  // One line, whatever the message holds: scripts read the last line of stderr.
  for (char& c : message)
    if (c == '\n' || c == '\r') c = ' ';
  std::fprintf(stderr, "bnlab: error: %s\n", message.c_str());
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bnlab: a static-graph autodiff lab for studying batch normalization", "bnlab"};
  app.set_version_flag("--version", BNLAB_VERSION);
  app.require_subcommand(1);
  app.footer("Run 'bnlab COMMAND --help' for the flags of a command.");

  bnlab::tool::CommandResult result;
  bnlab::tool::register_train(app, result);
  bnlab::tool::register_compare(app, result);
  bnlab::tool::register_gradcheck(app, result);
  bnlab::tool::register_eval(app, result);
  bnlab::tool::register_predict(app, result);
  bnlab::tool::register_sweep(app, result);
  bnlab::tool::register_study(app, result);
  bnlab::tool::register_report(app, result);

  // CLI11 would report a mistyped command as "A subcommand is required"; name it instead.
  if (argc > 1 && argv[1][0] != '-') {
    std::string known;
    bool found = false;
    for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
      known += (known.empty() ? "" : ", ") + sub->get_name();
      found = found || sub->get_name() == argv[1];
    }
    if (!found) return fail(2, std::string("unknown command '") + argv[1] + "' (known: " + known + ")");
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    return fail(2, e.what());
  } catch (const bnlab::ConfigError& e) {
    return fail(2, bnlab::tool::flag_error(e).what());  // the library names the field, we name the flag
  } catch (const bnlab::UsageError& e) {
    return fail(2, e.what());
  } catch (const bnlab::InputError& e) {
    return fail(2, e.what());
  } catch (const bnlab::ShapeError& e) {
    return fail(2, e.what());
  } catch (const bnlab::NonFiniteError& e) {
    return fail(1, std::string(e.what()) + " (try a smaller --lr, or --on-nonfinite skip)");
  } catch (const std::exception& e) {
    return fail(1, e.what());
  } catch (...) {
    return fail(1, "unknown failure");
  }
  return result.exit_code;
}

// bnlab: the command line of the batch-normalization lab. main() only wires the subcommands and
// turns every failure into one line on stderr and an exit status (graph/errors.hpp):
// 2 for bad usage or input the user can fix, 1 for a failure while running.
// Under mpirun every rank runs main(): an error that every rank meets alike (a bad flag) is printed
// once, by rank 0; one that some ranks meet while setting up is agreed on (dist::World::setup) and
// printed by rank 0, one line per failing rank; one that a rank meets once the ranks are in lockstep
// is printed by that rank, naming it, and ends the job (MPI_Abort), since the others wait for it
// inside a collective.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "dist/world.hpp"
#include "graph/errors.hpp"
#include "graph/suggest.hpp"
#include "tools/app.hpp"
#include "tools/command.hpp"
#include "tools/train_flags.hpp"
#include "train/trainer.hpp"

namespace {

void print_error(std::string message) {
  // One line, whatever the message holds: scripts read the last line of stderr.
  for (char& c : message)
    if (c == '\n' || c == '\r') c = ' ';
  std::fprintf(stderr, "bnlab: error: %s\n", message.c_str());
  std::fflush(stderr);
}

int fail(int status, std::string message) {
  bnlab::dist::World& world = bnlab::dist::World::get();
  if (world.in_lockstep() && world.distributed()) {
    // The other ranks are inside a collective, waiting for this one: end the job.
    print_error(world.rank_name(world.rank()) + ": " + message);
    world.abort(status);
  }
  if (world.rank() == 0) print_error(std::move(message));
  bnlab::dist::World::finalize();
  return status;
}

// The subcommands that run as several ranks of one mpirun job.
bool runs_distributed(const std::string& command) {
  return command == "train" || command == "compare" || command == "sweep" || command == "study";
}

}  // namespace

int main(int argc, char** argv) {
  try {
    bnlab::dist::World::init(argc, argv);
  } catch (const std::exception& e) {
    return fail(2, e.what());
  }
  const bnlab::dist::World& world = bnlab::dist::World::get();
  CLI::App app{bnlab::tool::app_description, "bnlab"};
  bnlab::tool::CommandResult result;
  bnlab::tool::add_commands(app, result);

  // CLI11 would report a mistyped command as "A subcommand is required"; name it instead.
  if (argc > 1 && argv[1][0] != '-') {
    std::vector<std::string> known;
    for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) known.push_back(sub->get_name());
    if (std::find(known.begin(), known.end(), argv[1]) == known.end()) return fail(2, bnlab::unknown_name("command", argv[1], known));
    if (world.distributed() && !runs_distributed(argv[1]))
      return fail(2, std::string("bnlab ") + argv[1] + " does not run as " + std::to_string(world.size()) +
                         " mpirun ranks (train and compare with --data-parallel, sweep and study do); run it without mpirun");
  }

  try {
    app.parse(argc, argv);
  } catch (const bnlab::dist::DistributedFailure& e) {
    // Every rank knows every failure; rank 0 says them.
    if (world.rank() == 0)
      for (const std::string& line : e.lines(world.size())) print_error(line);
    // In lockstep (a worker's run failed: dist/work_queue.hpp) the other ranks are still busy: end the job.
    if (world.in_lockstep()) bnlab::dist::World::get().abort(e.status);
    bnlab::dist::World::finalize();
    return e.status;
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {  // --help, --version: once, from rank 0
      const int status = world.rank() == 0 ? app.exit(e) : 0;
      bnlab::dist::World::finalize();
      return status;
    }
    return fail(2, bnlab::tool::parse_error_message(app, e));
  } catch (const bnlab::ConfigError& e) {
    return fail(2, bnlab::tool::flag_error(e).what());  // the library names the field, we name the flag
  } catch (const bnlab::UsageError& e) {
    return fail(2, e.what());
  } catch (const bnlab::InputError& e) {
    return fail(2, e.what());
  } catch (const bnlab::ShapeError& e) {
    return fail(2, e.what());
  } catch (const bnlab::NonFiniteError& e) {
    // Data-parallel ranks decide on the summed loss and gradients, so every rank stops at the same
    // step with the same message: no rank waits for another, and rank 0 alone says it.
    if (world.in_lockstep() && world.distributed()) {
      if (world.rank() == 0) print_error(std::string(e.what()) + " (try a smaller --lr, or --on-nonfinite skip)");
      bnlab::dist::World::finalize();
      return 1;
    }
    return fail(1, std::string(e.what()) + " (try a smaller --lr, or --on-nonfinite skip)");
  } catch (const std::exception& e) {
    return fail(1, e.what());
  } catch (...) {
    return fail(1, "unknown failure");
  }
  bnlab::dist::World::finalize();
  return result.exit_code;
}

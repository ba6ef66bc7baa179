// Helpers for the suites that run bnlab as several ranks of one mpirun job (test_mpi*): run it
// under mpirun on the loopback, as root if need be, with stdout and stderr captured; start each
// rank through a wrapper script, so that one rank can be given another folder or environment
// (a data file missing on one host, a fault on one rank).
//
//   bnlab::test::TempDir dir;
//   Run r = run_mpirun(2, "sweep --dataset synthetic --epochs 1 --quiet", dir);
//   CHECK(r.status == 0);
#pragma once

#include <unistd.h>

#include <string>
#include <vector>

#include "cli_test_support.hpp"

namespace bnlab::test {

// `mpirun -np N PROGRAM args` (PROGRAM: the bnlab binary unless a wrapper is given), stdout and
// stderr captured in files of `dir`. --oversubscribe: 3 ranks on 2 cores; -q: fewer banners.
inline Run run_mpirun(int ranks, const std::string& args, const TempDir& dir, const std::string& program = BNLAB_TOOL_PATH) {
  return run_shell(std::string(BNLAB_MPIRUN) + " --allow-run-as-root --oversubscribe -q -np " + std::to_string(ranks) + " " +
                       program + " " + args,
                   dir);
}

// A script that starts bnlab as rank $OMPI_COMM_WORLD_RANK after `prelude` (shell lines that may
// read $RANK), passing on its arguments. Returns its path.
inline std::string write_rank_wrapper(const TempDir& dir, const std::string& name, const std::string& prelude) {
  const std::string path = dir / name;
  {
    std::ofstream f(path);
    f << "#!/bin/sh\nRANK=$OMPI_COMM_WORLD_RANK\n" << prelude << "\nexec " << BNLAB_TOOL_PATH << " \"$@\"\n";
  }
  fs::permissions(path, fs::perms::owner_all);
  return path;
}

// The lines of `err` that bnlab wrote (mpirun adds its own notices when a rank fails).
inline std::vector<std::string> bnlab_errors(const std::string& err) {
  std::vector<std::string> found;
  for (const std::string& line : lines_of(err))
    if (line.rfind("bnlab: error: ", 0) == 0) found.push_back(line);
  return found;
}

inline std::string this_host() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

}  // namespace bnlab::test

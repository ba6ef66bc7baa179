// The processes of one `mpirun` job and what bnlab needs from them: who am I (rank, host), the
// Collective the data-parallel trainer and synchronized batch norm sum through, agreement on
// errors, and strings sent between ranks (distributed sweeps and studies). The only header of
// bnlab that stands for MPI; the only folder that includes <mpi.h> is dist/.
//
//   bnlab::dist::World& w = bnlab::dist::World::init(argc, argv);  // MPI_Init only under mpirun
//   if (w.size() > 1) trainer_options.collective = &w.collective();
//   …
//   bnlab::dist::World::finalize();                                 // MPI_Finalize, once, at exit
//
// A build without MPI (BNLAB_HAVE_MPI undefined: libopenmpi-dev was not installed when it was
// configured) still has World: a world of one process whose collective sums nothing. Started by
// mpirun, such a build refuses to run (init throws UsageError saying how to rebuild).
#pragma once

#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "graph/collective.hpp"

namespace bnlab::dist {

// Whether this bnlab was built with MPI.
bool built_with_mpi();
// Whether the environment says mpirun (or another MPI launcher) started this process with more
// than one rank, read without initializing MPI (OMPI_COMM_WORLD_SIZE, PMI_SIZE, PMIX_SIZE …).
bool launched_by_mpirun();

// One rank's failure, as every rank learns it from World::agree.
struct RankFailure {
  int rank = 0;
  std::string host;
  int status = 1;       // the exit status the rank's error maps to (2: usage or input, 1: running)
  std::string message;
};

// The failures of one or more ranks during a setup phase (World::setup), known to every rank.
struct DistributedFailure : std::runtime_error {
  std::vector<RankFailure> failures;  // rank order
  int status = 1;                     // the largest of their statuses
  explicit DistributedFailure(std::vector<RankFailure> f);
  // One line per failing rank ("rank 1 on node7: …"), or the message alone when every rank failed
  // with the same one.
  std::vector<std::string> lines(int ranks) const;
};

// The exit status bnlab gives an exception (graph/errors.hpp): 2 for usage or input, 1 otherwise.
int exit_status_of(const std::exception& e);

// A string received from another rank (World::poll / receive).
struct Message {
  int from = 0;
  int tag = 0;
  std::string text;
};

class World {
 public:
  // The world of this process: MPI_Init_thread (MPI_THREAD_FUNNELED: only the main thread calls
  // MPI; the kernels' pool threads never do) when launched_by_mpirun(), a world of one otherwise.
  // Called once from main() before anything else; later calls return the same world.
  static World& init(int& argc, char**& argv);
  static World& get();  // init()'s world (a world of one if init was never called)
  // MPI_Finalize if MPI was initialized; safe to call more than once.
  static void finalize();

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool distributed() const { return size_ > 1; }
  const std::string& host() const { return host_; }
  // "rank 1 on node7": how messages name a rank.
  std::string rank_name(int rank) const;

  // MPI_Allreduce(MPI_SUM) over MPI_COMM_WORLD. NOTE: Open MPI picks its reduction algorithm from
  // the communicator size and the message length only, so for a given rank count the order of the
  // additions is fixed and every rank gets the same bits; the trainer checks the second claim
  // (World::same_everywhere on a hash of the parameters after every epoch).
  Collective& collective();

  // Collective: every rank passes "" (success) or its error and status; every rank gets the
  // failures of all ranks, in rank order (empty when every rank succeeded).
  std::vector<RankFailure> agree(const std::string& error, int status);
  // Collective: runs `setup` (loading data, building trainers, checking flags) on every rank, then
  // agrees. When every rank succeeded the ranks are in lockstep from here on; when any failed,
  // every rank throws the same DistributedFailure (so no rank is left waiting in a collective).
  // In a world of one, setup's exception propagates unchanged.
  template <class F>
  void setup(F&& setup);
  // After a successful setup(): an error on one rank can no longer be agreed on (the others may be
  // inside a collective), so main() ends the job with abort().
  bool in_lockstep() const { return lockstep_; }

  // Collective: whether every rank passed the same value.
  bool same_everywhere(uint64_t value);
  void barrier();
  // Collective: rank 0's text on every rank.
  std::string broadcast(const std::string& text);

  // Point to point. send blocks until the text is handed to MPI; receive waits for a message from
  // `from` (or any rank, from = -1) with `tag`; poll returns one if it has arrived, without waiting.
  void send(int to, int tag, const std::string& text);
  Message receive(int from, int tag);
  std::optional<Message> poll(int tag);

  // Ends every rank of the job now (MPI_Abort) with `status`: for an error on one rank while the
  // others are inside a collective and cannot learn of it any other way.
  [[noreturn]] void abort(int status);

 private:
  World() = default;
  int rank_ = 0;
  int size_ = 1;
  std::string host_;
  bool mpi_ = false;
  bool lockstep_ = false;
};

template <class F>
void World::setup(F&& f) {
  if (!mpi_) {
    f();
    return;
  }
  std::string error;
  int status = 0;
  try {
    f();
  } catch (const std::exception& e) {
    error = e.what();
    status = exit_status_of(e);
  }
  std::vector<RankFailure> failures = agree(error, status);
  // Every rank knows of the failure and none waits in a collective: each can end on its own.
  lockstep_ = failures.empty();
  if (!failures.empty()) throw DistributedFailure(std::move(failures));
}

}  // namespace bnlab::dist

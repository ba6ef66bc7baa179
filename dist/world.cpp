#include "dist/world.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "graph/errors.hpp"

#ifdef BNLAB_HAVE_MPI
#include <mpi.h>
#endif

namespace bnlab::dist {

namespace {

std::string hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown host";
  return buf;
}

// A world of one process: every collective is the identity.
class LocalCollective : public Collective {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void sum(std::span<float>) override {}
  void sum(std::span<double>) override {}
};

#ifdef BNLAB_HAVE_MPI
void check(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw RuntimeError(std::string(what) + " failed: " + text);
}

class MpiCollective : public Collective {
 public:
  MpiCollective(int rank, int size) : rank_(rank), size_(size) {}
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void sum(std::span<float> v) override { reduce(v.data(), v.size(), MPI_FLOAT); }
  void sum(std::span<double> v) override { reduce(v.data(), v.size(), MPI_DOUBLE); }

 private:
  void reduce(void* data, size_t n, MPI_Datatype type) {
    if (n == 0) return;
    check(MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(n), type, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
  }
  int rank_, size_;
};
#endif

}  // namespace

DistributedFailure::DistributedFailure(std::vector<RankFailure> f)
    : std::runtime_error(f.empty() ? "no failure" : "rank " + std::to_string(f.front().rank) + " on " + f.front().host + ": " +
                                                      f.front().message),
      failures(std::move(f)) {
  for (const RankFailure& r : failures) status = std::max(status, r.status);
}

std::vector<std::string> DistributedFailure::lines(int ranks) const {
  bool same = static_cast<int>(failures.size()) == ranks;
  for (const RankFailure& r : failures) same = same && r.message == failures.front().message;
  if (same) return {failures.front().message};  // a bad flag: every rank says the same
  std::vector<std::string> out;
  for (const RankFailure& r : failures) out.push_back("rank " + std::to_string(r.rank) + " on " + r.host + ": " + r.message);
  return out;
}

int exit_status_of(const std::exception& e) {
  if (dynamic_cast<const UsageError*>(&e) || dynamic_cast<const InputError*>(&e) || dynamic_cast<const ShapeError*>(&e))
    return 2;
  if (const auto* d = dynamic_cast<const DistributedFailure*>(&e)) return d->status;
  return 1;
}

bool built_with_mpi() {
#ifdef BNLAB_HAVE_MPI
  return true;
#else
  return false;
#endif
}

bool launched_by_mpirun() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE", "MPI_LOCALNRANKS"}) {
    const char* v = std::getenv(name);
    if (v != nullptr && std::atoi(v) > 1) return true;
  }
  return false;
}

namespace {
World* g_world = nullptr;
LocalCollective g_local;
#ifdef BNLAB_HAVE_MPI
bool g_finalized = false;
std::unique_ptr<MpiCollective> g_mpi;
#endif
}  // namespace

World& World::init(int& argc, char**& argv) {
  if (g_world) return *g_world;
  g_world = new World();
  World& w = *g_world;
  w.host_ = hostname();
  if (!launched_by_mpirun()) return w;
#ifdef BNLAB_HAVE_MPI
  int provided = 0;
  check(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  w.mpi_ = true;
  // Errors come back as codes (check() turns them into exceptions) instead of ending the job.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &w.rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &w.size_);
  g_mpi = std::make_unique<MpiCollective>(w.rank_, w.size_);
#else
  (void)argc;
  (void)argv;
  throw UsageError(
      "this bnlab was built without MPI, so it cannot run as one of several mpirun ranks; install Open MPI "
      "(scripts/install-deps) and rebuild (scripts/build), or run bnlab without mpirun");
#endif
  return w;
}

World& World::get() {
  if (!g_world) {
    g_world = new World();
    g_world->host_ = hostname();
  }
  return *g_world;
}

void World::finalize() {
#ifdef BNLAB_HAVE_MPI
  if (g_world && g_world->mpi_ && !g_finalized) {
    g_finalized = true;
    MPI_Finalize();
  }
#endif
}

std::string World::rank_name(int rank) const {
  if (rank == rank_) return "rank " + std::to_string(rank) + " on " + host_;
  return "rank " + std::to_string(rank);
}

Collective& World::collective() {
#ifdef BNLAB_HAVE_MPI
  if (mpi_) return *g_mpi;
#endif
  return g_local;
}

#ifdef BNLAB_HAVE_MPI
namespace {
// Every rank's string, in rank order (MPI_Allgather of the lengths, MPI_Allgatherv of the bytes).
std::vector<std::string> all_gather(const std::string& mine, int size) {
  const int n = static_cast<int>(mine.size());
  std::vector<int> lengths(static_cast<size_t>(size)), offsets(static_cast<size_t>(size));
  check(MPI_Allgather(&n, 1, MPI_INT, lengths.data(), 1, MPI_INT, MPI_COMM_WORLD), "MPI_Allgather");
  int total = 0;
  for (int r = 0; r < size; ++r) {
    offsets[static_cast<size_t>(r)] = total;
    total += lengths[static_cast<size_t>(r)];
  }
  std::string all(static_cast<size_t>(total), '\0');
  check(MPI_Allgatherv(mine.data(), n, MPI_CHAR, all.data(), lengths.data(), offsets.data(), MPI_CHAR, MPI_COMM_WORLD),
        "MPI_Allgatherv");
  std::vector<std::string> out;
  for (int r = 0; r < size; ++r)
    out.push_back(all.substr(static_cast<size_t>(offsets[static_cast<size_t>(r)]), static_cast<size_t>(lengths[static_cast<size_t>(r)])));
  return out;
}
}  // namespace
#endif

std::vector<RankFailure> World::agree(const std::string& error, int status) {
  std::vector<RankFailure> failures;
  if (!mpi_) {
    if (!error.empty() || status != 0) failures.push_back({rank_, host_, status == 0 ? 1 : status, error});
    return failures;
  }
#ifdef BNLAB_HAVE_MPI
  // "<status> <host>\n<message>" from every rank; status 0 = success.
  const bool failed = !error.empty() || status != 0;
  const std::string mine = std::to_string(failed ? (status == 0 ? 1 : status) : 0) + " " + host_ + "\n" + error;
  const std::vector<std::string> all = all_gather(mine, size_);
  for (int r = 0; r < size_; ++r) {
    const std::string& s = all[static_cast<size_t>(r)];
    const size_t space = s.find(' '), newline = s.find('\n');
    const int st = std::atoi(s.substr(0, space).c_str());
    if (st == 0) continue;
    failures.push_back({r, s.substr(space + 1, newline - space - 1), st, s.substr(newline + 1)});
  }
#endif
  return failures;
}

bool World::same_everywhere(uint64_t value) {
  if (!mpi_) return true;
#ifdef BNLAB_HAVE_MPI
  unsigned long long lo = value, hi = value;
  check(MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, MPI_COMM_WORLD), "MPI_Allreduce");
  check(MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
  return lo == hi;
#else
  (void)value;
  return true;
#endif
}

void World::barrier() {
#ifdef BNLAB_HAVE_MPI
  if (mpi_) check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
#endif
}

std::string World::broadcast(const std::string& text) {
  if (!mpi_) return text;
#ifdef BNLAB_HAVE_MPI
  unsigned long long n = text.size();
  check(MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD), "MPI_Bcast");
  std::string out = rank_ == 0 ? text : std::string(static_cast<size_t>(n), '\0');
  check(MPI_Bcast(out.data(), static_cast<int>(n), MPI_CHAR, 0, MPI_COMM_WORLD), "MPI_Bcast");
  return out;
#else
  return text;
#endif
}

void World::send(int to, int tag, const std::string& text) {
#ifdef BNLAB_HAVE_MPI
  if (mpi_) {
    check(MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, to, tag, MPI_COMM_WORLD), "MPI_Send");
    return;
  }
#endif
  (void)to;
  (void)tag;
  (void)text;
  throw RuntimeError("World::send in a world of one process");
}

#ifdef BNLAB_HAVE_MPI
namespace {
Message receive_probed(const MPI_Status& st) {
  int n = 0;
  MPI_Get_count(&st, MPI_CHAR, &n);
  Message m{st.MPI_SOURCE, st.MPI_TAG, std::string(static_cast<size_t>(n), '\0')};
  check(MPI_Recv(m.text.data(), n, MPI_CHAR, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv");
  return m;
}
}  // namespace
#endif

Message World::receive(int from, int tag) {
#ifdef BNLAB_HAVE_MPI
  if (mpi_) {
    MPI_Status st;
    check(MPI_Probe(from < 0 ? MPI_ANY_SOURCE : from, tag, MPI_COMM_WORLD, &st), "MPI_Probe");
    return receive_probed(st);
  }
#endif
  (void)from;
  (void)tag;
  throw RuntimeError("World::receive in a world of one process");
}

std::optional<Message> World::poll(int tag) {
#ifdef BNLAB_HAVE_MPI
  if (mpi_) {
    int flag = 0;
    MPI_Status st;
    check(MPI_Iprobe(MPI_ANY_SOURCE, tag, MPI_COMM_WORLD, &flag, &st), "MPI_Iprobe");
    if (!flag) return std::nullopt;
    return receive_probed(st);
  }
#endif
  (void)tag;
  return std::nullopt;
}

void World::abort(int status) {
#ifdef BNLAB_HAVE_MPI
  if (mpi_) MPI_Abort(MPI_COMM_WORLD, status);
#endif
  std::_Exit(status);
}

}  // namespace bnlab::dist

// End-to-end: `mpirun -np N bnlab sweep|study` spreads the runs over the ranks (a work queue from
// rank 0, dist/work_queue.hpp) and gives what the serial command gives, run for run, but the
// times; it resumes from rank 0's run store; and a failure on one rank — a data file missing during
// setup, an error while training, a killed rank — ends every rank with one message naming it.
// The synthetic dataset and one epoch keep the whole suite to well under a minute on 2 cores.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <set>
#include <thread>

#include "mpi_test_support.hpp"

using namespace bnlab::test;

namespace {

const std::string kSweep = "sweep --dataset synthetic --epochs 1 --batch-sizes 32,64,128 --seeds 0,1";
const std::vector<std::string> kSweepRuns = {"plain-bs32-seed0",  "batchnorm-bs32-seed0",  "plain-bs64-seed0",  "batchnorm-bs64-seed0",
                                             "plain-bs128-seed0", "batchnorm-bs128-seed0", "plain-bs32-seed1",  "batchnorm-bs32-seed1",
                                             "plain-bs64-seed1",  "batchnorm-bs64-seed1",  "plain-bs128-seed1", "batchnorm-bs128-seed1"};

// A run file or a whole metrics document without the fields that differ between identical runs:
// the times, and the summary's seconds per epoch.
json run_without_times(json run) {
  json doc = {{"runs", json::array({std::move(run)})}};
  return without_times(doc)["runs"][0];
}
json sweep_without_times(json doc) {
  doc = without_times(std::move(doc));
  json& summary = doc["sweep"]["summary"];
  const auto& cols = summary["columns"];
  const size_t seconds = static_cast<size_t>(std::find(cols.begin(), cols.end(), "s/epoch") - cols.begin());
  REQUIRE(seconds < cols.size());
  for (json& row : summary["rows"]) row.erase(seconds);
  return doc;
}

// The summary printed at the end of stderr (from its first table's header, "variant …", on; the
// progress lines before it differ between a quiet serial sweep and rank 0's), each line of the table
// that has seconds per epoch cut where that column begins, and the output folder `dir` named OUT.
std::vector<std::string> summary_without_times(const std::string& err, const std::string& dir) {
  std::vector<std::string> lines = lines_of(err);
  const auto header = std::find_if(lines.begin(), lines.end(), [](const std::string& l) { return l.rfind("variant", 0) == 0; });
  REQUIRE(header != lines.end());
  lines.erase(lines.begin(), header);
  for (std::string& l : lines)
    for (size_t at; (at = l.find(dir)) != std::string::npos;) l.replace(at, dir.size(), "OUT");
  size_t cut = std::string::npos;
  bool found = false;
  for (std::string& l : lines) {
    // The seconds column comes after "test loss": cut where that column ends (its header is right-
    // aligned, so "s/epoch" itself starts inside wider cells, and a slower build widens them).
    if (l.find("s/epoch") != std::string::npos && l.find("test loss") != std::string::npos) {
      cut = l.find("test loss") + std::string("test loss").size();
      found = true;
    }
    if (cut != std::string::npos) l = l.substr(0, std::min(cut, l.size()));
  }
  CHECK(found);
  return lines;
}

void check_same_runs(const std::string& serial_out, const std::string& mpi_out, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    CAPTURE(name);
    const std::string a = serial_out + "/runs/" + name + ".json", b = mpi_out + "/runs/" + name + ".json";
    REQUIRE(fs::exists(a));
    REQUIRE(fs::exists(b));
    CHECK(run_without_times(read_json(a)) == run_without_times(read_json(b)));
  }
}

}  // namespace

TEST_CASE("a sweep over 2 ranks equals the serial sweep run for run, and resumes from rank 0's store") {
  TempDir dir;
  const std::string serial = dir / "serial", spread = dir / "spread";
  const Run one = run_bnlab(kSweep + " --quiet --out " + serial, dir);
  INFO(one.err);
  REQUIRE(one.status == 0);
  const Run two = run_mpirun(2, kSweep + " --out " + spread, dir);
  INFO(two.err);
  REQUIRE(two.status == 0);

  check_same_runs(serial, spread, kSweepRuns);
  CHECK(sweep_without_times(read_json(serial + "/metrics.json")) == sweep_without_times(read_json(spread + "/metrics.json")));
  // Only rank 0 prints: the same summary, once.
  CHECK(summary_without_times(one.err, serial) == summary_without_times(two.err, spread));
  CHECK(two.out.empty());
  CHECK(contains(two.err, "sweep: 12 runs (12 trained, 0 reused)"));
  CHECK(fs::exists(spread + "/report.md"));
  // Rank 0's progress names who trains what; both ranks trained.
  CHECK(contains(two.err, "spread over 2 ranks"));
  CHECK(contains(two.err, ": training on rank 0"));
  CHECK(contains(two.err, ": training on rank 1"));
  CHECK(bnlab_errors(two.err).empty());

  // Resume: two lost runs are trained again (by whichever rank), the rest reused untouched.
  const auto stamp = fs::last_write_time(spread + "/runs/plain-bs32-seed0.json");
  fs::remove(spread + "/runs/batchnorm-bs64-seed0.json");
  fs::remove(spread + "/runs/plain-bs128-seed1.json");
  const Run resumed = run_mpirun(2, kSweep + " --out " + spread, dir);
  INFO(resumed.err);
  REQUIRE(resumed.status == 0);
  CHECK(contains(resumed.err, "sweep: 12 runs (2 trained, 10 reused)"));
  CHECK(fs::last_write_time(spread + "/runs/plain-bs32-seed0.json") == stamp);
  check_same_runs(serial, spread, kSweepRuns);
  CHECK(sweep_without_times(read_json(serial + "/metrics.json")) == sweep_without_times(read_json(spread + "/metrics.json")));

  // A stored run of another configuration is refused by rank 0 before anything trains: one message.
  const Run changed = run_mpirun(2, "sweep --dataset synthetic --epochs 2 --batch-sizes 32 --seeds 0 --quiet --out " + spread, dir);
  CAPTURE(changed.err);
  CHECK(changed.status == 2);
  const auto errors = bnlab_errors(changed.err);
  REQUIRE(errors.size() == 1);
  CHECK(contains(errors[0], "rank 0 on " + this_host()));
  CHECK(contains(errors[0], "epochs: 1 there, 2 now"));
}

TEST_CASE("3 ranks and fewer runs than ranks; one rank is serial") {
  TempDir dir;
  const std::string args = "sweep --dataset synthetic --epochs 1 --batch-sizes 64 --seeds 0 --quiet --out ";
  const Run one = run_bnlab(args + (dir / "serial"), dir);
  REQUIRE(one.status == 0);
  const Run three = run_mpirun(3, args + (dir / "three"), dir);
  INFO(three.err);
  REQUIRE(three.status == 0);
  CHECK(contains(three.err, "sweep: 2 runs (2 trained, 0 reused)"));
  check_same_runs(dir / "serial", dir / "three", {"plain-bs64-seed0", "batchnorm-bs64-seed0"});
  CHECK(sweep_without_times(read_json(dir / "serial/metrics.json")) == sweep_without_times(read_json(dir / "three/metrics.json")));

  const Run single = run_mpirun(1, "sweep --dataset synthetic --epochs 1 --batch-sizes 64 --seeds 0 --out " + (dir / "single"), dir);
  INFO(single.err);
  REQUIRE(single.status == 0);
  CHECK(!contains(single.err, "rank"));  // a world of one: the serial command's lines
  check_same_runs(dir / "serial", dir / "single", {"plain-bs64-seed0", "batchnorm-bs64-seed0"});
}

TEST_CASE("a study over 2 ranks equals the serial study") {
  TempDir dir;
  const std::string args = "study --dataset synthetic --items 5,7 --epochs 1 --seeds 0 --out ";
  const Run one = run_bnlab(args + (dir / "serial") + " --quiet", dir);
  INFO(one.err);
  REQUIRE(one.status == 0);
  const Run two = run_mpirun(2, args + (dir / "spread"), dir);
  INFO(two.err);
  REQUIRE(two.status == 0);
  CHECK(contains(two.err, "training (1 epochs) on rank 1"));
  const json a = read_json(dir / "serial/metrics.json"), b = read_json(dir / "spread/metrics.json");
  REQUIRE(a["runs"].size() > 4);
  CHECK(without_times(a)["runs"] == without_times(b)["runs"]);
  CHECK(a["study"]["items"] == b["study"]["items"]);
  CHECK(b["study"]["runs_trained"] == a["runs"].size());
  std::vector<std::string> names;
  for (const json& r : a["runs"]) names.push_back(r["name"]);
  check_same_runs(dir / "serial", dir / "spread", names);
  CHECK(fs::exists(dir / "spread/report.md"));
  CHECK(contains(two.err, "small batches"));
}

TEST_CASE("a data file missing on rank 1 stops every rank during setup with one message naming it") {
  TempDir dir;
  // Each rank runs in its own folder with --data-dir data: rank 0's holds the files, rank 1's is empty.
  fs::create_directories(dir / "rank0/data");
  fs::create_directories(dir / "rank1/data");
  write_mnist_like(dir / "rank0/data", {.train = 200, .test = 40, .side = 4});
  const std::string wrapper = write_rank_wrapper(dir, "in-rank-folder.sh", "cd " + (dir / "rank$RANK") + " || exit 9");
  const Run r = run_mpirun(2, "sweep --dataset mnist --data-dir data --epochs 1 --batch-sizes 32 --quiet --out " + (dir / "out"), dir,
                           wrapper);
  CAPTURE(r.err);
  CHECK(r.status == 2);
  const auto errors = bnlab_errors(r.err);
  REQUIRE(errors.size() == 1);
  CHECK(contains(errors[0], "rank 1 on " + this_host()));
  CHECK(contains(errors[0], "train-images"));
  CHECK(!fs::exists(dir / "out/runs/plain-bs32-seed0.json"));
}

TEST_CASE("an error while training on rank 1 ends the job, names the rank, and keeps the finished runs") {
  TempDir dir;
  const std::string out = dir / "out";
  // Rank 1 trains its first run (the queue's first: plain-bs32-seed0), then fails on its next.
  const std::string wrapper = write_rank_wrapper(dir, "fault.sh", "[ \"$RANK\" = 1 ] && export BNLAB_FAULT_AFTER_GROUPS=1");
  const auto start = std::chrono::steady_clock::now();
  const Run r = run_mpirun(2, kSweep + " --out " + out, dir, wrapper);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CAPTURE(r.err);
  CHECK(r.status == 1);
  CHECK(seconds < 60);
  const auto errors = bnlab_errors(r.err);
  REQUIRE(errors.size() == 1);
  CHECK(contains(errors[0], "rank 1 on " + this_host()));
  CHECK(contains(errors[0], "fault injected"));
  // Every finished run is kept whole; nothing is half-written; the sweep did not complete.
  CHECK(fs::exists(out + "/runs/plain-bs32-seed0.json"));
  size_t kept = 0;
  for (const auto& e : fs::directory_iterator(out + "/runs"))
    if (e.path().extension() == ".json") {
      CHECK(read_json(e.path())["status"] == "finished");
      ++kept;
    }
  CHECK(kept < kSweepRuns.size());
  CHECK(leftover_tmp_files(out).empty());
  CHECK(!contains(r.err, "sweep: 12 runs"));
}

TEST_CASE("a killed rank ends the job: rank 0 does not wait for it") {
  TempDir dir;
  const std::string pids = dir / "pids";
  fs::create_directories(pids);
  // Each rank leaves its pid (exec keeps it) so the test can kill rank 1. The sweep must still be
  // training when the kill comes, 2 s after rank 1 started, on any CPU: a Zen 4 trains an epoch of
  // this model at batch 2 in 0.02 s, so 30 epochs per run ended the whole sweep first; 3000 epochs
  // per run last minutes there (the job ends at the kill, so the test does not wait for them).
  const std::string wrapper = write_rank_wrapper(dir, "pid.sh", "echo $$ > " + pids + "/rank$RANK");
  const std::string command = std::string(BNLAB_MPIRUN) + " --allow-run-as-root --oversubscribe -q -np 2 " + wrapper +
                              " sweep --dataset synthetic --variants plain --epochs 3000 --batch-sizes 2,4 --seeds 0,1,2 --quiet --out " + (dir / "out") +
                              " >" + (dir / "out.txt") + " 2>" + (dir / "err.txt") + " </dev/null";
  const pid_t shell = fork();
  REQUIRE(shell >= 0);
  if (shell == 0) {
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto start = std::chrono::steady_clock::now();
  auto waited = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  while (!fs::exists(pids + "/rank1") && waited() < 30) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(fs::exists(pids + "/rank1"));
  std::this_thread::sleep_for(std::chrono::seconds(2));  // into the training
  const pid_t rank1 = std::stoi(read_text(pids + "/rank1"));
  REQUIRE(kill(rank1, SIGKILL) == 0);
  const auto killed = waited();
  int raw = 0;
  pid_t done = 0;
  while ((done = waitpid(shell, &raw, WNOHANG)) == 0 && waited() - killed < 30) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  if (done == 0) {  // hung: end mpirun (and with it rank 0) before failing
    kill(shell, SIGKILL);
    waitpid(shell, &raw, 0);
  }
  CAPTURE(read_text(dir / "err.txt"));
  REQUIRE(done == shell);
  CHECK(waited() - killed < 30);
  CHECK(WIFEXITED(raw));
  CHECK(WEXITSTATUS(raw) != 0);
  CHECK(leftover_tmp_files(dir / "out").empty());
}

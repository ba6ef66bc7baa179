// Runs that share a folder (issue 15, point 3), end to end: a sweep or study holds its --out
// directory's lock while it runs, so a second one there stops at once naming the first (and a lock
// left by a killed process blocks nothing); `bnlab report` reads such a folder but writes into it
// only when it is free. A run store holding a file that is not the run it is named after — torn,
// empty, other JSON, another run, another configuration, a directory, a pipe, unreadable — stops
// with one line naming the file and changes nothing; leftovers that no run is named after are
// ignored. And the lock itself, in this process: DirLock.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "cli_test_support.hpp"
#include "graph/errors.hpp"
#include "lab/dir_lock.hpp"

using namespace bnlab::test;

namespace {

// Waits (up to about 60 s) until `path` names `pid` as its holder.
bool wait_for_lock(const std::string& path, pid_t pid) {
  for (int i = 0; i < 30000; ++i) {
    if (contains(read_text(path), "\"pid\":" + std::to_string(pid) + ",")) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return false;
}

// A sweep slow enough (30 epochs at batch 8: about 3 s alone here, five times what the three
// commands that try its folder meanwhile take) to be still running when they do.
std::vector<std::string> slow_sweep(const std::string& out) {
  return {"sweep", "--dataset", "synthetic", "--variants", "plain", "--epochs", "30", "--batch-sizes", "128,8", "--seeds", "0",
          "--quiet", "--out", out};
}

std::string joined(const std::vector<std::string>& args) {
  std::string s;
  for (const std::string& a : args) s += (s.empty() ? "" : " ") + a;
  return s;
}

}  // namespace

TEST_CASE("a second sweep, study or report on a folder in use stops at once naming the holder; the first finishes unharmed") {
  TempDir dir;
  const std::string out = dir / "out", ref = dir / "ref";
  // metrics.json of a first, small sweep, so that report has something to read during the second.
  REQUIRE(run_bnlab("sweep --dataset synthetic --variants plain --epochs 30 --batch-sizes 128 --seeds 0 --quiet --out " + out, dir).status == 0);
  const std::string before = read_text(out + "/metrics.json");

  const auto started = std::chrono::steady_clock::now();
  const pid_t first = spawn_bnlab(slow_sweep(out), dir / "first.out", dir / "first.err");
  REQUIRE(wait_for_lock(out + "/.lock", first));
  const std::vector<std::string> parts = {out + " is in use by bnlab sweep, pid " + std::to_string(first) + " on host ", ", started ",
                                          " UTC; wait for it or choose another --out"};
  const Run second = run_bnlab(joined(slow_sweep(out)), dir);
  check_error(second, 2, {parts[0], parts[1], parts[2]});
  const Run study = run_bnlab("study --dataset synthetic --items 5 --epochs 1 --seeds 0 --quiet --out " + out, dir);
  check_error(study, 2, {parts[0], parts[1], parts[2]});
  const Run report = run_bnlab("report " + out, dir);
  check_error(report, 2, {parts[0], parts[2]});
  // Reading it is fine: --out elsewhere.
  const Run elsewhere = run_bnlab("report " + out + " --out " + dir / "copy", dir);
  CHECK(elsewhere.status == 0);
  CHECK(fs::exists(dir / "copy/report.md"));
  const double refused_within = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  int raw = 0;
  CHECK(waitpid(first, &raw, WNOHANG) == 0);  // still running: the refusals were at once

  REQUIRE(wait_status(first) == 0);
  INFO(read_text(dir / "first.err"));
  CHECK(contains(read_text(dir / "first.err"), "sweep: 2 runs (1 trained, 1 reused)"));
  // The first one's runs are those of the same sweep run alone.
  REQUIRE(run_bnlab("sweep --dataset synthetic --variants plain --epochs 30 --batch-sizes 128 --seeds 0 --quiet --out " + ref, dir).status == 0);
  REQUIRE(run_bnlab(joined(slow_sweep(ref)), dir).status == 0);
  CHECK(without_sweep_times(read_json(out + "/metrics.json")) == without_sweep_times(read_json(ref + "/metrics.json")));
  CHECK(read_text(out + "/metrics.json") != before);
  CHECK(leftover_tmp_files(out).empty());
  MESSAGE("three commands refused on a folder in use, the last " << refused_within << " s after the first started");
  // Free again: the same sweep reuses everything.
  const Run again = run_bnlab(joined(slow_sweep(out)), dir);
  CHECK(again.status == 0);
  CHECK(contains(again.err, "sweep: 2 runs (0 trained, 2 reused)"));
  CHECK(run_bnlab("report " + out, dir).status == 0);
}

TEST_CASE("a lock left by a process killed with SIGKILL blocks nothing") {
  TempDir dir;
  const std::string out = dir / "out";
  const pid_t killed = spawn_bnlab(slow_sweep(out), dir / "k.out", dir / "k.err");
  REQUIRE(wait_for_lock(out + "/.lock", killed));
  ::kill(killed, SIGKILL);
  REQUIRE(wait_status(killed) == -SIGKILL);
  REQUIRE(contains(read_text(out + "/.lock"), "\"pid\":" + std::to_string(killed) + ","));  // still names it
  const Run next = run_bnlab("sweep --dataset synthetic --variants plain --epochs 1 --batch-sizes 64 --seeds 0 --quiet --out " + out, dir);
  INFO(next.err);
  CHECK(next.status == 0);
  CHECK(contains(next.err, "sweep: 1 runs (1 trained, 0 reused)"));
  CHECK(!contains(read_text(out + "/.lock"), "\"pid\":" + std::to_string(killed) + ","));
}

TEST_CASE("a lock file that cannot be made is an error naming it") {
  TempDir dir;
  const std::string out = dir / "out";
  fs::create_directories(out + "/.lock");
  check_error(run_bnlab("sweep --dataset synthetic --variants plain --epochs 1 --batch-sizes 128 --seeds 0 --quiet --out " + out, dir), 2,
              {out + "/.lock: cannot create the lock file of " + out + ": Is a directory"});
  CHECK(!fs::exists(out + "/metrics.json"));
}

TEST_CASE("a run file that is not its run stops the sweep naming the file, and changes nothing") {
  TempDir dir;
  const std::string out = dir / "out";
  const std::string args = "sweep --dataset synthetic --variants plain --epochs 1 --batch-sizes 128 --seeds 0 --quiet --out " + out;
  REQUIRE(run_bnlab(args, dir).status == 0);
  const std::string file = out + "/runs/plain-bs128-seed0.json";
  const std::string good = read_text(file), metrics = read_text(out + "/metrics.json");
  json run = json::parse(good);

  struct Case {
    const char* what;
    std::string content;
    int status;
    std::vector<std::string> parts;
  };
  json other_name = run;
  other_name["name"] = "batchnorm-bs128-seed0";
  json other_config = run;
  other_config["config"]["epochs"] = 5;
  json wrong_type = run;
  wrong_type["epochs"] = "all of them";
  json name_number = run;  // fuzz_run_store's found-name-not-string.json: was nlohmann's type_error, status 1
  name_number["name"] = 7;
  json config_number = run;
  config_number["config"] = 5;
  // Cut after a whole line (the file is indented JSON, each line ends after a ',', '{' or '['), so
  // the parser always meets the end of the input, never half a number (whose digits the run's
  // times decide).
  const std::string truncated = good.substr(0, good.rfind('\n', good.size() / 2) + 1);
  const std::vector<Case> cases = {
      {"truncated", truncated, 2,
       {file + ": not a JSON run file (parse error at line ", "unexpected end of input", "); delete it or use --force"}},
      {"empty", "", 2, {file + ": an empty file, not a run file; delete it or use --force"}},
      {"other JSON", "[1, 2, 3]\n", 2, {file + ": JSON but not a run file (no \"name\" and \"config\"); delete it or use --force"}},
      {"another run", other_name.dump(2), 2,
       {file + ": holds run \"batchnorm-bs128-seed0\", not 'plain-bs128-seed0'; delete it or use --force"}},
      {"another configuration", other_config.dump(2), 2,
       {file + " was made with a different configuration (epochs: 5 there, 1 now); use another --out directory, or --force"}},
      {"a name that is not a string", name_number.dump(2), 2,
       {file + ": holds run 7, not 'plain-bs128-seed0'; delete it or use --force"}},
      {"a config that is not an object", config_number.dump(2), 2,
       {file + ": not a complete run file: run 'plain-bs128-seed0': \"config\" is not an object; delete it or use --force"}},
      {"a field of the wrong type", wrong_type.dump(2), 2,
       {file + ": not a complete run file: run 'plain-bs128-seed0': \"epochs\" is not a list; delete it or use --force"}},
  };
  for (const Case& c : cases) {
    const std::string what = c.what;
    CAPTURE(what);
    write_text(file, c.content);
    const Run r = run_bnlab(args, dir);
    std::vector<std::string> parts = c.parts;
    CAPTURE(r.err);
    CHECK(r.status == c.status);
    REQUIRE(lines_of(r.err).size() == 1);
    for (const std::string& p : parts) CHECK_MESSAGE(contains(r.err, p), p);
    record_bad_input(r);
    CHECK(read_text(file) == c.content);  // nothing overwritten
    CHECK(read_text(out + "/metrics.json") == metrics);
    CHECK(leftover_tmp_files(out).empty());
  }

  // --force retrains the run and replaces the torn file.
  write_text(file, good.substr(0, 10));
  const Run forced = run_bnlab(args + " --force", dir);
  CHECK(forced.status == 0);
  CHECK(contains(forced.err, "sweep: 1 runs (1 trained, 0 reused)"));
  CHECK(without_times({{"runs", json::array({read_json(file)})}}) == without_times({{"runs", json::array({json::parse(good)})}}));

  // Not files at all: refused even with --force (no run could be written there).
  fs::remove(file);
  fs::create_directories(file);
  check_error(run_bnlab(args + " --force", dir), 2, {file + ": a directory where run 'plain-bs128-seed0' belongs; remove it"});
  CHECK(fs::is_directory(file));
  fs::remove(file);
  REQUIRE(::mkfifo(file.c_str(), 0644) == 0);
  check_error(run_bnlab(args, dir), 2, {file + ": not a regular file (a pipe, socket or device) where run 'plain-bs128-seed0' belongs"});
  CHECK(fs::is_fifo(file));
  fs::remove(file);

  if (::geteuid() != 0) {
    write_text(file, good);
    fs::permissions(file, fs::perms::none);
    check_error(run_bnlab(args, dir), 2, {file + ": cannot read it: Permission denied; delete it or use --force"});
    fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
  } else {
    MESSAGE("running as root: an unreadable run file cannot be made, that case is not tested");
  }

  // Leftovers no run is named after are ignored: a killed write's temporary file, other files.
  write_text(file, good);
  write_text(file + ".tmp", good.substr(0, 7));
  write_text(out + "/runs/notes.json", "not JSON at all");
  const Run rerun = run_bnlab(args, dir);
  CHECK(rerun.status == 0);
  CHECK(contains(rerun.err, "sweep: 1 runs (0 trained, 1 reused)"));
}

TEST_CASE("a torn run file stops the study the same way, and a torn metrics.json stops report") {
  TempDir dir;
  const std::string out = dir / "out";
  const std::string args = "study --dataset synthetic --items 5 --epochs 1 --seeds 0 --quiet --out " + out;
  REQUIRE(run_bnlab(args, dir).status == 0);
  const auto runs = fs::directory_iterator(out + "/runs");
  const std::string file = fs::begin(runs)->path().string();
  const std::string good = read_text(file);
  write_text(file, good.substr(0, good.size() - 3));
  check_error(run_bnlab(args, dir), 2, {file + ": not a JSON run file (parse error at line ", "; delete it or use --force"});
  CHECK(read_text(file) == good.substr(0, good.size() - 3));

  const std::string metrics = read_text(out + "/metrics.json");
  write_text(out + "/metrics.json", metrics.substr(0, metrics.size() / 3));
  check_error(run_bnlab("report " + out, dir), 2, {out + "/metrics.json: not a JSON document: "});
}

TEST_CASE("DirLock: a second lock on the folder fails naming the holder, or the lock file when it names none; free again after") {
  TempDir dir;
  const std::string d = dir.path().string();
  {
    const bnlab::lab::DirLock held(d, "bnlab study");
    CHECK(held.path() == d + "/.lock");
    const json holder = read_json(d + "/.lock");
    CHECK(holder["pid"] == ::getpid());
    CHECK(holder["command"] == "bnlab study");
    // A second open file description conflicts even in the same process (flock, not fcntl locks).
    CHECK_THROWS_WITH_AS(bnlab::lab::DirLock(d, "bnlab sweep"),
                         (d + " is in use by bnlab study, pid " + std::to_string(::getpid()) + " on host " +
                          holder["host"].get<std::string>() + ", started " + holder["started"].get<std::string>() +
                          "; wait for it or choose another --out")
                             .c_str(),
                         bnlab::UsageError);
  }
  CHECK_NOTHROW(bnlab::lab::DirLock(d, "bnlab sweep"));
  // Held by a process that has not described itself (yet): the lock file is named instead.
  const int fd = ::open((d + "/.lock").c_str(), O_RDWR);
  REQUIRE(fd >= 0);
  REQUIRE(::ftruncate(fd, 0) == 0);
  REQUIRE(::flock(fd, LOCK_EX) == 0);
  CHECK_THROWS_WITH_AS(bnlab::lab::DirLock(d, "bnlab sweep"),
                       (d + " is in use by another process (" + d + "/.lock is locked); wait for it or choose another --out").c_str(),
                       bnlab::UsageError);
  ::close(fd);
  CHECK_NOTHROW(bnlab::lab::DirLock(d, "bnlab sweep"));
}

// kill -9 at any moment loses nothing (issue 15, point 2): `bnlab train --checkpoint`, `bnlab sweep
// --out` and `bnlab study --out` are killed with SIGKILL at seeded random moments; after every kill
// each file on disk must be absent or complete and valid (checkpoints load, run files are runs,
// metrics documents parse), and resuming the train — or rerunning the same sweep / study — must
// reach exactly the result of an uninterrupted run: checkpoint tensors bit for bit, metrics equal
// apart from wall times, the same verdicts.
//
// The kill delays are drawn (std::mt19937_64, fixed seed) over the duration of an uninterrupted run
// measured first, so they adapt to the machine's speed. A run that ends before its kill ends the
// round; rounds repeat (from an empty folder) until the scenario has had its kills.
// Every other kill goes to bnlab's whole process group, so a gnuplot it runs to render a figure is
// killed half-way too; the others to bnlab alone, which leaves gnuplot running: this process is
// their subreaper and waits for them before it looks at the files. Images must be whole either way
// (lab/plots.cpp renders to a temporary name and renames).
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli_test_support.hpp"
#include "lab/metrics_json.hpp"
#include "train/checkpoint.hpp"

using namespace bnlab::test;

namespace {

using Clock = std::chrono::steady_clock;

struct Counts {
  int kills = 0;           // processes ended by SIGKILL
  int files_checked = 0;   // files validated after a kill
  int tmp_left = 0;        // temporary files seen that a kill left (allowed; the next run must not trip on them)
  int tmp_planted = 0;     // torn temporary files put there by the test as well
  int resumes = 0;         // train --resume / sweep / study reruns after a kill
  int rounds = 0;          // completed results compared with the uninterrupted one
  int scenarios = 0;
  int images = 0;          // of those, PNG and SVG figures
  std::string scenario_lines;  // "; train: 1.23 s uninterrupted, 9 kills in 2 rounds"
};
Counts counts;

const std::string kTorn = "{\"torn\": ";  // a planted temporary file's content

std::mt19937_64 rng(20261201);

// The child's end: its exit status, or -signal.
struct Outcome {
  int status = 0;
  bool killed = false;
};

// Waits for every process a killed bnlab left behind (a shell and gnuplot, ours as the subreaper).
void reap_leftovers() {
  int raw = 0;
  while (waitpid(-1, &raw, 0) > 0) {
  }
}

// Starts bnlab with `args`, kills it with SIGKILL after `delay` seconds unless it ended before.
Outcome run_and_kill(const std::vector<std::string>& args, const TempDir& dir, double delay) {
  const pid_t pid = spawn_bnlab(args, dir / "child.out", dir / "child.err", "", /*own_group=*/true);
  const auto deadline = Clock::now() + std::chrono::duration<double>(delay);
  int raw = 0;
  while (Clock::now() < deadline) {
    const pid_t r = waitpid(pid, &raw, WNOHANG);
    REQUIRE(r >= 0);
    if (r == pid) {
      INFO(read_text(dir / "child.err"));
      REQUIRE(WIFEXITED(raw));
      return {WEXITSTATUS(raw), false};
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  const bool group = counts.kills % 2 == 1;
  ::kill(group ? -pid : pid, SIGKILL);
  const int status = wait_status(pid);
  reap_leftovers();
  if (status == -SIGKILL) {
    ++counts.kills;
    return {status, true};
  }
  return {status, false};  // it ended between the last look and the kill
}

// Runs to the end; returns the seconds it took.
double run_to_end(const std::vector<std::string>& args, const TempDir& dir) {
  const auto start = Clock::now();
  const pid_t pid = spawn_bnlab(args, dir / "child.out", dir / "child.err");
  const int status = wait_status(pid);
  INFO(read_text(dir / "child.err"));
  REQUIRE(status == 0);
  return std::chrono::duration<double>(Clock::now() - start).count();
}

bool ends_with_newline(const std::string& text) { return !text.empty() && text.back() == '\n'; }

void check_metrics_document(const json& doc) {
  REQUIRE(doc.is_object());
  REQUIRE(doc.contains("runs"));
  REQUIRE(doc["runs"].is_array());
  for (const json& r : doc["runs"]) CHECK_NOTHROW(bnlab::lab::stored_run_from_json(r));
}

// Every file under `root` is complete and valid, or a temporary file (counted).
void check_files(const fs::path& root) {
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    const fs::path& p = e.path();
    const std::string name = p.filename().string(), ext = p.extension().string();
    if (name == "child.out" || name == "child.err" || name == ".lock") continue;
    CAPTURE(p.string());
    if (ext == ".tmp") {
      if (read_text(p.string()) != kTorn) ++counts.tmp_left;
      continue;
    }
    ++counts.files_checked;
    const std::string text = read_text(p.string());
    if (ext == ".safetensors") {
      CHECK_NOTHROW(bnlab::read_checkpoint(p.string()));
    } else if (ext == ".json") {
      json doc;
      REQUIRE_NOTHROW(doc = json::parse(text));
      if (p.parent_path().filename() == "runs") {
        CHECK(doc.value("name", std::string()) == p.stem().string());
        CHECK_NOTHROW(bnlab::lab::stored_run_from_json(doc));
      } else {
        check_metrics_document(doc);
      }
    } else if (ext == ".csv") {
      REQUIRE(ends_with_newline(text));
      const auto lines = lines_of(text);
      REQUIRE(lines.size() >= 2);
      const auto commas = std::count(lines[0].begin(), lines[0].end(), ',');
      for (const std::string& line : lines) CHECK(std::count(line.begin(), line.end(), ',') == commas);
    } else if (ext == ".png") {
      ++counts.images;
      CHECK(text.rfind("\x89PNG\r\n\x1a\n", 0) == 0);
      CHECK(text.size() >= 20);
      if (text.size() >= 20) CHECK(text.substr(text.size() - 12, 8) == std::string("\0\0\0\0IEND", 8));  // the last chunk
    } else if (ext == ".svg") {
      ++counts.images;
      CHECK(text.find("</svg>") != std::string::npos);
      CHECK(ends_with_newline(text));
    } else if (ext == ".log") {
      // gnuplot's messages of a render a kill cut short (the shell writes them, outside bnlab).
      --counts.files_checked;
    } else {
      // report.md, figure data and scripts: text that ends where its writer ended it.
      CHECK(ends_with_newline(text));
    }
  }
}

// A checkpoint's tensors: the header without its metadata, and the data bytes.
std::pair<json, std::string> tensors_of(const std::string& path) {
  CheckpointParts parts = checkpoint_parts(path);
  parts.header.erase("__metadata__");
  return {parts.header, parts.data};
}

// The study section without what differs between runs of the same study (times, where, how many
// were reused).
json study_results(json doc) {
  json& s = doc["study"];
  for (const char* k : {"command_line", "started", "machine", "wall_seconds", "run_seconds", "runs_trained", "runs_reused"}) s.erase(k);
  return without_times(doc);
}

// The kill delay: uniform over `share` of an uninterrupted run's duration.
double draw_delay(double full_seconds, double share) {
  return std::uniform_real_distribution<double>(0.0, share * full_seconds)(rng);
}

std::string fmt_line(const std::string& name, double seconds, int kills, int rounds) {
  std::ostringstream s;
  s.precision(3);
  s << "; " << name << ": " << seconds << " s uninterrupted, " << kills << " kills in " << rounds << " rounds";
  return s.str();
}

// One scenario: an uninterrupted run in its own folder first (the reference, and with a second one
// the duration the kill delays are drawn over), then rounds in a fresh folder: `command(dir)` started and killed
// after a delay of up to `share` of that duration, again and again, each file checked after each
// kill, until a run ends by itself (files in `rewritten` get a torn temporary beside them); `compare(reference, dir)` then checks its result. Returns the
// kills.
int kill_scenario(const std::string& name, const std::function<std::vector<std::string>(const TempDir&)>& command, double share,
                  const std::vector<std::string>& rewritten, const std::function<void(const TempDir&, const TempDir&)>& compare) {
  constexpr int kKills = 12;  // per scenario
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);  // (the note at the top)
  TempDir ref, dir;
  double full = run_to_end(command(ref), ref);
  {
    // A second uninterrupted run, for the duration alone: the shorter of two (a first run pays for
    // cold caches, a busy moment can double one).
    TempDir again;
    full = std::min(full, run_to_end(command(again), again));
  }
  int kills = 0;
  int rounds_done = 0;
  for (int round = 0; kills < kKills && round < 8; ++round, ++rounds_done) {
    fs::remove_all(dir.path());
    fs::create_directories(dir.path());
    for (int attempt = 0;; ++attempt) {
      if (attempt > 0) ++counts.resumes;
      // Past 3 × kKills attempts (a machine too slow for any progress between kills) it runs to the end.
      const double delay = attempt < 3 * kKills ? draw_delay(full, share) : 1e9;
      const Outcome o = run_and_kill(command(dir), dir, delay);
      if (!o.killed) {
        INFO(read_text(dir / "child.err"));
        REQUIRE(o.status == 0);
        // A whole round without a kill: the measured duration was a busy moment's (the machine
        // is shared); draw the next round's delays over half of it.
        if (attempt == 0) full /= 2;
        break;
      }
      ++kills;
      check_files(dir.path());
      // Besides the temporary files the kills happen to leave: a torn one beside each file that
      // every run writes (`rewritten`), after the first kill of a round — where its folder is
      // there already (a kill before the run made its --out leaves nothing to plant beside).
      if (attempt == 0)
        for (const std::string& f : rewritten) {
          if (!fs::is_directory(fs::path(dir / f).parent_path())) continue;
          write_text(dir / (f + ".tmp"), kTorn);
          ++counts.tmp_planted;
        }
    }
    check_files(dir.path());
    CHECK(leftover_tmp_files(dir.path()).empty());
    compare(ref, dir);
    ++counts.rounds;
  }
  CHECK(kills >= kKills / 2);  // at most 8 rounds were allowed
  ++counts.scenarios;
  counts.scenario_lines += fmt_line(name, full, kills, rounds_done);
  return kills;
}

}  // namespace

TEST_CASE("kill -9 of train --checkpoint, resumed after each kill: the final checkpoint and metrics of an uninterrupted run") {
  auto command = [](const TempDir& d) {
    // The first attempt starts the run; every later one resumes the checkpoint the last kill left.
    if (fs::exists(d / "run.safetensors"))
      return std::vector<std::string>{"train", "--resume", d / "run.safetensors", "--json", d / "run.json", "--csv", d / "run.csv", "--quiet"};
    return std::vector<std::string>{"train", "--dataset", "synthetic", "--model", "batchnorm", "--epochs", "30", "--batch-size",
                                    "64", "--seed", "3", "--quiet", "--checkpoint", d / "run.safetensors", "--json", d / "run.json",
                                    "--csv", d / "run.csv"};
  };
  // Each attempt runs a fraction of the whole, so a round takes several kills in a row.
  kill_scenario("train", command, 0.3, {"run.json", "run.csv"}, [](const TempDir& ref, const TempDir& dir) {
    CHECK(without_times(read_json(dir / "run.json")) == without_times(read_json(ref / "run.json")));
    const auto got = tensors_of(dir / "run.safetensors"), want = tensors_of(ref / "run.safetensors");
    CHECK(got.first == want.first);
    CHECK(got.second == want.second);  // bit for bit
  });
}

TEST_CASE("kill -9 of sweep --out, rerun after each kill: the runs and documents of an uninterrupted sweep") {
  auto command = [](const TempDir& d) {
    return std::vector<std::string>{"sweep", "--dataset", "synthetic", "--epochs", "2", "--batch-sizes", "32,128", "--seeds",
                                    "0,1", "--quiet", "--out", d / "out", "--json", d / "sweep.json", "--csv", d / "sweep.csv"};
  };
  kill_scenario("sweep", command, 0.6, {"out/metrics.json", "out/report.md", "sweep.json", "sweep.csv"}, [](const TempDir& ref, const TempDir& dir) {
    const json want = without_sweep_times(read_json(ref / "sweep.json"));
    CHECK(without_sweep_times(read_json(dir / "sweep.json")) == want);
    CHECK(without_sweep_times(read_json(dir / "out/metrics.json")) == want);
    for (const json& run : want["runs"]) {
      CAPTURE(run["name"]);
      const json stored = {{"runs", json::array({read_json(dir / ("out/runs/" + run["name"].get<std::string>() + ".json"))})}};
      CHECK(without_times(stored)["runs"][0] == run);
    }
  });
}

TEST_CASE("kill -9 of study --out, rerun after each kill: the runs, numbers and verdicts of an uninterrupted study") {
  auto command = [](const TempDir& d) {
    return std::vector<std::string>{"study", "--dataset", "synthetic", "--items", "5,7", "--epochs", "2", "--seeds", "0",
                                    "--quiet", "--out", d / "out", "--json", d / "study.json"};
  };
  kill_scenario("study", command, 0.6, {"out/metrics.json", "out/report.md", "study.json"}, [](const TempDir& ref, const TempDir& dir) {
    const json want = study_results(read_json(ref / "study.json")), got = study_results(read_json(dir / "study.json"));
    CHECK(got["runs"] == want["runs"]);
    REQUIRE(got["study"]["items"].size() == want["study"]["items"].size());
    for (size_t i = 0; i < want["study"]["items"].size(); ++i)
      CHECK(got["study"]["items"][i]["verdict"] == want["study"]["items"][i]["verdict"]);
    CHECK(got == want);
  });
}

// Last in the file, so after the three above (doctest runs a file's cases in order).
TEST_CASE("kill -9 summary") {
  MESSAGE("kill -9: " << counts.kills << " kills, " << counts.files_checked << " files checked after them (" << counts.images << " images; " << counts.tmp_left
                      << " times a temporary file left by a kill, and " << counts.tmp_planted
                      << " torn ones planted, none left after the next run), " << counts.resumes
                      << " resumes and reruns, " << counts.rounds << " results equal to the uninterrupted run's"
                      << counts.scenario_lines);
  if (counts.scenarios == 3) CHECK(counts.kills >= 20);  // unless a filter ran fewer
}

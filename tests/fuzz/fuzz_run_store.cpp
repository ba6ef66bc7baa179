// Fuzzes what reads stored runs back: the run store (lab/run_store.hpp RunStore::cached, which a
// resumed sweep or study calls on every DIR/runs/<name>.json), the entry reader
// (lab/metrics_json.hpp stored_run_from_json) and what analyses the runs read — the sweep summary,
// the figures and the report (lab/report.hpp), the study's item analyses (lab/study_analysis.hpp,
// every item given the fuzzed run under each name it reads). The input is one run file; when it is a
// metrics document (an object with a "runs" list) it is also reported as `bnlab report` does.
// InputError, UsageError and RuntimeError are the answers to a bad file; anything else is a finding.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz_common.hpp"
#include "lab/metrics_json.hpp"
#include "lab/report.hpp"
#include "lab/run_store.hpp"
#include "lab/study_analysis.hpp"
#include "lab/study_plan.hpp"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;
using namespace bnlab::lab;

// A folder of this process for the store and the report, removed at exit.
struct WorkDir {
  std::string path;
  WorkDir() {
    const char* t = std::getenv("TMPDIR");
    path = std::string(t && *t ? t : "/tmp") + "/bnlab-fuzz-run_store-" + std::to_string(::getpid());
    fs::create_directories(path + "/report");
  }
  ~WorkDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

const std::string& work_dir() {
  static const WorkDir dir;
  return dir.path;
}

// The run's own name when it is one a sweep could have written (so the store finds the file under
// it), else "run".
std::string file_name(const json& entry) {
  if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string()) return "run";
  const std::string n = entry["name"].get<std::string>();
  if (n.empty() || n.size() > 64 || n[0] == '.') return "run";
  for (char c : n)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return "run";
  return n;
}

const json& other_config() {
  static const json c = {{"model", "plain"}, {"epochs", 1}, {"batch_size", 32}, {"seed", 0}};
  return c;
}

// Every run name the study's items read, at the quick budget on 784 inputs and 10 classes.
const std::vector<std::string>& study_run_names() {
  static const std::vector<std::string> names = [] {
    StudyOptions o;
    o.budget = study_budget("quick");
    std::vector<std::string> out;
    for (const StudyJob& j : study_jobs(o, 784, 10))
      for (const RunJob& r : j.runs) out.push_back(r.name);
    return out;
  }();
  return names;
}

// What `bnlab report` does with a document (figures not rendered: no gnuplot per input).
void analyse(const json& doc, const std::string& dir) { (void)write_report(doc, dir, "metrics.json", false); }

void read_run(const json& entry, const std::string& text) {
  const std::string name = file_name(entry);
  RunStore store(work_dir() + "/store", false, "fuzz_run_store");
  {
    std::FILE* f = std::fopen(store.path(name).c_str(), "wb");
    if (!f || std::fwrite(text.data(), 1, text.size(), f) != text.size() || std::fclose(f) != 0) std::abort();
  }
  bnlab_fuzz::expect_clean_errors("run_store (other config)", [&] { (void)store.cached(name, other_config()); });
  std::optional<json> run;
  bnlab_fuzz::expect_clean_errors("run_store", [&] {
    run = store.cached(name, entry.is_object() && entry.contains("config") ? entry["config"] : json::object());
  });
  if (!run) return;
  bnlab_fuzz::expect_clean_errors("run_store (entry)", [&] {
    const StoredRun s = stored_run_from_json(*run);
    (void)stored_run_json(s);
    analyse(json{{"tool", "bnlab"}, {"command", "sweep"}, {"runs", json::array({*run})}}, work_dir() + "/report");
    std::map<std::string, bnlab::RunRecord> by_name;
    for (const std::string& n : study_run_names()) by_name[n] = s.record;
    StudyContext ctx{.budget = study_budget("quick"), .threshold = 0.85, .classes = 10, .items = study_item_ids()};
    (void)analyze_study(ctx, by_name);
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  json entry;
  try {
    entry = json::parse(text);
  } catch (const json::exception&) {
    entry = nullptr;  // still given to the store: it must say the file is not a run
  }
  read_run(entry, text);
  // A metrics document, checked as `bnlab report` checks it (tools/cmd_report.cpp) before reporting.
  if (entry.is_object() && entry.contains("runs") && entry["runs"].is_array())
    bnlab_fuzz::expect_clean_errors("report", [&] { analyse(entry, work_dir() + "/report"); });
  return 0;
}

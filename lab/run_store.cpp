#include "lab/run_store.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "graph/errors.hpp"
#include "lab/metrics_json.hpp"
#include "train/atomic_file.hpp"

namespace bnlab::lab {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

// `dir` after creating DIR/runs (before the lock, which lives in DIR, is taken). DIR itself follows
// the rule of every output folder (prepare_output_dir): created, but not the folders above it.
std::string with_runs_folder(std::string dir) {
  prepare_output_dir("--out", dir);
  std::error_code ec;
  fs::create_directories(fs::path(dir) / "runs", ec);
  if (ec || !fs::is_directory(fs::path(dir) / "runs"))
    throw UsageError("--out " + dir + ": cannot create the directory " + (fs::path(dir) / "runs").string() +
                     (ec ? ": " + ec.message() : ""));
  return dir;
}

// nlohmann's message without its "[json.exception.parse_error.101] " prefix.
std::string parse_reason(const json::exception& e) {
  const std::string what = e.what();
  const auto end = what.find("] ");
  return what.rfind("[json.exception.", 0) == 0 && end != std::string::npos ? what.substr(end + 2) : what;
}

// Compared through their text, so an integer written as 0 and read back as unsigned compares equal.
json normalized(const json& config) {
  json c = json::parse(config.dump());
  if (c.is_object())
    for (const char* k : {"train_size", "val_size", "test_size"}) c.erase(k);
  return c;
}

// Whether `stored` is `wanted` with fewer epochs (nothing else differs).
bool fewer_epochs_only(const json& stored, const json& wanted) {
  json a = normalized(stored), b = normalized(wanted);
  if (!a.is_object() || !b.is_object() || !a.contains("epochs") || !b.contains("epochs")) return false;
  if (!a["epochs"].is_number_integer() || !b["epochs"].is_number_integer()) return false;
  const int64_t have = a["epochs"].get<int64_t>(), want = b["epochs"].get<int64_t>();
  a.erase("epochs");
  b.erase("epochs");
  return a == b && have < want;
}

}  // namespace

std::string config_difference(const json& stored, const json& wanted) {
  const json a = normalized(stored), b = normalized(wanted);
  if (a == b) return "";
  if (!a.is_object() || !b.is_object()) return "the stored config is not an object";
  for (const auto& [key, value] : b.items())
    if (!a.contains(key)) return key + ": absent there, " + value.dump() + " now";
    else if (a[key] != value) return key + ": " + a[key].dump() + " there, " + value.dump() + " now";
  for (const auto& [key, value] : a.items())
    if (!b.contains(key)) return key + ": " + value.dump() + " there, absent now";
  return "";
}

RunStore::RunStore(std::string dir, bool force, const std::string& command)
    : dir_(with_runs_folder(std::move(dir))), force_(force), lock_(dir_, command) {}

std::string RunStore::path(const std::string& name) const { return (fs::path(dir_) / "runs" / (name + ".json")).string(); }

std::optional<json> RunStore::cached(const std::string& name, const json& config, bool continuable) const {
  const std::string p = path(name);
  std::error_code ec;
  const fs::file_status status = fs::status(p, ec);
  if (status.type() == fs::file_type::not_found) return std::nullopt;
  // No run can be written over these (and opening a pipe would wait for a writer).
  if (status.type() == fs::file_type::directory) throw InputError(p + ": a directory where run '" + name + "' belongs; remove it");
  if (ec || status.type() != fs::file_type::regular)
    throw InputError(p + ": not a regular file (" + (ec ? ec.message() : "a pipe, socket or device") + ") where run '" + name +
                     "' belongs; remove it");
  // Refused unless --force retrains the run and replaces the file.
  auto not_a_run = [&](const std::string& why) -> std::optional<json> {
    if (force_) return std::nullopt;
    throw InputError(p + ": " + why + "; delete it or use --force");
  };
  std::ifstream in(p, std::ios::binary);
  std::stringstream text;
  if (in) text << in.rdbuf();
  if (!in.good() && !in.eof()) return not_a_run(std::string("cannot read it: ") + std::strerror(errno));
  if (text.str().empty()) return not_a_run("an empty file, not a run file");
  json run;
  try {
    run = json::parse(text.str());
  } catch (const json::exception& e) {
    return not_a_run("not a JSON run file (" + parse_reason(e) + ")");
  }
  if (!run.is_object() || !run.contains("config") || !run.contains("name"))
    return not_a_run("JSON but not a run file (no \"name\" and \"config\")");
  if (!run["name"].is_string() || run["name"].get<std::string>() != name)
    return not_a_run("holds run " + run["name"].dump() + ", not '" + name + "'");
  try {
    stored_run_from_json(run);
  } catch (const InputError& e) {
    return not_a_run(std::string("not a complete run file: ") + e.what());
  }
  const std::string diff = config_difference(run["config"], config);
  if (diff.empty()) return run;
  if (force_ || (continuable && fewer_epochs_only(run["config"], config))) return std::nullopt;
  throw UsageError(p + " was made with a different configuration (" + diff +
                   "); use another --out directory, or --force to redo such runs");
}

std::string RunStore::checkpoint_path(const std::string& name) const {
  return (fs::path(dir_) / "runs" / (name + ".safetensors")).string();
}

std::optional<RunStore::Extension> RunStore::extension(const std::string& name, const json& config, std::string& why) const {
  why.clear();
  const std::string p = path(name);
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return std::nullopt;
  json run;
  try {
    std::ifstream in(p, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    run = json::parse(text.str());
  } catch (const json::exception&) {
    return std::nullopt;  // not a run: cached() refuses it or --force retrains it
  }
  if (!run.is_object() || !run.contains("config") || !fewer_epochs_only(run["config"], config)) return std::nullopt;
  const json& c = run["config"];
  const std::string stored = "the stored run has " + c["epochs"].dump() + (c["epochs"] == 1 ? " epoch" : " epochs");
  if (run.value("status", "finished") != "finished") {
    why = stored + " and diverged";
    return std::nullopt;
  }
  if (c.value("lr_schedule", "constant") == "cosine" || c.value("lr_schedule", "constant") == "warmup-cosine") {
    why = stored + " on a " + c["lr_schedule"].get<std::string>() + " schedule, whose rates depend on the epoch count";
    return std::nullopt;
  }
  if (c.value("early_stop", 0) != 0) {
    why = stored + " with early stopping, whose best weights its checkpoint does not hold";
    return std::nullopt;
  }
  const std::string ck = checkpoint_path(name);
  if (!fs::is_regular_file(ck, ec)) {
    why = stored + " but no checkpoint (" + ck + ")";
    return std::nullopt;
  }
  Extension e;
  try {
    e.checkpoint = std::make_unique<Checkpoint>(read_checkpoint(ck));
  } catch (const InputError& x) {
    why = stored + " but its checkpoint cannot be read (" + x.what() + ")";
    return std::nullopt;
  }
  const size_t epochs = run.contains("epochs") && run["epochs"].is_array() ? run["epochs"].size() : 0;
  if (e.checkpoint->epoch != static_cast<int>(epochs)) {
    why = stored + " but its checkpoint is at epoch " + std::to_string(e.checkpoint->epoch);
    return std::nullopt;
  }
  if (run.contains("total_seconds") && run["total_seconds"].is_number()) e.total_seconds = run["total_seconds"].get<double>();
  return e;
}

void RunStore::save(const json& run) const { write_file_atomically(path(run.at("name").get<std::string>()), run.dump(2) + "\n"); }

}  // namespace bnlab::lab

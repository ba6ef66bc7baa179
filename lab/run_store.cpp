#include "lab/run_store.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "graph/errors.hpp"
#include "train/atomic_file.hpp"

namespace bnlab::lab {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

// Compared through their text, so an integer written as 0 and read back as unsigned compares equal.
json normalized(const json& config) {
  json c = json::parse(config.dump());
  if (c.is_object())
    for (const char* k : {"train_size", "val_size", "test_size"}) c.erase(k);
  return c;
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

RunStore::RunStore(std::string dir, bool force) : dir_(std::move(dir)), force_(force) {
  std::error_code ec;
  fs::create_directories(fs::path(dir_) / "runs", ec);
  if (ec || !fs::is_directory(fs::path(dir_) / "runs"))
    throw UsageError("--out " + dir_ + ": cannot create the directory " + (fs::path(dir_) / "runs").string() +
                     (ec ? ": " + ec.message() : ""));
}

std::string RunStore::path(const std::string& name) const { return (fs::path(dir_) / "runs" / (name + ".json")).string(); }

std::optional<json> RunStore::cached(const std::string& name, const json& config) const {
  const std::string p = path(name);
  std::error_code ec;
  if (!fs::exists(p, ec)) return std::nullopt;
  std::ifstream in(p, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  json run;
  try {
    run = json::parse(text.str());
  } catch (const json::exception& e) {
    if (force_) return std::nullopt;
    throw InputError(p + ": not a JSON run file (" + e.what() + "); delete it or use --force");
  }
  if (!run.is_object() || !run.contains("config") || run.value("name", std::string()) != name) {
    if (force_) return std::nullopt;
    throw InputError(p + ": not the stored run '" + name + "'; delete it or use --force");
  }
  const std::string diff = config_difference(run["config"], config);
  if (diff.empty()) return run;
  if (force_) return std::nullopt;
  throw UsageError(p + " was made with a different configuration (" + diff +
                   "); use another --out directory, or --force to redo such runs");
}

void RunStore::save(const json& run) const { write_file_atomically(path(run.at("name").get<std::string>()), run.dump(2) + "\n"); }

}  // namespace bnlab::lab

// Finished runs kept one JSON file each, so a long sweep or study can be interrupted (or fail) and
// resumed: DIR/runs/<run name>.json holds one entry of the metrics document's "runs", written
// atomically when the run ends. Rerunning the command skips every run whose file exists and was
// made with the same configuration; a file made with a different configuration is refused (the
// user must choose --force or another directory) rather than silently mixed into the results.
//
//   RunStore store("out/sweep", force);
//   if (auto run = store.cached(name, config)) use(*run); else store.save(run_job(...));
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace bnlab::lab {

class RunStore {
 public:
  // Creates DIR and DIR/runs if needed (UsageError if that is impossible). `force`: a cached run
  // with a different configuration is retrained and overwritten instead of refused.
  RunStore(std::string dir, bool force);

  const std::string& dir() const { return dir_; }
  std::string path(const std::string& name) const;

  // The stored run named `name` if its file exists and its "config" equals `config` (the sizes of
  // the splits, which follow from the other fields, are not compared: the check runs before the
  // data is loaded). nullopt when there is no file, or with `force` when the config differs.
  // Throws UsageError naming the file and the first differing field otherwise, and InputError for
  // a file that is not a run.
  std::optional<nlohmann::ordered_json> cached(const std::string& name, const nlohmann::ordered_json& config) const;

  // Writes run["name"]'s file atomically.
  void save(const nlohmann::ordered_json& run) const;

 private:
  std::string dir_;
  bool force_ = false;
};

// The first field where two config objects differ, as "epochs: 3 there, 5 now"; "" when equal
// (ignoring train_size, val_size and test_size).
std::string config_difference(const nlohmann::ordered_json& stored, const nlohmann::ordered_json& wanted);

}  // namespace bnlab::lab

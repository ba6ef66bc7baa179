// Finished runs kept one JSON file each, so a long sweep or study can be interrupted (or fail) and
// resumed: DIR/runs/<run name>.json holds one entry of the metrics document's "runs", written
// atomically when the run ends. Rerunning the command skips every run whose file exists and was
// made with the same configuration; a file made with a different configuration is refused (the
// user must choose --force or another directory) rather than silently mixed into the results.
// One process at a time uses a store: it holds DIR's lock (dir_lock.hpp) for as long as it lives.
// Files in DIR/runs that no run of the command is named after (a leftover NAME.json.tmp of a
// killed write, anything else) are ignored; a file named like one of its runs must be that run.
//
//   RunStore store("out/sweep", force, "bnlab sweep");
//   if (auto run = store.cached(name, config)) use(*run); else store.save(run_job(...));
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "lab/dir_lock.hpp"
#include "train/checkpoint.hpp"

namespace bnlab::lab {

class RunStore {
 public:
  // Creates DIR (not the folders above it: prepare_output_dir, the rule of every output folder) and
  // DIR/runs if needed (UsageError naming --out if that is impossible) and locks DIR for
  // `command` ("bnlab sweep"; UsageError naming the holder if another process has it). `force`: a
  // cached run with a different configuration, or a file that is not a run, is retrained and
  // overwritten instead of refused.
  RunStore(std::string dir, bool force, const std::string& command);

  const std::string& dir() const { return dir_; }
  std::string path(const std::string& name) const;

  // The stored run named `name` if its file exists and its "config" equals `config` (the sizes of
  // the splits, which follow from the other fields, are not compared: the check runs before the
  // data is loaded). nullopt when there is no file, or with `force` when the config differs.
  // Throws UsageError naming the file and the first differing field otherwise, and InputError
  // naming the file for one that is not a run (empty, truncated, other JSON, a run of another name,
  // a field of the wrong type, unreadable) and — even with `force`, which could not replace it —
  // for a directory, pipe or device at its path.
  // With `continuable`, a stored run whose config differs from `config` only by fewer epochs is not
  // refused but not cached either (nullopt): extension() says whether it can be continued.
  std::optional<nlohmann::ordered_json> cached(const std::string& name, const nlohmann::ordered_json& config,
                                               bool continuable = false) const;

  // Where a run's checkpoint is kept beside its file (DIR/runs/<name>.safetensors): the state after
  // its last epoch, so that a later command asking for more epochs continues it (extension()).
  std::string checkpoint_path(const std::string& name) const;

  // A stored run that `config` continues: the same configuration but for fewer epochs, finished, at
  // a constant or step learning rate (a cosine's rates depend on the epoch count), without early
  // stopping (its best weights are not in the checkpoint), with its checkpoint there and readable.
  struct Extension {
    std::unique_ptr<Checkpoint> checkpoint;
    double total_seconds = 0;  // the stored run's, which the continued run adds to its own
  };
  // nullopt when there is no such run; then `why` says why a stored run of fewer epochs cannot be
  // continued (it is retrained), or is empty when there is none.
  std::optional<Extension> extension(const std::string& name, const nlohmann::ordered_json& config, std::string& why) const;

  // Writes run["name"]'s file atomically.
  void save(const nlohmann::ordered_json& run) const;

 private:
  std::string dir_;
  bool force_ = false;
  DirLock lock_;
};

// The first field where two config objects differ, as "epochs: 3 there, 5 now"; "" when equal
// (ignoring train_size, val_size and test_size).
std::string config_difference(const nlohmann::ordered_json& stored, const nlohmann::ordered_json& wanted);

}  // namespace bnlab::lab

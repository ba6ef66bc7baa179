// What `bnlab study` trains: the budgets (quick, full), the names of the runs, and the list of jobs
// for a selection of items — each item declares its own runs (study_item.hpp, lab/study/), and the
// plan collects those of the selected items from the registry (study_items.hpp). Fixed in advance.
//
//   Budget b = study_budget("quick");
//   StudyOptions o{.budget = b, .items = {1, 5}};
//   for (const StudyJob& job : study_jobs(o, 784, 10)) ...   // runs with names like "ref-plain-seed0"
//
// Run names (one file each under OUT/runs/), trained by the item named (and read by others):
//   ref-{plain|batchnorm}-seed{S}                  item 1 (also read by items 6, 7 and consistency)
//   lr-{sgd|adam}-{LR}-{plain|batchnorm}-seed{S}   item 2
//   init-x{SCALE}-{plain|batchnorm}-seed{S}        item 3
//   depth{D}-{plain|batchnorm}-seed{S}             item 4
//   batch{B}-{plain|batchnorm|layernorm}-seed{S}   item 5 (batch-norm runs also read by item 7)
//   cost-bs{B}-{plain|batchnorm}-seed{S}           item 8
//   workers4-b{b}-{local|sync|plain}-seed{S}       item 9 (global batch 4·b; local = 4 ghost batches)
//   hp-lr{LR}-x{SCALE}-bs{B}-{plain|batchnorm}-seed{S}  hyperparameter sensitivity (Adam)
//   reg-{none|wd|dropout}-batchnorm-seed{S}        regularization still needed (AdamW; none: weight decay 0)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lab/run_job.hpp"

namespace bnlab::lab {

struct Budget {
  std::string name;                    // "quick" or "full"
  int64_t limit_train = 0;             // 0 = all rows (then 20% of them go to validation)
  int64_t limit_test = 0;
  std::vector<uint64_t> seeds;
  int epochs_reference = 10;           // items 1, 6, 7
  int epochs_grid = 5;                 // items 2, 3, 4
  int epochs_small_batch = 5;          // item 5 (batch 2 is 24000 steps per epoch on the full data)
  int epochs_cost = 3;                 // item 8
  std::vector<double> learning_rates;  // item 2, for both SGD and Adam
  std::vector<double> weight_scales;   // item 3
  std::vector<int> depths;             // item 4 (hidden layers)
  int64_t depth_width = 64;            // item 4 (units per hidden layer)
  std::vector<int64_t> small_batches;  // item 5
  std::vector<int64_t> cost_batches;   // item 8
  int epochs_sensitivity = 2;                  // hyperparameter sensitivity (108 runs in the full budget)
  std::vector<double> sensitivity_lrs;         // hyperparameter sensitivity: Adam's learning rate ×
  std::vector<double> sensitivity_scales;      //   the initial weight scale ×
  std::vector<int64_t> sensitivity_batches;    //   the batch size
  int epochs_regularizers = 10;                // regularization still needed
  double weight_decay = 0;                     // regularization still needed: AdamW's decoupled decay
  double dropout = 0;                          // regularization still needed: the rate after each hidden block
  // The budget as JSON, for the study section.
  nlohmann::ordered_json to_json() const;
};

// UsageError for a name other than quick and full.
Budget study_budget(const std::string& name);

// The ids of every item of the registry (study_items.hpp), ascending: the default selection.
std::vector<int> study_item_ids();

struct StudyOptions {
  Budget budget;
  std::string dataset = "fashion-mnist";
  std::string data_dir;
  int threads = 1;
  std::vector<int> items = study_item_ids();
};

// One unit of work: a run, or several trained side by side (one epoch each in turn, so that both
// variants of a timing comparison see the same machine load: items 1 and 8), on the data of `seed`.
struct StudyJob {
  int item = 0;  // the item it is trained for (set by study_jobs: the smallest selected id that needs it)
  uint64_t seed = 0;
  std::vector<RunJob> runs;
};

// Every job the selected items need, including the runs they read from other items (StudyItem::reads:
// 6 and 7 read item 1's runs, 7 reads item 5's batch-norm runs), each once, in the order of the items
// that train them. UsageError for an id that is not an item.
std::vector<StudyJob> study_jobs(const StudyOptions& options, int64_t inputs, int64_t classes);

// The data options of every run (merged into each run's "config"), for the data of `seed`.
nlohmann::ordered_json study_data_config(const StudyOptions& options);

// Run names (see the top of this file).
std::string reference_run_name(const std::string& variant, uint64_t seed);
std::string lr_run_name(const std::string& optimizer, double lr, const std::string& variant, uint64_t seed);
std::string init_run_name(double scale, const std::string& variant, uint64_t seed);
std::string depth_run_name(int depth, const std::string& variant, uint64_t seed);
std::string batch_run_name(int64_t batch, const std::string& variant, uint64_t seed);
std::string cost_run_name(int64_t batch, const std::string& variant, uint64_t seed);
std::string sensitivity_run_name(double lr, double scale, int64_t batch, const std::string& variant, uint64_t seed);
std::string regularizer_run_name(const std::string& regularizer, uint64_t seed);

}  // namespace bnlab::lab

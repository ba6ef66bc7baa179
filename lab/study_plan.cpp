#include "lab/study_plan.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "graph/errors.hpp"
#include "graph/suggest.hpp"
#include "lab/study_items.hpp"

namespace bnlab::lab {

using json = nlohmann::ordered_json;

nlohmann::ordered_json Budget::to_json() const {
  return {{"name", name},
          {"limit_train", limit_train},
          {"limit_test", limit_test},
          {"seeds", seeds},
          {"epochs_reference", epochs_reference},
          {"epochs_grid", epochs_grid},
          {"epochs_small_batch", epochs_small_batch},
          {"epochs_cost", epochs_cost},
          {"learning_rates", learning_rates},
          {"weight_scales", weight_scales},
          {"depths", depths},
          {"depth_width", depth_width},
          {"small_batches", small_batches},
          {"cost_batches", cost_batches},
          {"epochs_sensitivity", epochs_sensitivity},
          {"sensitivity_lrs", sensitivity_lrs},
          {"sensitivity_scales", sensitivity_scales},
          {"sensitivity_batches", sensitivity_batches},
          {"epochs_regularizers", epochs_regularizers},
          {"weight_decay", weight_decay},
          {"dropout", dropout}};
}

Budget study_budget(const std::string& name) {
  Budget b;
  b.name = name;
  // The grids are the same in both budgets except depth 16; what changes is data, epochs, seeds.
  b.learning_rates = {1e-4, 1e-3, 1e-2, 1e-1, 1.0};
  b.weight_scales = {0.1, 1.0, 10.0};
  b.small_batches = {2, 4, 8, 16};
  b.cost_batches = {32, 128, 512};
  b.depth_width = 64;
  // Hyperparameter sensitivity: 3 × 3 × 2 configurations around the reference (Adam 1e-3, ×1, batch 32),
  // a decade each way and a batch 8× larger; few epochs, since "trains well" compares the variants at
  // the same budget, not at convergence.
  b.sensitivity_lrs = {1e-4, 1e-3, 1e-2};
  b.sensitivity_scales = {0.3, 1.0, 3.0};
  b.sensitivity_batches = {32, 256};
  // Regularization still needed: common settings, fixed before any run (AdamW papers use 0.01–0.1;
  // dropout on MLP hidden layers 0.2–0.5, the low end since batch norm adds noise of its own).
  b.weight_decay = 0.1;
  b.dropout = 0.2;
  if (name == "quick") {
    // A seeded subset: 8000 train / 2000 validation / 2000 test rows of Fashion-MNIST.
    b.limit_train = 10000;
    b.limit_test = 2000;
    b.seeds = {0, 1};
    b.epochs_reference = 5;
    b.epochs_grid = 3;
    b.epochs_small_batch = 2;
    b.epochs_cost = 1;
    b.depths = {2, 4, 8};
    b.epochs_sensitivity = 1;
    b.epochs_regularizers = 5;
  } else if (name == "full") {
    b.limit_train = 0;
    b.limit_test = 0;
    b.seeds = {0, 1, 2};
    b.epochs_reference = 10;
    b.epochs_grid = 5;
    b.epochs_small_batch = 5;
    b.epochs_cost = 3;
    b.depths = {2, 4, 8, 16};
    b.epochs_sensitivity = 2;
    b.epochs_regularizers = 10;
  } else {
    throw UsageError(unknown_name("budget", name, {"quick", "full"}));
  }
  return b;
}

json study_data_config(const StudyOptions& o) {
  return {{"val_fraction", 0.2},
          {"standardize", false},
          {"limit_train", o.budget.limit_train},
          {"limit_test", o.budget.limit_test},
          {"data_dir", o.data_dir}};
}

std::string reference_run_name(const std::string& variant, uint64_t seed) { return fmt::format("ref-{}-seed{}", variant, seed); }
std::string lr_run_name(const std::string& optimizer, double lr, const std::string& variant, uint64_t seed) {
  return fmt::format("lr-{}-{}-{}-seed{}", optimizer, lr, variant, seed);
}
std::string init_run_name(double scale, const std::string& variant, uint64_t seed) {
  return fmt::format("init-x{}-{}-seed{}", scale, variant, seed);
}
std::string depth_run_name(int depth, const std::string& variant, uint64_t seed) {
  return fmt::format("depth{}-{}-seed{}", depth, variant, seed);
}
std::string batch_run_name(int64_t batch, const std::string& variant, uint64_t seed) {
  return fmt::format("batch{}-{}-seed{}", batch, variant, seed);
}
std::string cost_run_name(int64_t batch, const std::string& variant, uint64_t seed) {
  return fmt::format("cost-bs{}-{}-seed{}", batch, variant, seed);
}

std::string sensitivity_run_name(double lr, double scale, int64_t batch, const std::string& variant, uint64_t seed) {
  return fmt::format("hp-lr{}-x{}-bs{}-{}-seed{}", lr, scale, batch, variant, seed);
}
std::string regularizer_run_name(const std::string& regularizer, uint64_t seed) {
  return fmt::format("reg-{}-batchnorm-seed{}", regularizer, seed);
}

std::vector<StudyJob> study_jobs(const StudyOptions& o, int64_t inputs, int64_t classes) {
  for (int item : o.items)
    if (!find_study_item(item))
      throw UsageError(fmt::format("{} is not a study item ({})", item, study_item_range()));
  const auto selected = [&](int item) { return std::find(o.items.begin(), o.items.end(), item) != o.items.end(); };
  const ItemPlan plan{o, inputs, classes};
  std::vector<StudyJob> jobs;
  for (const StudyItem& item : study_items()) {
    // Its runs are trained if it is selected (all of them, for itself), or else for the selected
    // items that read them (only the runs they keep, for the first of them in id order).
    const bool own = selected(item.id);
    int owner = own ? item.id : 0;
    std::vector<const ItemReads*> readers;
    for (const StudyItem& reader : study_items())
      if (selected(reader.id))
        for (const ItemReads& r : reader.reads)
          if (r.item == item.id) {
            readers.push_back(&r);
            if (owner == 0) owner = reader.id;
          }
    if (owner == 0 || !item.jobs) continue;
    const auto needed = [&](const RunJob& run) {
      if (own) return true;
      for (const ItemReads* r : readers)
        if (!r->keep || r->keep(run)) return true;
      return false;
    };
    for (StudyJob& job : item.jobs(plan)) {
      std::erase_if(job.runs, [&](const RunJob& run) { return !needed(run); });
      if (job.runs.empty()) continue;
      job.item = owner;
      jobs.push_back(std::move(job));
    }
  }
  return jobs;
}

}  // namespace bnlab::lab

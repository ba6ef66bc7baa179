#include "lab/study_plan.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "graph/errors.hpp"
#include "models/presets.hpp"

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
          {"cost_batches", cost_batches}};
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
  } else if (name == "full") {
    b.limit_train = 0;
    b.limit_test = 0;
    b.seeds = {0, 1, 2};
    b.epochs_reference = 10;
    b.epochs_grid = 5;
    b.epochs_small_batch = 5;
    b.epochs_cost = 3;
    b.depths = {2, 4, 8, 16};
  } else {
    throw UsageError("--budget " + name + ": unknown budget (known: quick, full)");
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

namespace {

RunJob base_job(const StudyOptions& o, const std::string& name, const std::string& variant, uint64_t seed, int epochs,
                int64_t inputs, int64_t classes, const ModelOptions& refine = {}) {
  RunJob j;
  j.name = name;
  j.spec = preset_spec(variant, inputs, classes, refine);
  j.config.dataset = o.dataset;
  j.config.model = variant;
  j.config.epochs = epochs;
  j.config.seed = seed;
  j.config.threads = o.threads;
  j.config.on_nonfinite = NonFinitePolicy::stop;  // a non-finite step ends the run as "diverged"
  j.extra_config = study_data_config(o);
  return j;
}

bool has(const std::vector<int>& items, int item) { return std::find(items.begin(), items.end(), item) != items.end(); }

}  // namespace

std::vector<StudyJob> study_jobs(const StudyOptions& o, int64_t inputs, int64_t classes) {
  for (int item : o.items)
    if (item < 1 || item > 8) throw UsageError(fmt::format("--items: {} is not a study item (1..8)", item));
  const Budget& b = o.budget;
  const auto& items = o.items;
  std::vector<StudyJob> jobs;
  auto single = [&](int item, uint64_t seed, RunJob run) { jobs.push_back({item, seed, {std::move(run)}}); };
  const std::vector<std::string> pair = {"plain", "batchnorm"};

  if (has(items, 1) || has(items, 6) || has(items, 7)) {
    const int owner = has(items, 1) ? 1 : has(items, 6) ? 6 : 7;
    for (uint64_t seed : b.seeds) {
      // Trained side by side: item 1 compares their wall times.
      StudyJob job{owner, seed, {}};
      for (const std::string& v : pair) {
        // Item 7 alone needs only the batch-norm runs.
        if (!has(items, 1) && !has(items, 6) && v != "batchnorm") continue;
        RunJob j = base_job(o, reference_run_name(v, seed), v, seed, b.epochs_reference, inputs, classes);
        j.eval_train = true;
        j.eval_batch_stats = v == "batchnorm";
        job.runs.push_back(std::move(j));
      }
      jobs.push_back(std::move(job));
    }
  }
  if (has(items, 2))
    for (uint64_t seed : b.seeds)
      for (const char* opt : {"sgd", "adam"})
        for (double lr : b.learning_rates)
          for (const std::string& v : pair) {
            RunJob j = base_job(o, lr_run_name(opt, lr, v, seed), v, seed, b.epochs_grid, inputs, classes);
            j.config.optimizer.kind = optimizer_from_string(opt);
            j.config.optimizer.lr = lr;
            single(2, seed, std::move(j));
          }
  if (has(items, 3))
    for (uint64_t seed : b.seeds)
      for (double scale : b.weight_scales)
        for (const std::string& v : pair) {
          RunJob j = base_job(o, init_run_name(scale, v, seed), v, seed, b.epochs_grid, inputs, classes, {.weight_scale = scale});
          single(3, seed, std::move(j));
        }
  if (has(items, 4))
    for (uint64_t seed : b.seeds)
      for (int depth : b.depths)
        for (const std::string& v : pair) {
          RunJob j = base_job(o, depth_run_name(depth, v, seed), v, seed, b.epochs_grid, inputs, classes,
                              {.hidden = std::vector<int64_t>(static_cast<size_t>(depth), b.depth_width)});
          single(4, seed, std::move(j));
        }
  if (has(items, 5) || has(items, 7))
    for (uint64_t seed : b.seeds)
      for (int64_t batch : b.small_batches)
        for (const char* v : {"plain", "batchnorm", "layernorm"}) {
          if (!has(items, 5) && std::string(v) != "batchnorm") continue;
          RunJob j = base_job(o, batch_run_name(batch, v, seed), v, seed, b.epochs_small_batch, inputs, classes);
          j.config.batch_size = batch;
          // A last batch of one sample cannot train batch norm; drop incomplete batches for all three alike.
          j.config.drop_last = true;
          j.eval_batch_stats = std::string(v) == "batchnorm";
          single(has(items, 5) ? 5 : 7, seed, std::move(j));
        }
  if (has(items, 8))
    for (uint64_t seed : b.seeds)
      for (int64_t batch : b.cost_batches) {
        StudyJob job{8, seed, {}};
        for (const std::string& v : pair) {
          RunJob j = base_job(o, cost_run_name(batch, v, seed), v, seed, b.epochs_cost, inputs, classes);
          j.config.batch_size = batch;
          // Per-layer statistics cost time of their own, the same for both; leave them out of the timing.
          j.config.record_internals = false;
          job.runs.push_back(std::move(j));
        }
        jobs.push_back(std::move(job));
      }
  return jobs;
}

}  // namespace bnlab::lab

// Study item 9. Per-worker or synchronized statistics: data-parallel training over 4 workers with
// batch norm normalizing each worker's few rows ("local", what PyTorch DDP does without
// SyncBatchNorm) or the whole global batch ("sync"), at per-worker batches 2, 4, 8, 16.
//
// NOTE: it trains on one process, with no MPI. 4 ranks with `--data-parallel --bn-stats local` train
// the same model as one process with ghost batch norm over 4 shares of the same global batch
// (bn_ghost_batches = 4), and `--bn-stats sync` the same as ordinary batch norm over the global batch
// — tested run for run in tests/test_data_parallel.cpp (threads as workers) and tests/test_mpi_train.cpp
// (mpirun). So "local" is the batchnorm preset with 4 ghost batches at batch 4·b, "sync" the batchnorm
// preset at batch 4·b, and the plain model at batch 4·b is the reference.
//
// Run names: workers4-b{b}-{local|sync|plain}-seed{S}, b the per-worker batch.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "lab/study_item.hpp"

namespace bnlab::lab {

namespace {

constexpr int64_t kWorkers = 4;
const std::vector<std::string> kArms = {"local", "sync", "plain"};

std::string worker_run_name(int64_t per_worker, const std::string& arm, uint64_t seed) {
  return fmt::format("workers{}-b{}-{}-seed{}", kWorkers, per_worker, arm, seed);
}

std::vector<StudyJob> plan_runs(const ItemPlan& p) {
  const Budget& b = p.budget();
  // The per-worker batches are item 5's grid (small_batches) and the epochs its epochs, so that
  // `--epochs` and the budgets set them alike.
  return grid_jobs(b, b.small_batches, kArms, [&](uint64_t seed, int64_t per_worker, const std::string& arm) {
    ModelOptions refine;
    if (arm == "local") refine.bn_ghost_batches = kWorkers;
    RunJob j = p.job(worker_run_name(per_worker, arm, seed), arm == "plain" ? "plain" : "batchnorm", seed, b.epochs_small_batch,
                     refine);
    j.config.batch_size = kWorkers * per_worker;
    // Every ghost share of every batch needs >= 2 rows (the trainer refuses otherwise): drop an
    // incomplete last batch, for all three arms alike. (The budgets' 8000 and 48000 training rows
    // are multiples of every global batch 8 … 64, so nothing is dropped there.)
    j.config.drop_last = true;
    return j;
  });
}

ItemResult analyze(ItemRuns& c) {
  const auto& batches = c.study.budget.small_batches;
  json rows = json::array();
  std::vector<double> stds, gaps;
  std::vector<Curve> acc(kArms.size());
  for (int64_t b : batches) {
    std::vector<MeanStd> m;
    for (size_t i = 0; i < kArms.size(); ++i) {
      m.push_back(c.cell([&](uint64_t s) { return worker_run_name(b, kArms[i], s); }, c.final_acc()));
      acc[i].add(static_cast<double>(b), m[i]);
    }
    // The tolerance comes from the compared cells: local and sync (plain is a reference only).
    stds.push_back(m[0].std);
    stds.push_back(m[1].std);
    gaps.push_back(m[0].mean - m[1].mean);
    rows.push_back(row({std::to_string(b), std::to_string(kWorkers * b), ms(m[0]), ms(m[1]), ms(m[2]), signed4(m[0].mean - m[1].mean),
                        signed4(m[1].mean - m[2].mean)}));
  }
  const double tol = tolerance(stds, kMinAccTolerance);
  const Verdict v = unless_within_noise(worker_statistics_verdict(gaps, tol), tol, kAccEffect);
  const double gs = gaps.empty() ? kNaN : gaps.front(), gl = gaps.empty() ? kNaN : gaps.back();
  const std::string summary =
      batches.empty() ? std::string("no per-worker batch sizes")
                      : fmt::format("local − sync in final validation accuracy ({} workers): {:+.4f} at {} rows per worker, {:+.4f} at {} "
                                    "(tol {:.4f})",
                                    kWorkers, gs, batches.front(), gl, batches.back(), tol);
  Figure fig{.title = "9. Per-worker or synchronized batch-norm statistics",
             .columns = 1,
             .caption = fmt::format("{} data-parallel workers, global batch = {} × per-worker batch: batch norm over each worker's rows "
                                    "(local, ghost batches), over the global batch (sync), and no normalization, with the same seeds and "
                                    "epochs.",
                                    kWorkers, kWorkers)};
  Panel p{.title = "final validation accuracy (eval mode)", .xlabel = "rows per worker", .ylabel = "validation accuracy", .logx = 2,
          .key = "below"};
  const char* labels[] = {"batch norm, local (per worker)", "batch norm, sync (global batch)", "none"};
  const int colors[] = {kLnColor, kBnColor, kPlainColor};
  for (size_t i = 0; i < kArms.size(); ++i) p.series.push_back(make_series(labels[i], acc[i].x, acc[i].mean, acc[i].std, colors[i]));
  fig.panels = {p};
  json numbers = numbers_table({"rows per worker", "global batch", "local", "sync", "none", "local − sync", "sync − none"}, rows);
  numbers["workers"] = kWorkers;
  numbers["local_minus_sync"] = numbers_json(gaps);
  return {v, tol, summary, numbers, fig};
}

}  // namespace

StudyItem study_item_worker_statistics() {
  return {.id = 9,
          .name = "worker statistics",
          .title = "per-worker batch-norm statistics",
          .claim = "With data-parallel training, normalizing over each worker's few rows hurts compared with statistics synchronized "
                   "over the global batch, and the harm grows as the per-worker batch shrinks.",
          .criterion = fmt::format(
              "{} data-parallel workers × per-worker batch b in 2, 4, 8, 16 (global batch {}·b), trained on one process: 'local' = "
              "batch norm with {} ghost batches (each worker's rows normalized alone — exactly what {} ranks with --bn-stats local "
              "train, tests/test_data_parallel.cpp and tests/test_mpi_train.cpp), 'sync' = batch norm over the global batch (what "
              "--bn-stats sync trains), and no normalization as a reference; same seeds and epochs, incomplete last batches "
              "dropped for all. gap(b) = local's mean final validation accuracy − sync's. Supported if gap(smallest b) < −tol and "
              "gap(smallest b) < gap(largest b) − tol (local is worse at 2 rows per worker, and more so than at 16). Not supported "
              "if gap(b) >= −tol at every b. Mixed otherwise; {}, over the local and sync cells.",
              kWorkers, kWorkers, kWorkers, kWorkers, accuracy_tolerance_text()),
          .jobs = plan_runs,
          .analyze = analyze};
}

}  // namespace bnlab::lab

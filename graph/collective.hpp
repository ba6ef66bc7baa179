// Collective: what an op or the trainer needs from the other workers of a data-parallel run — the
// element-wise sum of a span over every worker. The graph knows nothing else of distribution: dist/
// implements it on MPI (dist/mpi_collective.hpp), tests on threads of one process
// (tests/thread_collective.hpp), and a single process has none (a null Collective*).
//
//   void sync_stats(bnlab::Collective* c, std::span<float> sums) {
//     if (c) c->sum(sums);        // every worker now holds the sums over every worker's rows
//   }
//
// Contract of an implementation: every worker calls the same sums in the same order with spans of
// the same size; every worker gets the same bits back, and the same inputs give the same bits on
// every run with the same number of workers (the order of the additions is fixed for a given size).
// Called only from the thread that runs the session (never inside parallel_for).
#pragma once

#include <span>

namespace bnlab {

class Collective {
 public:
  virtual ~Collective() = default;
  virtual int rank() const = 0;  // this worker, 0 … size() − 1
  virtual int size() const = 0;  // workers
  // values ← Σ over workers of values, element-wise, in place.
  virtual void sum(std::span<float> values) = 0;
  virtual void sum(std::span<double> values) = 0;
};

}  // namespace bnlab

// bench_allreduce: the cost of one Collective::sum (MPI_Allreduce of floats) against its length, on
// whatever network mpirun gives the ranks — the measured input of the scaling model in
// docs/distributed.md. Prints one JSON line per length from rank 0.
//
//   mpirun -np 2 build/benchmarks/bench_allreduce            # this machine: shared memory
//   mpirun -np 8 --hostfile hosts build/benchmarks/bench_allreduce
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "dist/world.hpp"

int main(int argc, char** argv) {
  bnlab::dist::World& world = bnlab::dist::World::init(argc, argv);
  bnlab::Collective& c = world.collective();
  // 1 float (a stop flag), batch norm's per-channel sums (C = 64, 129), the step's numbers, the
  // MLP's gradients (109 770 floats with batch norm) and the CNN's (422 090).
  for (size_t n : {size_t{1}, size_t{64}, size_t{129}, size_t{1024}, size_t{16384}, size_t{109770}, size_t{422090}, size_t{1} << 20}) {
    std::vector<float> v(n, 1.0f);
    const int reps = n < 100000 ? 400 : 60;
    for (int i = 0; i < 20; ++i) c.sum(v);  // warm up: connections and buffers
    std::vector<double> us;
    for (int i = 0; i < reps; ++i) {
      world.barrier();
      const auto t0 = std::chrono::steady_clock::now();
      c.sum(v);
      us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(us.begin(), us.end());
    if (world.rank() == 0)
      std::printf("{\"ranks\": %d, \"floats\": %zu, \"bytes\": %zu, \"median_us\": %.2f, \"p10_us\": %.2f, \"p90_us\": %.2f}\n",
                  world.size(), n, n * sizeof(float), us[us.size() / 2], us[us.size() / 10], us[us.size() * 9 / 10]);
  }
  bnlab::dist::World::finalize();
  return 0;
}

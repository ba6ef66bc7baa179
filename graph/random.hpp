// bnlab's one random number generator: xoshiro256** seeded through splitmix64.
//
//   bnlab::Rng rng(/*seed=*/42);
//   float u = rng.uniform();            // [0, 1)
//   double n = rng.normal();            // N(0, 1)
//   uint64_t k = rng.below(10);         // [0, 10)
//   double v = bnlab::counter_uniform(seed, step, k);   // [0, 1), a pure function of its arguments
//
// NOTE: std::uniform_real_distribution and friends differ between standard libraries; bnlab
// writes its own conversions so a seed gives the same numbers everywhere, and so the whole
// state (four words) can be stored in a checkpoint for exact resume.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>

namespace bnlab {

class Rng {
 public:
  using State = std::array<uint64_t, 4>;

  explicit Rng(uint64_t seed = 0) { reseed(seed); }

  void reseed(uint64_t seed) {
    uint64_t z = seed;
    for (auto& word : s_) word = splitmix64(z);
  }

  // A generator for a named sub-stream (e.g. "shuffle", epoch 3) that does not disturb this one.
  static Rng derived(uint64_t seed, uint64_t stream, uint64_t index = 0) {
    uint64_t z = seed ^ (0x9E3779B97F4A7C15ull * (stream + 1));
    z = splitmix64(z) ^ index;
    return Rng(splitmix64(z));
  }

  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

  // Standard normal by Box–Muller (no cached second value, so the state alone determines the stream).
  double normal() {
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

  // Uniform integer in [0, n), unbiased (rejection of the incomplete last block).
  uint64_t below(uint64_t n) {
    if (n == 0) return 0;
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r = next();
    while (r >= limit) r = next();
    return r % n;
  }

  const State& state() const { return s_; }
  void set_state(const State& s) { s_ = s; }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  State s_{};
};

// A counter-based uniform in [0, 1) with 53 random bits: a pure function of (seed, a, b), so element
// b of draw a is the same number whichever thread computes it and in whatever order (dropout masks:
// a = the step, b = the element). Three rounds of the splitmix64 finalizer (Stafford's "Mix13", a
// bijection of 64 bits with full avalanche): the seed alone, then with a, then with b, each counter
// multiplied by its own odd constant so that neighbouring counters differ in many bits. NOTE: the
// seed is mixed on its own first because callers build seeds as seed ^ K·(id + 1) (Session's node
// seeds); xoring a counter in directly with the same K would make (id, a) and (a, id) collide.
// The first two rounds do not depend on b, so a loop over b computes them once.
// NOTE: not a stream generator — Rng is; this is for draws that must be addressable by index.
inline uint64_t counter_mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
inline double counter_uniform(uint64_t seed, uint64_t a, uint64_t b) {
  const uint64_t s = counter_mix64(seed + 0x9E3779B97F4A7C15ull);
  const uint64_t z = counter_mix64(s ^ (0xD6E8FEB86659FD93ull * (a + 1)));
  const uint64_t w = counter_mix64(z ^ (0xD1B54A32D192ED69ull * (b + 1)));
  return static_cast<double>(w >> 11) * 0x1.0p-53;
}

}  // namespace bnlab

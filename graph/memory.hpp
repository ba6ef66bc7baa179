// How much memory this process can still take, so that a model, batch or dataset too large for the
// machine is refused with a message before its buffers are allocated — rather than the kernel's
// out-of-memory killer ending the process midway (Linux overcommits: a huge allocation succeeds and
// the process dies when it touches the pages).
//
//   check_memory(bytes, [&] { return "the model needs " + format_bytes(bytes) + " for batch 4096"; },
//                "use a smaller batch size or model");
//   // UsageError: "the model needs 37.2 GiB for batch 4096, but this machine has 21.3 GiB available;
//   //              use a smaller batch size or model"
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace bnlab {

struct AvailableMemory {
  double bytes = 0;
  std::string source;  // "MemAvailable", "the cgroup's memory.max", "BNLAB_MEMORY_LIMIT"
};

// The smallest of: MemAvailable in /proc/meminfo, and the room left under the cgroup's limit
// (/sys/fs/cgroup/memory.max minus memory.current, cgroup v2) when it has one. The environment
// variable BNLAB_MEMORY_LIMIT=<bytes> replaces both (for tests: the same answer on any machine).
// nullopt when none can be read (then nothing is checked). UsageError for a BNLAB_MEMORY_LIMIT that
// is not a whole number of bytes.
std::optional<AvailableMemory> available_memory();

// "37.2 GiB", "512.0 MiB", "800 bytes".
std::string format_bytes(double bytes);

// UsageError "<need()>, but this machine has <available> available; <advice>" when `bytes` (a double:
// sizes that overflow 64 bits still compare) exceed available_memory(). `need` is only called then.
void check_memory(double bytes, const std::function<std::string()>& need, const std::string& advice);

}  // namespace bnlab

#include "graph/memory.hpp"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "graph/errors.hpp"

namespace bnlab {

namespace {

// The whole file's first line as a number, or nullopt ("max", absent, unreadable).
std::optional<double> number_file(const char* path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), v);
  if (ec != std::errc() || end != line.data() + line.size()) return std::nullopt;
  return static_cast<double>(v);
}

std::optional<double> mem_available() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  double kib = 0;
  std::string unit;
  while (in >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024;
  return std::nullopt;
}

}  // namespace

std::optional<AvailableMemory> available_memory() {
  if (const char* limit = std::getenv("BNLAB_MEMORY_LIMIT"); limit && *limit) {
    const std::string s = limit;
    uint64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size())
      throw UsageError("BNLAB_MEMORY_LIMIT=" + s + ": expected a whole number of bytes");
    return AvailableMemory{static_cast<double>(v), "BNLAB_MEMORY_LIMIT"};
  }
  std::optional<AvailableMemory> best;
  if (auto m = mem_available()) best = AvailableMemory{*m, "MemAvailable"};
  const auto max = number_file("/sys/fs/cgroup/memory.max");
  const auto current = number_file("/sys/fs/cgroup/memory.current");
  if (max && current) {
    const double room = *max > *current ? *max - *current : 0;
    if (!best || room < best->bytes) best = AvailableMemory{room, "the cgroup's memory.max"};
  }
  return best;
}

std::string format_bytes(double bytes) {
  const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(static_cast<int64_t>(bytes)) + " bytes";
  int u = -1;
  while (bytes >= 1024 && u < 5) {
    bytes /= 1024;
    ++u;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, bytes >= 1e6 ? "%.3g %s" : "%.1f %s", bytes, units[u]);
  return buf;
}

void check_memory(double bytes, const std::function<std::string()>& need, const std::string& advice) {
  const std::optional<AvailableMemory> available = available_memory();
  if (!available || bytes <= available->bytes) return;
  throw UsageError(need() + ", but this machine has " + format_bytes(available->bytes) + " available (" + available->source +
                   "); " + advice);
}

}  // namespace bnlab

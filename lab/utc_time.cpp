#include "lab/utc_time.hpp"

#include <chrono>
#include <ctime>

namespace bnlab::lab {

std::string utc_now(bool with_seconds) {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, with_seconds ? "%Y-%m-%d %H:%M:%S UTC" : "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

}  // namespace bnlab::lab

// The wall-clock time as reports, lock files and study headers print it, in UTC so that runs on
// machines in other time zones read alike: utc_now() "2026-12-01 20:50 UTC",
// utc_now(true) "2026-12-01 20:50:02 UTC".
#pragma once

#include <string>

namespace bnlab::lab {

std::string utc_now(bool with_seconds = false);

}  // namespace bnlab::lab

// The errors bnlab throws. The `bnlab` tool maps them to exit statuses:
//   UsageError, InputError, ShapeError → 2 (bad usage or bad input: the user can fix the call)
//   anything else (RuntimeError, std::exception) → 1 (a failure while running)
// Every message is one line that names what was wrong and where: file and byte offset, flag and
// value, node and shapes.
#pragma once

#include <stdexcept>
#include <string>

namespace bnlab {

// A failure while running (non-finite loss, I/O failure while writing, …).
struct RuntimeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Bad input data: a file that is missing, truncated or malformed; labels out of range; …
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A bad flag value or an invalid combination of options.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A graph whose shapes do not fit: names the node, the op and the shapes.
struct ShapeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace bnlab

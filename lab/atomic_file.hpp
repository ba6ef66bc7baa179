// Output files that are either complete or absent: a run that fails (or is interrupted) half-way
// through writing must not leave a truncated metrics file that a later script would trust.
//
//   bnlab::tool::check_output_path("--json", "out/run.json");   // before training: UsageError if unusable
//   bnlab::tool::write_file_atomically("out/run.json", text);  // writes out/run.json.tmp, renames it
#pragma once

#include <string>

namespace bnlab::lab {

// Throws UsageError naming `flag` and `path` when the file could not be written: its directory does
// not exist, the path is a directory, or the directory is not writable. Leaves no file behind.
void check_output_path(const std::string& flag, const std::string& path);

// Writes `content` to `path + ".tmp"` and renames it over `path` (atomic on POSIX within one file
// system). On failure removes the temporary file and throws RuntimeError naming the path.
void write_file_atomically(const std::string& path, const std::string& content);

}  // namespace bnlab::lab

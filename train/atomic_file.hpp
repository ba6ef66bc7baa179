// Output files that are either complete or absent: a run that fails (or is interrupted, or a machine
// that crashes) half-way through writing must not leave a truncated file that a later script — or a
// resume — would trust. Every file bnlab writes goes through here: checkpoints, metrics JSON/CSV,
// run files, figure data and scripts, reports.
//
//   bnlab::check_output_path("--json", "out/run.json");    // before training: UsageError if unusable
//   bnlab::write_file_atomically("out/run.json", text);   // out/run.json.tmp, fsync, rename, fsync out/
//
//   bnlab::AtomicFile f("run.safetensors");              // streaming: creates run.safetensors.tmp
//   f.write(header); f.write(tensor_bytes);              // …any number of pieces
//   f.commit();                                          // fsync, rename over run.safetensors, fsync dir
//   // (an AtomicFile destroyed without commit() removes its temporary file)
//
// Guarantees: the bytes go to "<path>.tmp" in the destination's directory, which is flushed to disk
// (fsync) and then renamed over `path` (atomic on POSIX within one file system), and the directory is
// flushed so that the rename itself survives a crash. Either `path` is afterwards the new content,
// whole, or — on any failure — the call throws RuntimeError "cannot write <path>: <the system's
// reason>", "<path>.tmp" is removed and `path` is as it was (absent, or the previous file unchanged).
// Destinations that are not regular files: a symbolic link keeps being a link — the file it points
// to is the one replaced, atomically, its temporary file beside it; a pipe, a terminal, a
// character device or a socket (`--json /dev/stdout | jq`, a FIFO a reader waits on, /dev/null) is
// opened and written in place, never renamed over (a rename would replace the pipe or the device
// node with a regular file), so such a destination gets the bytes as they are written.
// NOTE: one writer per path at a time: two writers of the same path share its temporary file.
#pragma once

#include <string>
#include <string_view>

namespace bnlab {

// Throws UsageError naming `flag` and `path` when the file could not be written: its directory does
// not exist, the path is a directory, the directory is not writable (for a link: the directory of
// the file it points to), or a pipe or device is not writable. Leaves no file behind.
void check_output_path(const std::string& flag, const std::string& path);

// An output folder a flag names (--checkpoint-dir, --out): created if missing, provided the folder
// above it exists. The one rule for every output flag: bnlab creates what a flag names — the file,
// or this folder — never missing folders above it. UsageError naming the flag, the path and the
// missing folder (or "is not a directory").
void prepare_output_dir(const std::string& flag, const std::string& dir);

// True for a destination written in place rather than renamed over (above): a pipe, a terminal, a
// device, /dev/stdout and the process's other descriptors. Such a file cannot be rewritten.
bool written_in_place(const std::string& path);

// Writes `content` to `path` atomically (above). Throws RuntimeError naming the path on failure.
void write_file_atomically(const std::string& path, std::string_view content);

// The last steps of the writer for a file another program wrote in full (gnuplot's images, rendered
// to `written` = "<path>.tmp"): fsync, rename over `path` (the file a link at `path` points to), fsync
// the directory. Throws RuntimeError naming `path`; `written` is then removed and `path` unchanged.
void publish_file(const std::string& written, const std::string& path);

// The same, for content written in pieces (a file too large to assemble in memory first).
class AtomicFile {
 public:
  // Creates "<path>.tmp" (truncating a leftover one). Throws RuntimeError naming `path`.
  explicit AtomicFile(std::string path);
  // Closes and removes the temporary file unless commit() succeeded; `path` is left as it was.
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Appends `bytes`. requires: not committed. Throws RuntimeError (the temporary file removed).
  void write(std::string_view bytes);
  // fsync, close, rename over `path`, fsync the directory. requires: not committed, called once.
  // Throws RuntimeError (the temporary file removed, `path` unchanged).
  void commit();

  const std::string& path() const { return path_; }

 private:
  [[noreturn]] void fail(const std::string& why);  // discards the temporary file, throws
  std::string path_;
  std::string target_;  // the file renamed over: path_, or the file a link at path_ points to
  std::string tmp_;
  int fd_ = -1;
  bool direct_ = false;  // a pipe or a device, written in place
  bool committed_ = false;
};

}  // namespace bnlab

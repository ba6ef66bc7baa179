// One process at a time in a run directory: two sweeps or studies writing the same DIR/runs would
// interleave their files (and share each file's temporary, atomic_file.hpp). A DirLock holds an
// advisory lock, flock(2), on DIR/.lock for as long as it lives; a second DirLock on the same
// directory, in any process, fails at once naming the holder:
//
//   DirLock lock("out/sweep", "bnlab sweep");   // UsageError if held:
//   // "out/sweep is in use by bnlab sweep, pid 1234 on host h, started 2026-12-01 19:50 UTC;
//   //  wait for it or choose another --out"
//
// The kernel releases the lock when its holder exits, however it ends (kill -9 included), so a
// DIR/.lock left behind never blocks the next run; the file itself is kept (removing it would let
// a third process lock a new file while a second still holds the old one). It names the holder:
// pid, host, command and start time, as JSON.
// NOTE: flock is advisory and, on NFS, emulated by the server's byte-range locks (Linux ≥ 2.6.12);
// two hosts sharing a directory over a file system without locks are not kept apart.
#pragma once

#include <string>

namespace bnlab::lab {

class DirLock {
 public:
  // Takes the lock on `dir`/.lock (created if needed; `dir` must exist) without waiting and writes
  // this process's description into it. Throws UsageError naming `dir` and the holder when another
  // process holds it, and naming the lock file when it cannot be created or locked.
  DirLock(const std::string& dir, const std::string& command);
  ~DirLock();  // releases the lock
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace bnlab::lab

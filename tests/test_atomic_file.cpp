// The one atomic writer every output goes through (train/atomic_file.hpp): the exact bytes on
// success, the previous file whole and no "<path>.tmp" on failure, and a RuntimeError naming the path.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "data_test_support.hpp"
#include "graph/errors.hpp"
#include "train/atomic_file.hpp"
#include "train/safetensors.hpp"
#include "skip_support.hpp"

using namespace bnlab;
using bnlab::test::message_of;
using bnlab::test::TempDir;
namespace fs = std::filesystem;

namespace {

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_plain(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}


// While alive, no file of this process may grow beyond `bytes` (RLIMIT_FSIZE): a write past it fails
// with EFBIG, as it would on a full disk, instead of raising SIGXFSZ.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    previous_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit limit = saved_;
    limit.rlim_cur = bytes;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &limit) == 0);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, previous_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit saved_{};
  void (*previous_handler_)(int) = SIG_DFL;
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("write_file_atomically: the file holds exactly the content, binary and empty included, and no .tmp is left") {
  TempDir dir;
  const std::string path = dir / "out.bin";
  const std::string content = std::string("line 1\nline 2\r\n\0\xff tail", 21);
  write_file_atomically(path, content);
  CHECK(read_bytes(path) == content);
  CHECK(names_in(dir.path()) == std::vector<std::string>{"out.bin"});

  write_file_atomically(dir / "empty.json", "");
  CHECK(fs::exists(dir / "empty.json"));
  CHECK(fs::file_size(dir / "empty.json") == 0);
}

TEST_CASE("write_file_atomically: an existing destination is replaced whole (no tail of a longer old file)") {
  TempDir dir;
  const std::string path = dir / "metrics.json";
  write_file_atomically(path, std::string(10000, 'a'));
  write_file_atomically(path, "short\n");
  CHECK(read_bytes(path) == "short\n");
  // A temporary file a crashed run left behind is overwritten and renamed away, not appended to.
  write_plain(path + ".tmp", std::string(5000, 'z'));
  write_file_atomically(path, "new\n");
  CHECK(read_bytes(path) == "new\n");
  CHECK(names_in(dir.path()) == std::vector<std::string>{"metrics.json"});
}

TEST_CASE("write_file_atomically: a missing directory is a RuntimeError naming the path and the system's reason") {
  TempDir dir;
  const std::string path = dir / "no/such/dir/run.json";
  const std::string message = message_of<RuntimeError>([&] { write_file_atomically(path, "{}\n"); });
  CHECK(contains(message, "cannot write " + path + ": "));
  CHECK(contains(message, "No such file or directory"));
  CHECK(names_in(dir.path()).empty());
}

TEST_CASE("write_file_atomically: a write that fails half-way (file too large, as a full disk) leaves the old file and no .tmp") {
  TempDir dir;
  const std::string path = dir / "run.json";
  write_plain(path, "old content\n");
  std::string message;
  {
    const FileSizeLimit limit(4096);  // (no test output inside: it might go to a file)
    message = message_of<RuntimeError>([&] { write_file_atomically(path, std::string(100000, 'x')); });
  }
  CHECK(contains(message, "cannot write " + path + ": "));
  CHECK(contains(message, "File too large"));
  CHECK(read_bytes(path) == "old content\n");
  CHECK_FALSE(fs::exists(path + ".tmp"));
  CHECK(names_in(dir.path()) == std::vector<std::string>{"run.json"});
}

TEST_CASE("write_file_atomically: a rename that fails (the destination is a directory) removes the .tmp, the directory untouched") {
  TempDir dir;
  const std::string path = dir / "report.md";
  fs::create_directories(path);
  write_plain(path + "/inside", "kept\n");
  const std::string message = message_of<RuntimeError>([&] { write_file_atomically(path, "# report\n"); });
  CHECK(contains(message, "cannot write " + path + ": renaming " + path + ".tmp failed: "));
  CHECK_FALSE(fs::exists(path + ".tmp"));
  CHECK(fs::is_directory(path));
  CHECK(read_bytes(path + "/inside") == "kept\n");
}

TEST_CASE("AtomicFile: pieces are concatenated on commit; destroyed without commit it leaves the old file and no .tmp") {
  TempDir dir;
  const std::string path = dir / "ck.safetensors";
  {
    AtomicFile f(path);
    CHECK(f.path() == path);
    f.write("head");
    f.write(std::string_view("\0\1", 2));
    f.write("");
    f.write("tail");
    CHECK_FALSE(fs::exists(path));  // nothing at the destination until commit()
    f.commit();
  }
  CHECK(read_bytes(path) == std::string("head\0\1tail", 10));

  {
    AtomicFile f(path);
    f.write("half of a new checkpoint");
    CHECK(fs::exists(path + ".tmp"));
    // (an exception between pieces unwinds through here)
  }
  CHECK(read_bytes(path) == std::string("head\0\1tail", 10));
  CHECK_FALSE(fs::exists(path + ".tmp"));
}

TEST_CASE("write_safetensors streams through the writer: a failed write keeps the previous checkpoint readable") {
  TempDir dir;
  const std::string path = dir / "w.safetensors";
  const std::vector<float> small(6, 0.5f);
  write_safetensors(path, {{"w", {2, 3}, small}}, {{"note", "old"}});
  const std::string before = read_bytes(path);

  const std::vector<float> big(100000, 1.0f);  // 400 kB of data, far past the limit below
  std::string message;
  {
    const FileSizeLimit limit(4096);
    message = message_of<RuntimeError>([&] { write_safetensors(path, {{"w", {100000}, big}}, {{"note", "new"}}); });
  }
  CHECK(contains(message, "cannot write " + path + ": "));
  CHECK(read_bytes(path) == before);
  CHECK_FALSE(fs::exists(path + ".tmp"));
  const SafetensorsFile f = read_safetensors(path);
  CHECK(f.metadata.at("note") == "old");
  CHECK(f.tensors.at("w").data == small);
}

TEST_CASE("check_output_path: UsageError naming the flag and the path for a missing directory or a directory; no probe file left") {
  TempDir dir;
  const std::string missing = dir / "nope/run.json";
  try {
    check_output_path("--json", missing);
    FAIL("expected a UsageError");
  } catch (const UsageError& e) {
    CHECK(contains(e.what(), "--json " + missing + ": directory "));
  }
  try {
    check_output_path("--csv", dir.path().string());
    FAIL("expected a UsageError");
  } catch (const UsageError& e) {
    CHECK(contains(e.what(), "--csv " + dir.path().string() + ": is a directory"));
  }
  check_output_path("--json", dir / "ok.json");
  CHECK(names_in(dir.path()).empty());
}

TEST_CASE("a named pipe is written in place, never replaced: the reader gets the document and the pipe stays a pipe") {
  TempDir dir;
  const std::string fifo = dir / "pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  check_output_path("--json", fifo);  // no probe file beside it
  std::string received;
  std::thread reader([&] { received = read_bytes(fifo); });  // blocks until the writer opens it
  write_file_atomically(fifo, "{\"runs\": []}\n");
  reader.join();
  CHECK(received == "{\"runs\": []}\n");
  CHECK(fs::is_fifo(fifo));
  CHECK(names_in(dir.path()) == std::vector<std::string>{"pipe"});
}

TEST_CASE("a symbolic link stays a link: the file it points to is replaced atomically, a dangling one is created") {
  TempDir dir;
  fs::create_directories(dir.path() / "runs");
  write_plain(dir / "runs/a.json", "old");
  fs::create_symlink("runs/a.json", dir / "latest.json");
  check_output_path("--json", dir / "latest.json");
  write_file_atomically(dir / "latest.json", "new");
  CHECK(fs::is_symlink(dir / "latest.json"));
  CHECK(fs::read_symlink(dir / "latest.json") == "runs/a.json");
  CHECK(read_bytes(dir / "runs/a.json") == "new");
  CHECK(names_in(dir.path() / "runs") == std::vector<std::string>{"a.json"});
  // Dangling: the file it names is created; the link is kept.
  fs::create_symlink("runs/b.json", dir / "next.json");
  write_file_atomically(dir / "next.json", "b");
  CHECK(fs::is_symlink(dir / "next.json"));
  CHECK(read_bytes(dir / "runs/b.json") == "b");
  // A link into a directory that does not exist is refused before anything runs.
  fs::create_symlink("nowhere/c.json", dir / "bad.json");
  CHECK(message_of<UsageError>([&] { check_output_path("--json", dir / "bad.json"); }) ==
        "--json " + (dir / "bad.json") + ": it links to " + fs::weakly_canonical(dir.path() / "nowhere/c.json").string() +
            ", whose directory does not exist");
}

TEST_CASE("a character device is written in place, never replaced (a device node of our own: root only)") {
  TempDir dir;
  const std::string node = dir / "null";
  if (::mknod(node.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) {
    bnlab::test::skip_test("mknod needs root (the pipe case covers the same path)");
    return;
  }
  write_file_atomically(node, "discarded");
  CHECK(fs::is_character_file(node));
  CHECK(names_in(dir.path()) == std::vector<std::string>{"null"});
}

// Replays inputs through a fuzz target's LLVMFuzzerTestOneInput without libFuzzer, so the normal
// test suite (g++, and the ASan + UBSan build) runs every seed and every finding of a corpus:
//   replay_<target> tests/fuzz/corpus/<target>      (a folder: each regular file in it, in name order)
//   replay_<target> FILE...
// A target aborts on what it must not do (an unexpected exception, a crash); this prints how many
// inputs ran and exits 0, or 2 when an argument is neither a file nor a folder or a folder is empty.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  std::vector<fs::path> inputs;
  for (int a = 1; a < argc; ++a) {
    const fs::path arg = argv[a];
    if (fs::is_directory(arg)) {
      std::vector<fs::path> files;
      for (const auto& entry : fs::directory_iterator(arg))
        if (entry.is_regular_file()) files.push_back(entry.path());
      if (files.empty()) {
        std::fprintf(stderr, "replay: %s: no inputs in this folder\n", arg.c_str());
        return 2;
      }
      std::sort(files.begin(), files.end());
      inputs.insert(inputs.end(), files.begin(), files.end());
    } else if (fs::is_regular_file(arg)) {
      inputs.push_back(arg);
    } else {
      std::fprintf(stderr, "replay: %s: not a file or a folder\n", arg.c_str());
      return 2;
    }
  }
  for (const fs::path& input : inputs) {
    std::ifstream in(input, std::ios::binary);
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::printf("replay %s (%zu bytes)\n", input.c_str(), bytes.size());
    std::fflush(stdout);  // the last line names the input if the target aborts
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  }
  std::printf("replay: %zu inputs, none aborted\n", inputs.size());
  return 0;
}

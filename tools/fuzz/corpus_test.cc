// Replays a fuzz target's corpus (tools/fuzz/corpus/<target>/: the hand-made seeds and every
// input that once crashed it) through the target's LLVMFuzzerTestOneInput in the ordinary
// build, so each crash found stays fixed. Built once per target (tools/fuzz/BUILD); a failure
// is a crash, a sanitizer report (under --config=asan), or an abort from the target's checks.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

TEST_CASE("fuzz corpus: every seed and past crash of " FUZZ_TARGET " runs cleanly") {
  const std::filesystem::path dir = std::filesystem::path("tools/fuzz/corpus") / FUZZ_TARGET;
  REQUIRE(std::filesystem::is_directory(dir));
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  CHECK(files.size() >= 2);
  for (const auto& file : files) {
    CAPTURE(file.string());
    std::ifstream in(file, std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
    CHECK(LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()) == 0);
  }
}

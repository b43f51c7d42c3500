#pragma once
// Where tests find the real MovieLens copies (never in the repo): $RECGRAD_DATA_DIR, else
// /work/shared/data. Tests that need a file check data_file() and, when it is absent, print a
// doctest MESSAGE and return instead of failing.
#include <cstdlib>
#include <string>
#include <sys/stat.h>

namespace recgrad::testing {

/// The data directory: $RECGRAD_DATA_DIR when set and non-empty, else /work/shared/data.
inline std::string recgrad_data_dir() {
  const char* env = std::getenv("RECGRAD_DATA_DIR");
  return env && *env ? std::string(env) : std::string("/work/shared/data");
}

/// The path of `relative` (e.g. "ml-100k/u.data") inside the data directory.
inline std::string data_path(const std::string& relative) { return recgrad_data_dir() + "/" + relative; }

/// True when `path` exists (a file or a directory).
inline bool path_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace recgrad::testing

/// In a doctest case: sets `var` to the data path of `relative`, or prints a MESSAGE and returns
/// from the test when it is absent.
#define RECGRAD_REQUIRE_DATA(var, relative)                                              \
  const std::string var = ::recgrad::testing::data_path(relative);                     \
  if (!::recgrad::testing::path_exists(var)) {                                           \
    MESSAGE("skipped: ", var, " is absent (set RECGRAD_DATA_DIR to the data directory)"); \
    return;                                                                              \
  }

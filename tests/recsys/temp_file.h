#pragma once
// Small files written from tests into Bazel's per-test temporary directory ($TEST_TMPDIR, or
// /tmp outside Bazel).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/stat.h>

namespace recgrad::testing {

/// The per-test temporary directory.
inline std::string temp_dir() {
  const char* env = std::getenv("TEST_TMPDIR");
  return env && *env ? std::string(env) : std::string("/tmp");
}

/// Writes `content` to temp_dir()/relative (creating one level of subdirectory if named) and
/// returns the full path.
inline std::string write_temp_file(const std::string& relative, const std::string& content) {
  const std::string path = temp_dir() + "/" + relative;
  const size_t slash = relative.find('/');
  if (slash != std::string::npos) ::mkdir((temp_dir() + "/" + relative.substr(0, slash)).c_str(), 0755);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return path;
  std::fwrite(content.data(), 1, content.size(), f);
  std::fclose(f);
  return path;
}

}  // namespace recgrad::testing

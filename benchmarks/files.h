#pragma once
// The few file operations the benchmark runners (//benchmarks:all, //benchmarks:reproduce)
// need for their output directories, shared so both write results the same way.
#include <string>

namespace recgrad::bench {

/// True when `path` exists (file or directory).
bool exists(const std::string& path);
/// Creates `path` and its missing parents (like mkdir -p); existing ones are left alone.
void make_dirs(const std::string& path);
/// The content of `path`, or "" when it cannot be read.
std::string read_text(const std::string& path);
/// Writes `text` to `path` through a temporary file and a rename, so a reader (or an
/// interrupted run) never sees a half-written results file.
void write_text(const std::string& path, const std::string& text);
/// The last non-empty line of a file (a log: what a failed run said last); "" if none.
std::string last_line(const std::string& path);
/// `path` made absolute: a relative path from the command line is relative to where
/// `bazel run` was called (BUILD_WORKING_DIRECTORY), else to the current directory.
std::string absolute(const std::string& path);

}  // namespace recgrad::bench

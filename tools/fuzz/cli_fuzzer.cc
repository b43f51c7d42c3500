// libFuzzer target: the `recgrad` command line (recsys/cli/parse.h) on arbitrary argv.
//
// Input layout: the argv words after the program name, separated by '\n' or '\0' bytes (so the
// seeds are readable text files, one word a line). Each input runs what the CLI does before any
// real work: CLI11's parse into the Flags (and, for a parse error or --help, the message CLI11
// prints), then check_flags (the --set options, model name, --split, --protocol, --format).
// When the command line asks for a tiny synthetic dataset (every --synthetic-* size given and
// small), the experiment is built too (filters and split), and for train/profile the model is
// constructed and attached to it, provided --dim and every number in --set values are small:
// what a model's factory checks is reached without training, or allocating what a fuzzed size
// asks for. A CLI::ParseError or recgrad::Error is a rejected command line, as expected; any
// other exception escaping, a crash or a sanitizer report is a bug. Build and run:
// tools/fuzz/run.sh.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/error.h"
#include "recsys/cli/parse.h"
#include "recsys/experiment.h"
#include "recsys/registry.h"

namespace {

using recgrad::recsys::cli::Command;
using recgrad::recsys::cli::Flags;

// Bounds of what the target builds (see the file comment); the synthetic generator needs
// 20 rows per user and 2.5 times as many items as the longest user has rows.
constexpr int64_t kMaxUsers = 32;
constexpr int64_t kMaxItems = 256;
constexpr int64_t kMaxRows = 2048;
constexpr int64_t kMaxDim = 64;
constexpr int64_t kMaxBatch = 4096;
constexpr double kMaxOptionNumber = 256;
constexpr size_t kMaxOptionLength = 64;

std::vector<std::string> words(const uint8_t* data, size_t size) {
  std::vector<std::string> out(1);
  for (size_t k = 0; k < size; ++k) {
    const char c = static_cast<char>(data[k]);
    if (c == '\n' || c == '\0') out.emplace_back();
    else out.back() += c;
  }
  if (out.back().empty()) out.pop_back();  // a final newline ends the last word
  return out;
}

bool tiny_synthetic(const Flags& f) {
  const auto& d = f.data;
  return d.path == "synthetic" && d.synthetic_users > 0 && d.synthetic_users <= kMaxUsers &&
         d.synthetic_items > 0 && d.synthetic_items <= kMaxItems && d.synthetic_rows > 0 &&
         d.synthetic_rows <= kMaxRows;
}

// True when every number in `text` (read from any position, as strtod would) is small, so a
// value read by ModelOptions::integer/sizes/real asks for no large allocation.
bool small_numbers(const std::string& text) {
  if (text.size() > kMaxOptionLength) return false;
  for (size_t k = 0; k < text.size(); ++k) {
    char* end = nullptr;
    const double v = std::strtod(text.c_str() + k, &end);
    if (end != text.c_str() + k && std::isfinite(v) && std::fabs(v) > kMaxOptionNumber)
      return false;
  }
  return true;
}

bool small_model(const Flags& f) {
  if (f.model.dim > kMaxDim || f.model.batch_size > kMaxBatch) return false;
  for (const auto& [key, value] : f.model.options)
    if (!small_numbers(value)) return false;
  return true;
}

void run(Command command, Flags& f) {
  recgrad::recsys::cli::check_flags(command, f);
  if (command == Command::kTrain) recgrad::recsys::epochs_for(f.model);
  const bool trains = command == Command::kTrain || command == Command::kProfile;
  if (!tiny_synthetic(f) || !(trains || command == Command::kExport)) return;
  const auto ex = recgrad::recsys::Experiment::load(f.data);
  if (!trains || !small_model(f)) return;
  auto model = recgrad::recsys::find_model(f.model.name)
                   .make(f.model, ex.data.num_users(), ex.data.num_items());
  model->attach(ex.training());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> argv_words = words(data, size);
  argv_words.insert(argv_words.begin(), "recgrad");
  std::vector<const char*> argv;
  for (const std::string& w : argv_words) argv.push_back(w.c_str());
  argv.push_back(nullptr);

  recgrad::recsys::cli::CommandLine line;
  Command command;
  try {
    command = line.parse(static_cast<int>(argv_words.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    // What main() prints: the help, or the error with its hint.
    std::ostringstream out, err;
    line.exit(e, out, err);
    return 0;
  }
  try {
    run(command, line.flags());
  } catch (const recgrad::Error& e) {
    if (std::getenv("RECGRAD_FUZZ_VERBOSE")) std::fprintf(stderr, "rejected: %s\n", e.what());
  }
  return 0;
}

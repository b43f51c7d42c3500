// libFuzzer target: every dataset format's loader (recsys/formats.h) on arbitrary bytes.
//
// Input layout: byte 0 picks the format (ml-100k, ml-1m, ml-20m, uir, seq, ncf, csv), byte 1 the
// csv options; the rest is the file, split at '\x01' bytes into the files a format reads beside
// its main one (ml-100k: u.data \x01 u.item; ml-1m: ratings.dat \x01 movies.dat; ml-20m:
// ratings.csv \x01 movies.csv; ncf: train \x01 test \x01 negatives). A loader may throw
// recgrad::Error (bad input is expected); anything else escaping, a crash, a sanitizer report,
// or a loaded dataset that breaks its invariants is a bug. Build and run: tools/fuzz/run.sh.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "autograd/error.h"
#include "recsys/dataset.h"
#include "recsys/formats.h"
#include "recsys/protocol_files.h"

namespace {

using recgrad::recsys::CsvColumn;
using recgrad::recsys::CsvOptions;
using recgrad::recsys::InteractionDataset;

// One directory per process, reused: the files are rewritten for every input.
const std::string& work_dir() {
  static const std::string dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/recgrad_fuzz_XXXXXX";
    if (!mkdtemp(templ.data())) std::abort();
    return templ;
  }();
  return dir;
}

void write(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::vector<std::string> parts(const std::string& s, size_t max_parts) {
  std::vector<std::string> out(1);
  for (char c : s) {
    if (c == '\x01' && out.size() < max_parts) out.emplace_back();
    else out.back() += c;
  }
  out.resize(max_parts);
  return out;
}

// A bug, not bad input: stop with a message libFuzzer keeps beside the crashing input.
void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "dataset_fuzzer: invariant broken: %s\n", what);
    std::abort();
  }
}

void check_invariants(const InteractionDataset& d) {
  const size_t n = d.users.size();
  require(d.items.size() == n, "users and items differ in length");
  require(d.ratings.empty() || d.ratings.size() == n, "ratings length");
  require(d.timestamps.empty() || d.timestamps.size() == n, "timestamps length");
  for (size_t k = 0; k < n; ++k) {
    require(d.users[k] >= 0 && d.users[k] < d.num_users(), "user id out of range");
    require(d.items[k] >= 0 && d.items[k] < d.num_items(), "item id out of range");
  }
  require(d.item_genres.empty() || static_cast<int64_t>(d.item_genres.size()) == d.num_items(),
          "item_genres length");
  for (const auto& genres : d.item_genres)
    for (int32_t g : genres)
      require(g >= 0 && static_cast<size_t>(g) < d.genre_names.size(), "genre out of range");
}

CsvOptions csv_options(uint8_t bits) {
  static const char* const kDelimiters[] = {",", "\t", "::", ";"};
  CsvOptions o;
  o.delimiter = kDelimiters[bits & 3];
  o.header = (bits & 4) != 0;
  o.numeric_ids = (bits & 8) != 0;
  if (bits & 16) o.rating = CsvColumn::at(2);
  if (bits & 32) o.timestamp = o.header ? CsvColumn::named("ts") : CsvColumn::at(3);
  if ((bits & 64) && o.header) o.user = CsvColumn::named("user");
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  static const char* const kFormats[] = {"ml-100k", "ml-1m", "ml-20m", "uir", "seq", "ncf", "csv"};
  const std::string format = kFormats[data[0] % 7];
  const CsvOptions csv = csv_options(data[1]);
  const std::string body(reinterpret_cast<const char*>(data) + 2, size - 2);
  const std::string& dir = work_dir();
  // Each format's own file names, so the loaders look for their side files as on real data.
  std::string path;
  if (format == "ml-100k" || format == "ml-1m" || format == "ml-20m") {
    const auto p = parts(body, 2);
    const bool k100 = format == "ml-100k", m1 = format == "ml-1m";
    path = dir + (k100 ? "/u.data" : m1 ? "/ratings.dat" : "/ratings.csv");
    const std::string side = dir + (k100 ? "/u.item" : m1 ? "/movies.dat" : "/movies.csv");
    write(path, p[0]);
    if (p[1].empty()) unlink(side.c_str());  // no side file at all is a case of its own
    else write(side, p[1]);
  } else if (format == "ncf") {
    const auto p = parts(body, 3);
    path = dir + "/x.train.rating";
    write(path, p[0]);
    write(dir + "/x.test.rating", p[1]);
    write(dir + "/x.test.negative", p[2]);
  } else {
    path = dir + "/data." + format;
    write(path, body);
  }
  try {
    if (format == "ncf") {
      const auto ncf = recgrad::recsys::load_ncf(path);
      check_invariants(ncf.train);
      require(ncf.negatives.size() == ncf.test.size(), "one negatives line per test pair");
      for (const auto& [u, i] : ncf.test)
        require(u >= 0 && u < ncf.train.num_users() && i >= 0 && i < ncf.train.num_items(),
                "ncf test pair out of range");
      for (const auto& line : ncf.negatives)
        for (int64_t i : line) require(i >= 0 && i < ncf.train.num_items(), "negative out of range");
    } else {
      check_invariants(recgrad::recsys::load_dataset(path, format, csv));
    }
  } catch (const recgrad::Error& e) {
    // Bad input, reported as such: what the loaders promise.
    if (std::getenv("RECGRAD_FUZZ_VERBOSE")) std::fprintf(stderr, "rejected: %s\n", e.what());
  }
  return 0;
}

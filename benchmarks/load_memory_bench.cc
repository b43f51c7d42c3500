// Peak memory of loading a large interaction file: writes a synthetic file of 50M lines by
// default (uir: user<TAB>item<TAB>rating<TAB>timestamp, or csv with a header; ~1.2 GB), loads it
// with the library's loader (recsys/delimited.h), and reports time, lines/s and the peak RSS
// (getrusage) beside the bound the loader promises (docs/reliability.md):
//
//   peak RSS <= RSS before loading + 28 B x rows + 200 B x distinct ids + 40 MiB
//
// 28 B is what InteractionDataset keeps per row (int64 user and item, float rating, int64
// timestamp; unused capacity is never touched); 200 B per distinct id covers its IdMap entry (the
// raw string, twice, and a hash node); 40 MiB covers the read block (8 MiB) and the interners'
// direct tables of small integer ids (16 MiB each at most). The file itself is streamed: its
// size does not appear. The file goes to --dir (default /tmp) and is deleted unless --keep.
// Exits 1 when the peak exceeds the bound.
//   bazel run -c opt //benchmarks:load_memory_bench -- [--lines N] [--users N] [--items N]
//       [--format uir|csv] [--dir DIR] [--keep] [--json FILE]
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "autograd/generator.h"
#include "benchmarks/peak_rss.h"
#include "recsys/delimited.h"

using namespace recgrad;
using namespace recgrad::recsys;
using recgrad::bench::current_rss_mib;
using recgrad::bench::peak_rss_mib;

namespace {

constexpr double kBytesPerRow = 28, kBytesPerId = 200, kConstantMib = 40;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Appends `v` in decimal and then `sep` to the buffer at `p`.
char* put(char* p, int64_t v, char sep) {
  p = std::to_chars(p, p + 24, v).ptr;
  *p++ = sep;
  return p;
}

// Writes `lines` rows: uniform users, items skewed toward small ids (the square of a uniform
// draw, as popularity is skewed), ratings 1..5, increasing timestamps. Returns the bytes written
// or -1 when the file cannot be written.
int64_t write_file(const std::string& path, int64_t lines, int64_t users, int64_t items,
                   bool csv) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f) return -1;
  const char sep = csv ? ',' : '\t';
  std::string buffer(size_t{1} << 20, '\0');
  char* const begin = buffer.data();
  char* p = begin;
  int64_t written = 0;
  auto flush = [&] {
    written += p - begin;
    const bool ok = std::fwrite(begin, 1, static_cast<size_t>(p - begin), f.get()) ==
                    static_cast<size_t>(p - begin);
    p = begin;
    return ok;
  };
  if (csv) {
    const std::string header = "user,item,rating,timestamp\n";
    p = std::copy(header.begin(), header.end(), p);
  }
  Generator gen(11);
  for (int64_t line = 0; line < lines; ++line) {
    if (begin + buffer.size() - p < 128 && !flush()) return -1;
    const double x = gen.next_float();
    p = put(p, static_cast<int64_t>(gen.next_below(static_cast<uint64_t>(users))), sep);
    p = put(p, static_cast<int64_t>(x * x * static_cast<double>(items)), sep);
    p = put(p, static_cast<int64_t>(gen.next_below(5)) + 1, sep);
    p = put(p, 1000000000 + line, '\n');
  }
  if (!flush() || std::fflush(f.get()) != 0) return -1;
  return written;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Peak memory of loading a large interaction file (issue 10)"};
  int64_t lines = 50000000, users = 1000000, items = 100000;
  std::string format = "uir", dir = "/tmp", json_path;
  bool keep = false;
  app.add_option("--lines", lines, "rows in the synthetic file")->check(CLI::PositiveNumber);
  app.add_option("--users", users, "distinct users (uniform)")->check(CLI::PositiveNumber);
  app.add_option("--items", items, "item id range (skewed)")->check(CLI::PositiveNumber);
  app.add_option("--format", format, "uir or csv")->check(CLI::IsMember({"uir", "csv"}));
  app.add_option("--dir", dir, "where the file is written")->check(CLI::ExistingDirectory);
  app.add_flag("--keep", keep, "keep the file afterwards");
  app.add_option("--json", json_path, "also write the results as JSON to FILE");
  CLI11_PARSE(app, argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress lines show when redirected to a file
  const bool csv = format == "csv";
  const std::string path = dir + "/recgrad_load_memory_" + std::to_string(getpid()) + "." + format;

  const auto write_start = std::chrono::steady_clock::now();
  const int64_t bytes = write_file(path, lines, users, items, csv);
  if (bytes < 0) {
    std::fprintf(stderr, "%s: cannot write the file\n", path.c_str());
    std::remove(path.c_str());
    return 1;
  }
  const double write_s = seconds_since(write_start);
  std::printf("wrote %s: %lld lines, %.0f MiB in %.1f s\n", path.c_str(),
              static_cast<long long>(lines), bytes / (1024.0 * 1024.0), write_s);

  const double before_mib = current_rss_mib();
  const auto load_start = std::chrono::steady_clock::now();
  InteractionDataset data;
  try {
    if (csv) {
      CsvOptions o;
      o.user = CsvColumn::named("user");
      o.item = CsvColumn::named("item");
      o.rating = CsvColumn::named("rating");
      o.timestamp = CsvColumn::named("timestamp");
      data = load_csv(path, o);
    } else {
      data = load_uir(path);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    if (!keep) std::remove(path.c_str());
    return 1;
  }
  const double load_s = seconds_since(load_start);
  const double peak = peak_rss_mib();
  if (!keep) std::remove(path.c_str());

  const int64_t ids = data.num_users() + data.num_items();
  const double bound = before_mib +
                       (kBytesPerRow * static_cast<double>(data.size()) +
                        kBytesPerId * static_cast<double>(ids)) / (1024.0 * 1024.0) +
                       kConstantMib;
  const double columns_mib = kBytesPerRow * static_cast<double>(data.size()) / (1024.0 * 1024.0);
  std::printf("loaded %lld rows (%lld users, %lld items) in %.1f s: %.2f M lines/s, %.0f MB/s\n",
              static_cast<long long>(data.size()), static_cast<long long>(data.num_users()),
              static_cast<long long>(data.num_items()), load_s, lines / load_s / 1e6,
              bytes / load_s / 1e6);
  std::printf("peak RSS: %.0f MiB; before loading %.0f MiB; columns %.0f MiB (28 B x rows); "
              "file %.0f MiB (streamed)\n",
              peak, before_mib, columns_mib, bytes / (1024.0 * 1024.0));
  std::printf("bound (before + 28 B x rows + 200 B x ids + 40 MiB): %.0f MiB: %s\n", bound,
              peak <= bound ? "met" : "MISSED");

  if (!json_path.empty()) {
    nlohmann::ordered_json j;
    j["binary"] = "load_memory_bench";
    j["format"] = format;
    j["lines"] = lines;
    j["file_bytes"] = bytes;
    j["rows"] = data.size();
    j["users"] = data.num_users();
    j["items"] = data.num_items();
    j["write_seconds"] = write_s;
    j["load_seconds"] = load_s;
    j["lines_per_second"] = lines / load_s;
    j["rss_before_mib"] = before_mib;
    j["columns_mib"] = columns_mib;
    j["peak_rss_mib"] = peak;
    j["bound_mib"] = bound;
    j["bound_met"] = peak <= bound;
    std::ofstream out(json_path);
    out << j.dump(2) << "\n";
    if (!out) {
      std::fprintf(stderr, "cannot write %s\n", json_path.c_str());
      return 1;
    }
  }
  return peak <= bound ? 0 : 1;
}

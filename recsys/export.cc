#include "recsys/export.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "autograd/error.h"

namespace recgrad::recsys {
namespace {

// mkdir -p: every prefix of `dir` that ends at a slash, then dir itself.
void make_dirs(const std::string& dir) {
  RECGRAD_CHECK(!dir.empty(), "export: --out is empty");
  for (size_t at = 1; at <= dir.size(); ++at) {
    if (at != dir.size() && dir[at] != '/') continue;
    const std::string prefix = dir.substr(0, at);
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST)
      throw Error("export: cannot create directory " + prefix + ": " + std::strerror(errno));
  }
  struct stat st {};
  RECGRAD_CHECK(::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode), "export: ", dir,
                " is not a directory");
}

void write_file(const std::string& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw Error("export: cannot write " + path + ": " + std::strerror(errno));
  const size_t written = std::fwrite(text.data(), 1, text.size(), f);
  const bool closed = std::fclose(f) == 0;
  RECGRAD_CHECK(written == text.size() && closed, "export: failed writing ", path);
}

// One part as TSV rows. A part of a rated dataset always carries ratings (the split copies the
// columns), so has_ratings decides the column for every part alike.
std::string part_tsv(const InteractionDataset& part, bool with_ratings) {
  std::string out;
  out.reserve(static_cast<size_t>(part.size()) * 16);
  char buf[64];
  for (int64_t r = 0; r < part.size(); ++r) {
    int n = std::snprintf(buf, sizeof buf, "%lld\t%lld", static_cast<long long>(part.users[r]),
                          static_cast<long long>(part.items[r]));
    out.append(buf, static_cast<size_t>(n));
    if (with_ratings) {
      n = std::snprintf(buf, sizeof buf, "\t%.9g", static_cast<double>(part.ratings[r]));
      out.append(buf, static_cast<size_t>(n));
    }
    out += '\n';
  }
  return out;
}

// A JSON string literal (quotes, backslashes and control characters escaped).
std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string json_names(const IdMap& ids) {
  std::string out = "[";
  for (int64_t d = 0; d < ids.size(); ++d) out += (d ? ", " : "") + json_string(ids.raw(d));
  return out + "]";
}

}  // namespace

ExportSummary export_experiment(const Experiment& ex, const std::string& dir) {
  RECGRAD_CHECK(parse_split(ex.spec.split).kind != SplitSpec::Kind::kNcf, "export: split '",
                ex.spec.split,
                "' ranks each test pair among fixed negatives "
                "that the exported files cannot carry; export a loo, ratio or global split");
  const bool with_ratings = ex.data.has_ratings();
  for (const InteractionDataset* part : {&ex.split.train, &ex.split.valid, &ex.split.test})
    RECGRAD_CHECK(!with_ratings || part->ratings.size() == part->users.size(),
                  "export: ", part->name, " has ", part->ratings.size(), " ratings for ",
                  part->size(), " rows");
  make_dirs(dir);
  write_file(dir + "/train.tsv", part_tsv(ex.split.train, with_ratings));
  write_file(dir + "/valid.tsv", part_tsv(ex.split.valid, with_ratings));
  write_file(dir + "/test.tsv", part_tsv(ex.split.test, with_ratings));
  ExportSummary s{ex.split.train.size(), ex.split.valid.size(), ex.split.test.size()};
  std::string meta = "{\n";
  meta += "  \"dataset\": " + json_string(ex.data.name) + ",\n";
  meta += "  \"split\": " + json_string(ex.spec.split) + ",\n";
  if (!ex.spec.test_path.empty())
    meta += "  \"test_file\": " + json_string(ex.spec.test_path) + ",\n";
  meta += "  \"num_users\": " + std::to_string(ex.data.num_users()) + ",\n";
  meta += "  \"num_items\": " + std::to_string(ex.data.num_items()) + ",\n";
  meta += std::string("  \"has_ratings\": ") + (with_ratings ? "true" : "false") + ",\n";
  meta += "  \"columns\": " +
          std::string(with_ratings ? "[\"user\", \"item\", \"rating\"]" : "[\"user\", \"item\"]") +
          ",\n";
  meta += "  \"rows\": {\"train\": " + std::to_string(s.train_rows) +
          ", \"valid\": " + std::to_string(s.valid_rows) +
          ", \"test\": " + std::to_string(s.test_rows) + "},\n";
  meta += "  \"user_names\": " + json_names(ex.data.user_ids) + ",\n";
  meta += "  \"item_names\": " + json_names(ex.data.item_ids) + "\n}\n";
  write_file(dir + "/meta.json", meta);
  return s;
}

}  // namespace recgrad::recsys

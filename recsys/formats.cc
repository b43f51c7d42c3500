#include "recsys/formats.h"

#include <filesystem>

#include "recsys/movielens.h"
#include "recsys/protocol_files.h"
#include "recsys/text_file.h"

namespace recgrad::recsys {
namespace {

std::string list_formats() {
  std::string s;
  for (const std::string& n : format_names()) s += (s.empty() ? "" : ", ") + n;
  return s;
}

// The ratings file each MovieLens format keeps inside its release directory.
const char* ratings_file(const std::string& format) {
  if (format == "ml-100k") return "u.data";
  if (format == "ml-1m") return "ratings.dat";
  if (format == "ml-20m") return "ratings.csv";
  return nullptr;
}

bool has_train_rating(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if (n.size() > 13 && n.compare(n.size() - 13, 13, ".train.rating") == 0) return true;
  }
  return false;
}

}  // namespace

const std::vector<std::string>& format_names() {
  static const std::vector<std::string> names{"ml-100k", "ml-1m", "ml-10m", "ml-20m", "ml-25m",
                                              "uir",     "seq",   "ncf",    "csv"};
  return names;
}

std::string canonical_format(const std::string& name) {
  if (name == "ml-10m") return "ml-1m";
  if (name == "ml-25m") return "ml-20m";
  for (const std::string& n : format_names())
    if (n == name) return n;
  throw Error(recgrad::detail::str_cat("unknown dataset format \"", name, "\"; the formats are ",
                              list_formats()));
}

std::string infer_format(const std::string& path) {
  if (detail::is_directory(path)) {
    for (const char* f : {"ml-100k", "ml-1m", "ml-20m"})
      if (detail::is_file(path + "/" + ratings_file(f))) return f;
    if (has_train_rating(path)) return "ncf";
  } else {
    const std::string name = detail::base_name(path);
    for (const char* f : {"ml-100k", "ml-1m", "ml-20m"})
      if (name == ratings_file(f)) return f;
    if (name.size() > 13 && name.compare(name.size() - 13, 13, ".train.rating") == 0) return "ncf";
  }
  throw Error(recgrad::detail::str_cat(path, ": cannot infer the dataset format from the file name ",
                              "(u.data, ratings.dat, ratings.csv, *.train.rating); give one of ",
                              list_formats()));
}

InteractionDataset load_dataset(const std::string& path, const std::string& format,
                                const CsvOptions& csv) {
  const std::string f = format.empty() ? infer_format(path) : canonical_format(format);
  if (f == "ncf") return load_ncf(path).train;
  std::string file = path;
  if (const char* inside = ratings_file(f); inside && detail::is_directory(path))
    file = path + "/" + inside;
  if (f == "ml-100k") return load_ml100k(file);
  if (f == "ml-1m") return load_ml1m(file);
  if (f == "ml-20m") return load_ml20m(file);
  if (f == "uir") return load_uir(file);
  if (f == "seq") return load_seq(file);
  return load_csv(file, csv);
}

}  // namespace recgrad::recsys

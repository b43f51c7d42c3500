#include "recsys/protocol_files.h"

#include <algorithm>
#include <filesystem>

#include "recsys/delimited.h"
#include "recsys/text_file.h"

namespace recgrad::recsys {
namespace {

constexpr std::string_view kTrainSuffix = ".train.rating";

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Reads X.test.rating: one (user, item[, rating, timestamp]) per line, interned into `train`'s
// maps (users or items absent from train get new ids).
std::vector<std::pair<int64_t, int64_t>> read_test(const std::string& path, InteractionDataset& train) {
  detail::LineCursor cur(path);
  detail::ViewInterner users(train.user_ids), items(train.item_ids);
  std::vector<std::pair<int64_t, int64_t>> test;
  std::vector<std::string_view> f;
  std::string_view line;
  while (cur.next(line)) {
    if (line.empty()) continue;
    detail::split_fields(line, "\t", f);
    if (f.size() < 2 || f.size() > 4)
      cur.fail("expected 2 to 4 tab-separated fields (ncf test.rating), found ", f.size());
    detail::check_id(cur, f[0], "user", true);
    detail::check_id(cur, f[1], "item", true);
    if (f.size() > 2) detail::parse_float(cur, f[2], "rating");
    if (f.size() > 3) detail::parse_int(cur, f[3], "timestamp");
    test.emplace_back(users.intern(f[0]), items.intern(f[1]));
  }
  if (test.empty()) throw Error(recgrad::detail::str_cat(path, ":1: no test rows (ncf test.rating)"));
  return test;
}

// Reads X.test.negative, checking line k's leading (user,item) against test[k].
std::vector<std::vector<int64_t>> read_negatives(const std::string& path,
                                                 const std::vector<std::pair<int64_t, int64_t>>& test,
                                                 InteractionDataset& train) {
  detail::LineCursor cur(path);
  detail::ViewInterner items(train.item_ids);
  std::vector<std::vector<int64_t>> negatives;
  negatives.reserve(test.size());
  std::vector<std::string_view> f;
  std::string_view line;
  while (cur.next(line)) {
    if (line.empty()) continue;
    detail::split_fields(line, "\t", f);
    const std::string_view head = f[0];
    const size_t comma = head.find(',');
    if (head.size() < 5 || head.front() != '(' || head.back() != ')' || comma == std::string_view::npos)
      cur.fail("field (user,item) \"", head, "\" is not of the form (user,item)");
    const std::string_view u = head.substr(1, comma - 1), i = head.substr(comma + 1, head.size() - comma - 2);
    detail::check_id(cur, u, "user", true);
    detail::check_id(cur, i, "item", true);
    const size_t k = negatives.size();
    if (k >= test.size()) cur.fail("more negatives lines than test.rating has rows (", test.size(), ")");
    if (train.user_ids.find(std::string(u)) != test[k].first ||
        train.item_ids.find(std::string(i)) != test[k].second)
      cur.fail("(user,item) ", head, " differs from line ", k + 1, " of the test.rating file (",
               train.user_ids.raw(test[k].first), ",", train.item_ids.raw(test[k].second), ")");
    if (f.size() < 2) cur.fail("no negatives after ", head);
    std::vector<int64_t> negs;
    negs.reserve(f.size() - 1);
    for (size_t c = 1; c < f.size(); ++c) {
      detail::check_id(cur, f[c], "negative item", true);
      negs.push_back(items.intern(f[c]));
    }
    negatives.push_back(std::move(negs));
  }
  if (negatives.size() != test.size())
    throw Error(recgrad::detail::str_cat(path, ":", cur.line_number() + 1, ": ", negatives.size(),
                                " negatives lines for ", test.size(), " test.rating rows"));
  return negatives;
}

}  // namespace

InteractionDataset load_seq(const std::string& path) {
  detail::DelimitedSpec spec;
  spec.format = "seq";
  spec.split_on_blanks = true;
  spec.min_columns = spec.max_columns = 2;
  spec.time_from_line_order = true;
  return detail::load_delimited(path, spec);
}

std::string ncf_train_path(const std::string& path) {
  if (!detail::is_directory(path)) {
    RECGRAD_CHECK(ends_with(path, kTrainSuffix), "ncf: ", path,
                  ": expected a directory or a file named X.train.rating");
    return path;
  }
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(path, ec))
    if (ends_with(entry.path().filename().string(), kTrainSuffix)) found.push_back(entry.path().string());
  std::sort(found.begin(), found.end());
  RECGRAD_CHECK(found.size() == 1, "ncf: ", path, ": expected exactly one *.train.rating file, found ",
                found.size());
  return found[0];
}

NcfProtocol load_ncf(const std::string& path) {
  const std::string train_path = ncf_train_path(path);
  const std::string prefix = train_path.substr(0, train_path.size() - kTrainSuffix.size());
  detail::DelimitedSpec spec;
  spec.format = "ncf train.rating";
  spec.delimiter = "\t";
  spec.min_columns = 3;
  spec.max_columns = 4;
  spec.rating = 2;  // the timestamp column is skipped: see NcfProtocol::train
  NcfProtocol p;
  p.train = detail::load_delimited(train_path, spec);
  p.test = read_test(prefix + ".test.rating", p.train);
  p.negatives = read_negatives(prefix + ".test.negative", p.test, p.train);
  return p;
}

}  // namespace recgrad::recsys

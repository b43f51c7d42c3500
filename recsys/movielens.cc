#include "recsys/movielens.h"

#include <unordered_map>

#include "recsys/delimited.h"
#include "recsys/text_file.h"

namespace recgrad::recsys {
namespace {

// The genres of u.item's 19 flag columns, in column order (as listed in ML-100K's u.genre).
constexpr const char* kMl100kGenres[] = {
    "unknown", "Action",    "Adventure", "Animation", "Children's", "Comedy",  "Crime",
    "Documentary", "Drama", "Fantasy",   "Film-Noir", "Horror",     "Musical", "Mystery",
    "Romance", "Sci-Fi",    "Thriller",  "War",       "Western"};
constexpr int kMl100kGenreCount = 19;
constexpr int kMl100kItemFields = 5 + kMl100kGenreCount;  // id, title, date, video date, url

// Starts empty genre tables for `data`'s items (replacing any read before).
void start_genres(InteractionDataset& data) {
  data.item_genres.assign(static_cast<size_t>(data.num_items()), {});
  data.genre_names.clear();
}

// The dense id of the raw item `raw`, or -1 if the ratings never mention it; an item listed twice
// in the genre file is an error (its genres would be ambiguous).
int64_t genre_row(const detail::LineCursor& at, std::string_view raw, std::vector<bool>& seen,
                  const InteractionDataset& data) {
  detail::check_id(at, raw, "item", /*numeric=*/true);
  const int64_t item = data.item_ids.find(std::string(raw));
  if (item < 0) return -1;
  if (seen[item]) at.fail("item ", raw, " is listed twice");
  seen[item] = true;
  return item;
}

std::string sibling(const std::string& path, const char* name) {
  return detail::parent_dir(path) + "/" + name;
}

// Every MovieLens ratings file has four columns: user, item, rating, timestamp.
detail::DelimitedSpec ratings_spec(const char* format, const char* delimiter) {
  detail::DelimitedSpec spec;
  spec.format = format;
  spec.delimiter = delimiter;
  spec.min_columns = spec.max_columns = 4;
  spec.rating = 2;
  spec.timestamp = 3;
  return spec;
}

// Loads the ratings at `path`, then the genres from `genre_file` next to it when that exists.
InteractionDataset load_with_genres(const std::string& path, const detail::DelimitedSpec& spec,
                                    const char* genre_file,
                                    void (*read_genres)(const std::string&, InteractionDataset&)) {
  InteractionDataset data = detail::load_delimited(path, spec);
  const std::string genres = sibling(path, genre_file);
  if (detail::is_file(genres)) read_genres(genres, data);
  return data;
}

}  // namespace

void read_ml100k_genres(const std::string& item_path, InteractionDataset& data) {
  detail::LineCursor cur(item_path);
  start_genres(data);
  data.genre_names.assign(std::begin(kMl100kGenres), std::end(kMl100kGenres));
  std::vector<bool> seen(data.item_genres.size(), false);
  std::vector<std::string_view> f;
  std::string_view line;
  // u.item is ISO-8859-1: titles are never decoded, only the id and the 0/1 flags (ASCII) are read.
  while (cur.next(line)) {
    if (line.empty()) continue;
    detail::split_fields(line, "|", f);
    if (static_cast<int>(f.size()) != kMl100kItemFields)
      cur.fail("expected ", kMl100kItemFields, " |-separated fields (ml-100k u.item), found ",
               f.size());
    const int64_t item = genre_row(cur, f[0], seen, data);
    for (int g = 0; g < kMl100kGenreCount; ++g) {
      const std::string_view flag = f[5 + g];
      if (flag != "0" && flag != "1")
        cur.fail("field genre flag ", g + 1, " (", kMl100kGenres[g], ") \"", flag,
                 "\" is not 0 or 1");
      if (item >= 0 && flag == "1") data.item_genres[item].push_back(g);
    }
  }
  if (cur.line_number() == 0) throw Error(recgrad::detail::str_cat(item_path, ":1: file is empty (u.item)"));
}

void read_movie_genres(const std::string& movies_path, InteractionDataset& data) {
  detail::LineCursor cur(movies_path);
  start_genres(data);
  std::vector<bool> seen(data.item_genres.size(), false);
  const bool is_csv = movies_path.size() >= 4 &&
                      movies_path.compare(movies_path.size() - 4, 4, ".csv") == 0;
  // movies.dat titles may contain ':' and movies.csv titles may contain quoted commas, but ids
  // and genre lists never do: the id ends at the first separator, the genres start after the
  // last one.
  const std::string_view sep = is_csv ? "," : "::";
  std::unordered_map<std::string, int32_t> genre_index;
  std::vector<std::string_view> names;
  std::string_view line;
  bool header = is_csv;
  while (cur.next(line)) {
    if (line.empty()) continue;
    if (header) {
      header = false;
      if (line != "movieId,title,genres")
        cur.fail("expected the header \"movieId,title,genres\", found \"", line, "\"");
      continue;
    }
    const size_t first = line.find(sep), last = line.rfind(sep);
    if (first == std::string_view::npos || first == last)
      cur.fail("expected id", sep, "title", sep, "genres");
    const int64_t item = genre_row(cur, line.substr(0, first), seen, data);
    std::string_view genres = line.substr(last + sep.size());
    if (item < 0 || genres == "(no genres listed)") continue;
    detail::split_fields(genres, "|", names);
    for (std::string_view g : names) {
      if (g.empty()) cur.fail("field genres \"", genres, "\" has an empty genre");
      auto [it, added] = genre_index.emplace(std::string(g), static_cast<int32_t>(genre_index.size()));
      if (added) data.genre_names.push_back(it->first);
      data.item_genres[item].push_back(it->second);
    }
  }
  if (cur.line_number() == 0) throw Error(recgrad::detail::str_cat(movies_path, ":1: file is empty (movies)"));
}

InteractionDataset load_ml100k(const std::string& path) {
  return load_with_genres(path, ratings_spec("ml-100k", "\t"), "u.item", read_ml100k_genres);
}

InteractionDataset load_ml1m(const std::string& path) {
  return load_with_genres(path, ratings_spec("ml-1m", "::"), "movies.dat", read_movie_genres);
}

InteractionDataset load_ml20m(const std::string& path) {
  detail::DelimitedSpec spec = ratings_spec("ml-20m", ",");
  spec.header = true;
  spec.on_header = [](const detail::LineCursor& at, const std::vector<std::string_view>& h,
                      detail::DelimitedSpec&) {
    const std::vector<std::string_view> want{"userId", "movieId", "rating", "timestamp"};
    if (h != want) at.fail("expected the header \"userId,movieId,rating,timestamp\" (ml-20m)");
  };
  return load_with_genres(path, spec, "movies.csv", read_movie_genres);
}

}  // namespace recgrad::recsys

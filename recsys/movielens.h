#pragma once
// MovieLens releases (https://grouplens.org/datasets/movielens/), read with their item genres
// when the genre file sits beside the ratings:
//
//   ml-100k  u.data       user<TAB>item<TAB>rating<TAB>timestamp     genres: u.item (19 flags)
//   ml-1m    ratings.dat  user::item::rating::timestamp (also ml-10m) genres: movies.dat A|B
//   ml-20m   ratings.csv  userId,movieId,rating,timestamp + header    genres: movies.csv A|B
//            (also ml-25m)
//
// Genres are attached only to items that have ratings (item_genres has num_items() entries; an
// item missing from the genre file gets an empty list), so side information never adds items.
#include <string>

#include "recsys/dataset.h"

namespace recgrad::recsys {

/// ML-100K's u.data, with genres from u.item beside it when present.
InteractionDataset load_ml100k(const std::string& path);
/// ML-1M / ML-10M's ratings.dat, with genres from movies.dat beside it when present.
InteractionDataset load_ml1m(const std::string& path);
/// ML-20M / ML-25M's ratings.csv, with genres from movies.csv beside it when present.
InteractionDataset load_ml20m(const std::string& path);

/// Reads ML-100K's u.item (ISO-8859-1, `|`-separated, 5 fields then 19 genre flags) into
/// data.item_genres / genre_names for the items data already has.
void read_ml100k_genres(const std::string& item_path, InteractionDataset& data);
/// Reads a `movies.dat` (`id::title::A|B`) or `movies.csv` (`movieId,title,A|B`, header, titles
/// possibly quoted) into data.item_genres / genre_names; genre names in order of first appearance.
void read_movie_genres(const std::string& movies_path, InteractionDataset& data);

}  // namespace recgrad::recsys

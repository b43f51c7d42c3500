#pragma once
// Dataset formats by short name, the one vocabulary of the CLI (--format), configs and docs:
//
//   ml-100k            u.data (tab-separated), genres from u.item
//   ml-1m, ml-10m      ratings.dat (`::`-separated), genres from movies.dat
//   ml-20m, ml-25m     ratings.csv (with header), genres from movies.csv
//   uir                user<TAB>item[<TAB>rating[<TAB>timestamp]], no header
//   seq                SASRec `user item` lines, chronological per user
//   ncf                NCF protocol files (the train part; load_ncf gives test and negatives)
//   csv                delimited with a column mapping (CsvOptions)
#include <string>
#include <vector>

#include "recsys/dataset.h"
#include "recsys/delimited.h"

namespace recgrad::recsys {

/// Every accepted format name, aliases included, in documentation order.
const std::vector<std::string>& format_names();

/// The canonical name of `name` ("ml-10m" -> "ml-1m", "ml-25m" -> "ml-20m"); throws
/// recgrad::Error listing the formats when `name` is unknown.
std::string canonical_format(const std::string& name);

/// The format implied by a path's file name: u.data -> ml-100k, ratings.dat -> ml-1m,
/// ratings.csv -> ml-20m, *.train.rating -> ncf; a directory by the one of those files it holds.
/// Throws recgrad::Error listing the formats when nothing matches.
std::string infer_format(const std::string& path);

/// Loads `path` in `format` ("" infers it from the file name). A directory is accepted for the
/// MovieLens formats (their ratings file inside it) and for ncf. `csv` applies to csv only.
InteractionDataset load_dataset(const std::string& path, const std::string& format = "",
                                const CsvOptions& csv = {});

}  // namespace recgrad::recsys

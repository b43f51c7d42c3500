#pragma once
// Files of published evaluation protocols, read as the papers' code reads them:
//
// - `seq`: the SASRec file (Kang & McAuley 2018; also BERT4Rec, Caser reproductions): `user item`
//   per line, each user's lines in chronological order. The file has no time column, so the
//   loader sets timestamps to the 0-based line order: time-based splits then reproduce the
//   paper's leave-one-out (last item test, second-to-last validation).
// - `ncf`: the NCF protocol (He et al. 2017): `X.train.rating` (user, item, rating, timestamp),
//   `X.test.rating` (one held-out (user, item) per user) and `X.test.negative`, whose line k is
//   `(user,item)` followed by the tab-separated negatives to rank that test item against.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "recsys/dataset.h"

namespace recgrad::recsys {

/// Loads a SASRec-style `user item` file (blank-separated, integer ids); timestamps = line order.
InteractionDataset load_seq(const std::string& path);

/// The NCF paper's split: training rows, one test pair per user and its fixed negatives, all in
/// the train dataset's dense ids (items or users seen only in the test files are interned into
/// train's IdMaps, so num_items() counts them).
struct NcfProtocol {
  /// Training rows with ratings. Timestamps are not kept: the published train files carry 0
  /// where the time is unknown, so they cannot order anything.
  InteractionDataset train;
  std::vector<std::pair<int64_t, int64_t>> test;  ///< (user, item) per line of X.test.rating
  std::vector<std::vector<int64_t>> negatives;    ///< negatives[k]: items to rank test[k] against
};

/// Loads the NCF protocol from a directory holding exactly one `*.train.rating` or from the
/// `X.train.rating` path itself; reads `X.test.rating` and `X.test.negative` beside it and checks
/// that each negatives line starts with the same (user,item) as the test line.
NcfProtocol load_ncf(const std::string& path);

/// The `X.train.rating` file that load_ncf would read for `path` (a directory or the file).
std::string ncf_train_path(const std::string& path);

}  // namespace recgrad::recsys

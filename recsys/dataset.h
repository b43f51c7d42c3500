#pragma once
// Interaction data with dense ids. Loaders map raw ids (strings in the file: "196", "u17") to
// dense 0-based ids in order of first appearance and keep the mapping, so results are reported
// with raw ids. A split's parts (train / validation / test) share one numbering.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace recgrad::recsys {

/// Raw id <-> dense id, in order of first appearance.
class IdMap {
 public:
  /// The dense id of `raw`, assigning the next one if it is new.
  int64_t intern(const std::string& raw);
  /// The dense id of `raw`, or -1 if unknown.
  int64_t find(const std::string& raw) const;
  /// The raw id of a dense id. Throws recgrad::Error when out of range.
  const std::string& raw(int64_t dense) const;
  int64_t size() const { return static_cast<int64_t>(raw_.size()); }

 private:
  std::vector<std::string> raw_;
  std::unordered_map<std::string, int64_t> dense_;
};

/// Interactions as parallel columns (struct of arrays): row k is (users[k], items[k]) with
/// ratings[k] / timestamps[k] when the source has them (the vectors are empty otherwise).
struct InteractionDataset {
  std::string name;                 ///< where it came from: a path, or "synthetic(seed=7)"
  std::vector<int64_t> users;       ///< dense user ids in [0, num_users())
  std::vector<int64_t> items;       ///< dense item ids in [0, num_items())
  std::vector<float> ratings;       ///< empty for implicit feedback
  std::vector<int64_t> timestamps;  ///< empty when the source has no time
  IdMap user_ids, item_ids;         ///< raw <-> dense

  /// Item side information (genres), when the format has it: item_genres[item] lists genre
  /// indices into genre_names. Empty when absent.
  std::vector<std::vector<int32_t>> item_genres;
  std::vector<std::string> genre_names;

  int64_t size() const { return static_cast<int64_t>(users.size()); }
  int64_t num_users() const { return user_ids.size(); }
  int64_t num_items() const { return item_ids.size(); }
  bool has_ratings() const { return !ratings.empty(); }
  bool has_timestamps() const { return !timestamps.empty(); }
};

/// Per-user item lists in compressed rows (values + offsets):
///
///   offsets = [0, 3, 3, 5]        items of user u = items[offsets[u] : offsets[u+1]]
///   items   = [4, 9, 1 | | 2, 7]  (user 1 has none)
///
/// Built from a dataset in its row order (so a chronologically sorted dataset gives histories
/// in time order).
struct UserItems {
  std::vector<int64_t> offsets;  ///< num_users + 1 entries
  std::vector<int64_t> items;
  int64_t num_items = 0;

  int64_t num_users() const { return static_cast<int64_t>(offsets.size()) - 1; }
  int64_t count(int64_t user) const { return offsets[user + 1] - offsets[user]; }
  const int64_t* begin(int64_t user) const { return items.data() + offsets[user]; }
  const int64_t* end(int64_t user) const { return items.data() + offsets[user + 1]; }

  /// Groups a dataset's rows by user, keeping row order within each user.
  static UserItems from(const InteractionDataset& data);
  /// Per-user lists given directly (tests, small examples): user u's items are per_user[u], in
  /// order. Throws recgrad::Error when num_items < 0 or an item is outside [0, num_items).
  static UserItems from_lists(const std::vector<std::vector<int64_t>>& per_user, int64_t num_items);
};

}  // namespace recgrad::recsys

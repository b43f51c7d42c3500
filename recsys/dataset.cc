#include "recsys/dataset.h"

#include "autograd/error.h"

namespace recgrad::recsys {

int64_t IdMap::intern(const std::string& raw) {
  auto [it, inserted] = dense_.emplace(raw, size());
  if (inserted) raw_.push_back(raw);
  return it->second;
}

int64_t IdMap::find(const std::string& raw) const {
  auto it = dense_.find(raw);
  return it == dense_.end() ? -1 : it->second;
}

const std::string& IdMap::raw(int64_t dense) const {
  RECGRAD_CHECK(dense >= 0 && dense < size(), "IdMap: dense id ", dense,
                " is out of range for ", size(), " ids");
  return raw_[dense];
}

UserItems UserItems::from(const InteractionDataset& data) {
  UserItems out;
  out.num_items = data.num_items();
  out.offsets.assign(data.num_users() + 1, 0);
  for (int64_t u : data.users) ++out.offsets[u + 1];
  for (size_t u = 1; u < out.offsets.size(); ++u) out.offsets[u] += out.offsets[u - 1];
  out.items.resize(data.users.size());
  std::vector<int64_t> fill(out.offsets.begin(), out.offsets.end() - 1);
  for (size_t k = 0; k < data.users.size(); ++k) out.items[fill[data.users[k]]++] = data.items[k];
  return out;
}

UserItems UserItems::from_lists(const std::vector<std::vector<int64_t>>& per_user,
                                int64_t num_items) {
  RECGRAD_CHECK(num_items >= 0, "UserItems::from_lists: num_items = ", num_items, " is negative");
  UserItems out;
  out.num_items = num_items;
  out.offsets.assign(per_user.size() + 1, 0);
  for (size_t u = 0; u < per_user.size(); ++u)
    out.offsets[u + 1] = out.offsets[u] + static_cast<int64_t>(per_user[u].size());
  out.items.reserve(out.offsets.back());
  for (size_t u = 0; u < per_user.size(); ++u)
    for (size_t k = 0; k < per_user[u].size(); ++k) {
      const int64_t item = per_user[u][k];
      RECGRAD_CHECK(item >= 0 && item < num_items, "UserItems::from_lists: item ", item,
                    " (user ", u, ", position ", k, ") is outside [0, ", num_items, ")");
      out.items.push_back(item);
    }
  return out;
}

}  // namespace recgrad::recsys

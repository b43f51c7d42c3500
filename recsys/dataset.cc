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

}  // namespace recgrad::recsys

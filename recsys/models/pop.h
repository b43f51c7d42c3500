#pragma once
// Pop: every user gets the items with the most training interactions. Not personalised, but
// the bar every model must clear (the "TopPop" of Cremonesi et al., RecSys 2010).
#include "recsys/recommender.h"

namespace recgrad::recsys {

class Pop : public Recommender {
 public:
  explicit Pop(int64_t num_items);
  std::string name() const override { return "pop"; }
  std::string describe() const override { return "Pop"; }
  void attach(const TrainingData& data) override;
  bool is_iterative() const override { return false; }
  void fit() override;
  int64_t start_epoch(int64_t) override { return 0; }
  int64_t batch_examples(int64_t) const override { return 0; }
  Tensor loss(int64_t) override;
  /// Every row is the item counts [num_items].
  Tensor score(const std::vector<int64_t>& users, const UserItems& history) override;

 private:
  Tensor counts_;  // [num_items], a buffer: saved in checkpoints
  const UserItems* history_ = nullptr;
};

}  // namespace recgrad::recsys

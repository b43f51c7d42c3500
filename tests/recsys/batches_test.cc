#include "recsys/batches.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "autograd/error.h"
#include "autograd/generator.h"
#include "ops/runtime.h"
#include "recsys/user_sets.h"

using namespace recgrad;
using namespace recgrad::recsys;

namespace {

// 5 users over 12 items in chronological order: a repeat (user 0), an empty user (3).
UserItems small_train() {
  return UserItems::from_lists({{4, 9, 1, 7, 9}, {2, 3}, {11}, {}, {0, 5, 6, 8, 10, 1}}, 12);
}

// 400 users with up to 30 random items of 200: big enough for the rows to run in parallel.
UserItems big_train() {
  Generator gen(3);
  std::vector<std::vector<int64_t>> h(400);
  for (auto& l : h)
    for (uint64_t i = 0, m = gen.next_below(30); i < m; ++i)
      l.push_back(static_cast<int64_t>(gen.next_below(200)));
  return UserItems::from_lists(h, 200);
}

// Multiset of (user, item) pairs of the lists.
std::map<std::pair<int64_t, int64_t>, int> pairs(const UserItems& l) {
  std::map<std::pair<int64_t, int64_t>, int> out;
  for (int64_t u = 0; u < l.num_users(); ++u)
    for (const int64_t* it = l.begin(u); it != l.end(u); ++it) ++out[{u, *it}];
  return out;
}

// Every triple of one epoch, concatenated: users, positives, negatives.
std::vector<int64_t> epoch_triples(TripleLoader& loader, int64_t epoch) {
  loader.start_epoch(epoch);
  std::vector<int64_t> out;
  TripleBatch b;
  while (loader.next(b)) {
    out.insert(out.end(), b.users.values.begin(), b.users.values.end());
    out.insert(out.end(), b.pos_items.values.begin(), b.pos_items.values.end());
    out.insert(out.end(), b.neg_items.values.begin(), b.neg_items.values.end());
  }
  return out;
}

}  // namespace

TEST_CASE("triple loader: every interaction once per epoch, negatives never positives") {
  const UserItems train = small_train();
  LoaderOptions opts;
  opts.batch_size = 3;
  opts.seed = 7;
  TripleLoader loader(train, opts);
  CHECK(loader.num_examples() == 14);
  CHECK(loader.num_batches() == 5);  // 3+3+3+3+2
  const UserItems sorted = sorted_unique(train);
  for (int64_t epoch = 0; epoch < 3; ++epoch) {
    loader.start_epoch(epoch);
    std::map<std::pair<int64_t, int64_t>, int> got;
    TripleBatch b;
    int64_t batches = 0;
    while (loader.next(b)) {
      CHECK(b.users.numel() == (batches < 4 ? 3 : 2));
      for (int64_t i = 0; i < b.users.numel(); ++i) {
        ++got[{b.users.values[i], b.pos_items.values[i]}];
        CHECK_FALSE(contains_sorted(sorted, b.users.values[i], b.neg_items.values[i]));
      }
      ++batches;
    }
    CHECK(batches == 5);
    CHECK(got == pairs(train));  // the repeat (0, 9) appears twice
  }
}

TEST_CASE("triple loader: same seed same batches, at 1 and 2 threads; epochs and seeds differ") {
  const UserItems train = big_train();
  LoaderOptions opts;
  opts.batch_size = 1500;
  opts.seed = 11;
  const int saved = num_threads();
  set_num_threads(1);
  TripleLoader a(train, opts);
  const std::vector<int64_t> one = epoch_triples(a, 2);
  set_num_threads(2);
  TripleLoader b(train, opts);
  CHECK(epoch_triples(b, 2) == one);
  set_num_threads(saved);
  CHECK(epoch_triples(b, 3) != one);
  opts.seed = 12;
  TripleLoader c(train, opts);
  CHECK(epoch_triples(c, 2) != one);
  // Unshuffled: user-major order.
  opts.shuffle = false;
  TripleLoader d(train, opts);
  const TripleBatch first = d.batch(0);
  CHECK(std::is_sorted(first.users.values.begin(), first.users.values.end()));
}

TEST_CASE("sequence and pointwise loaders: the same batches at 1 and 2 threads") {
  const UserItems train = big_train();
  SequenceOptions seq;
  seq.max_len = 10;
  seq.num_negatives = 2;
  seq.batch_size = 400;
  PointwiseOptions pw;
  pw.batch_size = 3000;
  const int saved = num_threads();
  set_num_threads(1);
  const SequenceBatch s1 = SequenceLoader(train, seq).batch(0);
  const PointwiseBatch p1 = PointwiseLoader(train, pw).batch(0);
  set_num_threads(2);
  const SequenceBatch s2 = SequenceLoader(train, seq).batch(0);
  const PointwiseBatch p2 = PointwiseLoader(train, pw).batch(0);
  set_num_threads(saved);
  CHECK(s1.inputs.values == s2.inputs.values);
  CHECK(s1.negatives.values == s2.negatives.values);
  CHECK(p1.items.values == p2.items.values);
}

TEST_CASE("pointwise loader: each positive is followed by k labelled negatives") {
  const UserItems train = small_train();
  PointwiseOptions opts;
  opts.batch_size = 4;
  opts.num_negatives = 3;
  PointwiseLoader loader(train, opts);
  const UserItems sorted = sorted_unique(train);
  std::map<std::pair<int64_t, int64_t>, int> got;
  PointwiseBatch b;
  while (loader.next(b)) {
    const int64_t rows = b.users.numel();
    CHECK(rows % 4 == 0);
    CHECK(b.labels.numel() == rows);
    for (int64_t r = 0; r < rows; r += 4) {
      CHECK(b.labels.data()[r] == 1.f);
      ++got[{b.users.values[r], b.items.values[r]}];
      for (int64_t j = 1; j < 4; ++j) {
        CHECK(b.labels.data()[r + j] == 0.f);
        CHECK(b.users.values[r + j] == b.users.values[r]);
        CHECK_FALSE(contains_sorted(sorted, b.users.values[r], b.items.values[r + j]));
      }
    }
  }
  CHECK(got == pairs(train));
  PointwiseLoader again(train, opts);
  CHECK(again.batch(1).items.values == loader.batch(1).items.values);
}

TEST_CASE("user-row loader per interaction: each user's row once per training item") {
  const UserItems train = small_train();  // 5, 2, 1, 0 and 6 items (user 0 repeats item 9)
  LoaderOptions opts;
  opts.batch_size = 3;
  opts.seed = 2;
  UserRowLoader loader(train, opts, UserRowsPer::kInteraction);
  CHECK(loader.num_examples() == 14);
  CHECK(loader.num_batches() == 5);
  std::map<int64_t, int> times;
  std::vector<int64_t> order;
  UserRowBatch b;
  while (loader.next(b))
    for (int64_t i = 0; i < b.users.numel(); ++i) {
      const int64_t u = b.users.values[i];
      ++times[u];
      order.push_back(u);
      CHECK(b.rows.at({i, *train.begin(u)}) == 1.f);
    }
  CHECK(times == std::map<int64_t, int>{{0, 5}, {1, 2}, {2, 1}, {4, 6}});
  CHECK_FALSE(std::is_sorted(order.begin(), order.end()));  // shuffled, not grouped by user
}

TEST_CASE("user-row loader: 0/1 rows of every user with items, once per epoch") {
  const UserItems train = small_train();
  LoaderOptions opts;
  opts.batch_size = 2;
  UserRowLoader loader(train, opts);
  CHECK(loader.num_examples() == 4);  // user 3 has no items
  std::vector<int64_t> users;
  UserRowBatch b;
  while (loader.next(b)) {
    CHECK(b.rows.shape() == Shape{b.users.numel(), 12});
    for (int64_t i = 0; i < b.users.numel(); ++i) {
      const int64_t u = b.users.values[i];
      users.push_back(u);
      for (int64_t item = 0; item < 12; ++item)
        CHECK(b.rows.at({i, item}) == (std::count(train.begin(u), train.end(u), item) ? 1.f : 0.f));
    }
  }
  std::sort(users.begin(), users.end());
  CHECK(users == std::vector<int64_t>{0, 1, 2, 4});
  // batch_users names the same users in the same order, without building the rows.
  loader.start_epoch(3);
  for (int64_t i = 0; i < loader.num_batches(); ++i)
    CHECK(loader.batch_users(i).values == loader.batch(i).users.values);
  // history() holds each user's items, ascending whatever order they came in.
  REQUIRE(loader.history().offsets == train.offsets);
  bool some_unsorted = false;
  for (int64_t u = 0; u < train.num_users(); ++u) {
    std::vector<int64_t> want(train.begin(u), train.end(u));
    some_unsorted = some_unsorted || !std::is_sorted(want.begin(), want.end());
    std::sort(want.begin(), want.end());
    CHECK(std::vector<int64_t>(loader.history().begin(u), loader.history().end(u)) == want);
  }
  CHECK(some_unsorted);  // the check above could fail
}

TEST_CASE("sequence loader: histories are left-padded with num_items, targets shifted by one") {
  const UserItems train = small_train();
  SequenceOptions opts;
  opts.max_len = 5;
  opts.num_negatives = 2;
  opts.shuffle = false;
  SequenceLoader loader(train, opts);
  CHECK(loader.padding_id() == 12);
  CHECK(loader.num_examples() == 3);  // users 0, 1, 4 have at least 2 items
  const SequenceBatch b = loader.batch(0);
  CHECK(b.users.values == std::vector<int64_t>{0, 1, 4});
  CHECK(b.inputs.shape == Shape{3, 5});
  const int64_t p = 12;
  // User 0: 4 9 1 7 9 -> inputs [pad 4 9 1 7], targets [pad 9 1 7 9].
  CHECK(std::vector<int64_t>(b.inputs.values.begin(), b.inputs.values.begin() + 5) ==
        std::vector<int64_t>{p, 4, 9, 1, 7});
  CHECK(std::vector<int64_t>(b.targets.values.begin(), b.targets.values.begin() + 5) ==
        std::vector<int64_t>{p, 9, 1, 7, 9});
  // User 1: 2 3 -> one position.
  CHECK(std::vector<int64_t>(b.inputs.values.begin() + 5, b.inputs.values.begin() + 10) ==
        std::vector<int64_t>{p, p, p, p, 2});
  CHECK(std::vector<int64_t>(b.targets.values.begin() + 5, b.targets.values.begin() + 10) ==
        std::vector<int64_t>{p, p, p, p, 3});
  // User 4: 0 5 6 8 10 1 -> exactly max_len positions, no padding.
  CHECK(std::vector<int64_t>(b.inputs.values.begin() + 10, b.inputs.values.end()) ==
        std::vector<int64_t>{0, 5, 6, 8, 10});
  CHECK(std::vector<int64_t>(b.targets.values.begin() + 10, b.targets.values.end()) ==
        std::vector<int64_t>{5, 6, 8, 10, 1});
  // Negatives: padding exactly where the target is padding, else never a positive.
  CHECK(b.negatives.shape == Shape{3, 5, 2});
  const UserItems sorted = sorted_unique(train);
  for (int64_t row = 0; row < 3; ++row)
    for (int64_t t = 0; t < 5; ++t)
      for (int64_t j = 0; j < 2; ++j) {
        const int64_t neg = b.negatives.values[(row * 5 + t) * 2 + j];
        if (b.targets.values[row * 5 + t] == p) {
          CHECK(neg == p);
        } else {
          CHECK_FALSE(contains_sorted(sorted, b.users.values[row], neg));
        }
      }
  // A shorter max_len keeps the most recent positions.
  opts.max_len = 2;
  const SequenceBatch short_b = SequenceLoader(train, opts).batch(0);
  CHECK(std::vector<int64_t>(short_b.inputs.values.begin(), short_b.inputs.values.begin() + 2) ==
        std::vector<int64_t>{1, 7});
  CHECK(std::vector<int64_t>(short_b.targets.values.begin(), short_b.targets.values.begin() + 2) ==
        std::vector<int64_t>{7, 9});
}

TEST_CASE("window loader: every L+T window, one padded window for short users") {
  // L = 2, T = 2. User 0 (6 items): windows at 0, 1, 2. User 1 (3 items): one window padded by
  // one. User 2 (2 items <= T): none.
  const UserItems train =
      UserItems::from_lists({{10, 11, 12, 13, 14, 15}, {20, 21, 22}, {30, 31}}, 40);
  WindowOptions opts;
  opts.window = 2;
  opts.targets = 2;
  opts.num_negatives = 3;
  opts.shuffle = false;
  opts.batch_size = 10;
  WindowLoader loader(train, opts);
  CHECK(loader.num_examples() == 4);
  const WindowBatch b = loader.batch(0);
  CHECK(b.users.values == std::vector<int64_t>{0, 0, 0, 1});
  CHECK(b.inputs.values == std::vector<int64_t>{10, 11, 11, 12, 12, 13, 40, 20});
  CHECK(b.targets.values == std::vector<int64_t>{12, 13, 13, 14, 14, 15, 21, 22});
  CHECK(b.negatives.shape == Shape{4, 3});
  const UserItems sorted = sorted_unique(train);
  for (int64_t i = 0; i < 12; ++i)
    CHECK_FALSE(contains_sorted(sorted, b.users.values[i / 3], b.negatives.values[i]));
  // Shuffled: the same windows in another order, the same for the same seed.
  opts.shuffle = true;
  WindowLoader s1(train, opts), s2(train, opts);
  const WindowBatch x = s1.batch(0), y = s2.batch(0);
  CHECK(x.inputs.values == y.inputs.values);
  CHECK(x.negatives.values == y.negatives.values);
  std::vector<int64_t> sorted_targets = x.targets.values;
  std::sort(sorted_targets.begin(), sorted_targets.end());
  std::vector<int64_t> expect = b.targets.values;
  std::sort(expect.begin(), expect.end());
  CHECK(sorted_targets == expect);
}

TEST_CASE("last_items: the most recent items, left-padded") {
  const UserItems train = small_train();
  const Ids x = last_items(train, {0, 3, 2}, 3);
  CHECK(x.shape == Shape{3, 3});
  CHECK(x.values == std::vector<int64_t>{1, 7, 9, 12, 12, 12, 12, 12, 11});
}

TEST_CASE("loaders: bad options and impossible negatives name the problem") {
  const UserItems train = small_train();
  LoaderOptions bad;
  bad.batch_size = 0;
  CHECK_THROWS_WITH_AS(TripleLoader(train, bad),
                       doctest::Contains("TripleLoader: batch_size must be >= 1, got 0"),
                       recgrad::Error);
  SequenceOptions seq;
  seq.max_len = 0;
  CHECK_THROWS_WITH_AS(SequenceLoader(train, seq), doctest::Contains("max_len must be >= 1"),
                       recgrad::Error);
  WindowOptions win;
  win.targets = 0;
  CHECK_THROWS_AS(WindowLoader(train, win), recgrad::Error);
  const UserItems everything = UserItems::from_lists({{0, 1, 2}, {1}}, 3);
  CHECK_THROWS_WITH_AS(TripleLoader(everything, LoaderOptions{}),
                       doctest::Contains("user 0 has interacted with all 3 items"), recgrad::Error);
  TripleLoader loader(train);
  CHECK_THROWS_WITH_AS(loader.batch(1),
                       doctest::Contains("batch 1 is outside the epoch's 1 batches"),
                       recgrad::Error);
}

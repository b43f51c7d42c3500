// Trains BPR-MF on a CSV file of interactions and writes the top-K unseen items of every user.
//
//   bpr_csv INTERACTIONS.csv RECOMMENDATIONS.tsv [--save MODEL.ckpt] [--epochs N] [--dim D]
//           [-k K] [--seed S]
//
// The CSV has a header line, then one interaction per line: user,item (more columns are
// allowed and ignored); ids are any strings. The output has one line per user, in order of
// first appearance in the CSV:
//
//   user<TAB>item1,item2,...,itemK        (best first; fewer when the user has seen the rest)
//
// --save also writes a checkpoint that examples/serve answers queries from.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "optim/optim.h"
#include "recsys/recsys.h"

using namespace recgrad;

namespace {

struct Args {
  std::string csv, out, save;
  int64_t epochs = 30, dim = 32, k = 10;
  uint64_t seed = 0;
};

Args parse_args(int argc, char** argv) {
  Args a;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> std::string {
      RECGRAD_CHECK(i + 1 < argc, flag, ": missing value");
      return argv[++i];
    };
    auto number = [&]() -> int64_t {
      const std::string v = value();
      char* end = nullptr;
      const long long n = std::strtoll(v.c_str(), &end, 10);
      RECGRAD_CHECK(!v.empty() && *end == '\0' && n >= 0, flag, ": '", v,
                    "' is not a non-negative integer");
      return n;
    };
    if (flag == "--save") a.save = value();
    else if (flag == "--epochs") a.epochs = number();
    else if (flag == "--dim") a.dim = number();
    else if (flag == "-k") a.k = number();
    else if (flag == "--seed") a.seed = static_cast<uint64_t>(number());
    else if (!flag.empty() && flag[0] == '-') RECGRAD_CHECK(false, "unknown flag ", flag);
    else positional.push_back(flag);
  }
  RECGRAD_CHECK(positional.size() == 2, "usage: bpr_csv INTERACTIONS.csv RECOMMENDATIONS.tsv "
                "[--save MODEL.ckpt] [--epochs N] [--dim D] [-k K] [--seed S]");
  RECGRAD_CHECK(a.k > 0 && a.epochs > 0, "-k and --epochs must be positive");
  a.csv = positional[0];
  a.out = positional[1];
  return a;
}

// "user<TAB>item1,item2,..." from row r of a TopK, raw ids; -1 pads rows with too few items.
std::string recommendation_line(const recsys::InteractionDataset& data, int64_t user,
                                const recsys::TopK& top, int64_t r, int64_t k) {
  std::string line = data.user_ids.raw(user) + "\t";
  for (int64_t j = 0; j < k; ++j) {
    const int64_t item = top.items.values[r * k + j];
    if (item < 0) break;
    if (j > 0) line += ",";
    line += data.item_ids.raw(item);
  }
  return line;
}

}  // namespace

int main(int argc, char** argv) try {
  const Args args = parse_args(argc, argv);

  // Dense ids in order of first appearance; `seen` lists each user's items (history and mask).
  const recsys::InteractionDataset data = recsys::load_csv(args.csv);
  const recsys::UserItems seen = recsys::UserItems::from(data);
  std::fprintf(stderr, "%s: %lld users, %lld items, %lld interactions\n", args.csv.c_str(),
               static_cast<long long>(data.num_users()), static_cast<long long>(data.num_items()),
               static_cast<long long>(data.size()));

  // The library's model and trainer; everything is trained on (no held-out split here).
  recsys::BprMfConfig config;
  config.dim = args.dim;
  config.train.lr = 5e-3;
  config.train.batch_size = 256;
  config.train.seed = args.seed;
  recsys::BprMf model(config, data.num_users(), data.num_items());
  model.attach({&data, &seen, data.num_users(), data.num_items()});
  auto optimizer = model.make_optimizer();
  recsys::TrainerOptions options;
  options.epochs = args.epochs;
  options.progress = recsys::ProgressMode::kLines;
  recsys::train(model, *optimizer, options);

  if (!args.save.empty()) {
    // What examples/serve needs to rebuild the model and the ids: the data file and the size.
    optim::Metadata meta;
    meta.set("example", "bpr_csv");
    meta.set("data.path", std::filesystem::absolute(args.csv).string());
    meta.set_u64("model.dim", static_cast<uint64_t>(args.dim));
    optim::save(model, args.save, meta);
    std::fprintf(stderr, "saved %s\n", args.save.c_str());
  }

  // Top-K for every user, a batch of users per call; items the user has seen are masked.
  model.eval();
  std::ofstream out(args.out);
  RECGRAD_CHECK(out.good(), args.out, ": cannot open for writing");
  constexpr int64_t kUsersPerBatch = 1024;
  for (int64_t lo = 0; lo < data.num_users(); lo += kUsersPerBatch) {
    std::vector<int64_t> users;
    const int64_t hi = std::min(data.num_users(), lo + kUsersPerBatch);
    for (int64_t u = lo; u < hi; ++u) users.push_back(u);
    const recsys::TopK top = model.recommend(users, args.k, seen, seen);
    for (size_t r = 0; r < users.size(); ++r)
      out << recommendation_line(data, users[r], top, static_cast<int64_t>(r), args.k) << "\n";
  }
  out.close();
  RECGRAD_CHECK(out.good(), args.out, ": write failed");
  std::fprintf(stderr, "wrote top-%lld lists of %lld users to %s\n",
               static_cast<long long>(args.k), static_cast<long long>(data.num_users()),
               args.out.c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bpr_csv: %s\n", e.what());
  return 1;
}

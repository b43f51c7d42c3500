// Answers top-K queries from a trained model, one line in, one line out, as a service would
// behind a pipe or a socket:
//
//   serve MODEL.ckpt [-k K]
//   stdin:   u17                 a raw user id per line
//   stdout:  u17<TAB>i4,i9,...   its K best unseen items, best first (bpr_csv's format)
//            u99<TAB>ERROR unknown user
//
// The checkpoint is one examples/bpr_csv wrote with --save: its metadata names the CSV the
// model was trained on and the embedding size. The CSV is read again for the id mapping and
// for the items each user has seen (never recommended). Each answer is flushed at once.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "optim/optim.h"
#include "recsys/recsys.h"

using namespace recgrad;

namespace {

// Leading and trailing blanks (and a CR from a Windows client) are not part of an id.
std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

}  // namespace

int main(int argc, char** argv) try {
  std::string checkpoint;
  int64_t k = 10;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-k" && i + 1 < argc) k = std::atoll(argv[++i]);
    else checkpoint = arg;
  }
  RECGRAD_CHECK(!checkpoint.empty() && k > 0, "usage: serve MODEL.ckpt [-k K]  (K > 0)");

  // Rebuild what the model was trained on, then copy the trained weights in.
  const optim::Metadata meta = optim::read_checkpoint(checkpoint).metadata;
  RECGRAD_CHECK(meta.has("example") && meta.get("example") == "bpr_csv", checkpoint,
                ": not a checkpoint written by examples/bpr_csv --save");
  const recsys::InteractionDataset data = recsys::load_csv(meta.get("data.path"));
  const recsys::UserItems seen = recsys::UserItems::from(data);
  recsys::BprMfConfig config;
  config.dim = static_cast<int64_t>(meta.get_u64("model.dim"));
  recsys::BprMf model(config, data.num_users(), data.num_items());
  optim::load(model, checkpoint);  // checks every name and shape against the model
  // Eval mode once, before serving: recommend() then only reads the model, which is what makes
  // sharing it between request threads safe (docs/threads.md).
  model.eval();
  std::fprintf(stderr, "serving %s: %lld users, %lld items; one user id per line\n",
               checkpoint.c_str(), static_cast<long long>(data.num_users()),
               static_cast<long long>(data.num_items()));

  for (std::string line; std::getline(std::cin, line);) {
    const std::string raw = trim(line);
    const int64_t user = data.user_ids.find(raw);
    std::string answer = raw + "\t";
    if (user < 0) {
      answer += "ERROR unknown user";
    } else {
      const recsys::TopK top = model.recommend({user}, k, seen, seen);
      for (int64_t j = 0; j < k; ++j) {
        const int64_t item = top.items.values[j];
        if (item < 0) break;  // the user has seen all but fewer than k items
        if (j > 0) answer += ",";
        answer += data.item_ids.raw(item);
      }
    }
    std::cout << answer << std::endl;  // flushed: the client is waiting for this line
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "serve: %s\n", e.what());
  return 1;
}

// Records a CFGAN run step by step so that another framework can replay it exactly: the initial
// and final parameters, each epoch's PM and ZR samples, every step's batch and loss.
// benchmarks/torch/cfgan_replay.py replays the record in PyTorch from the same weights, samples
// and batches and reports how far its losses and final weights are from recgrad's: a check that
// recgrad's CFGAN computes what a PyTorch transcription of the authors' loop computes, step for
// step, which a comparison of final metrics (noisy across seeds) cannot show.
//
//   bazel run -c opt //benchmarks:cfgan_trace -- --data EXPORT_DIR --out TRACE_DIR
//       --set alternate=epoch [--set rows=item ... as `recgrad train`] [--epochs 2] [--seed 0]
//   /usr/bin/python3 benchmarks/torch/cfgan_replay.py --data EXPORT_DIR --trace TRACE_DIR
//
// EXPORT_DIR is written by `recgrad export`; the model trains on its train and valid parts, as
// the PyTorch transcription (benchmarks/torch/cfgan_authors.py) does. The model settings are
// `recgrad train`'s (--dim, --lr, --batch, --set); the record needs alternate=epoch, where each
// step is one update of one network. TRACE_DIR gets:
//   meta.json                 the settings the replay needs, the parameters' names and shapes
//   params.init.bin           every parameter before training, float32, in meta.json's order
//   params.final.bin          the same after the last epoch
//   epoch_E.masks.bin         uint8 [2, rows, row length]: each row's PM mask (c plus the PM
//                             sample) and ZR sample in epoch E (the same in all its passes)
//   epoch_E.steps.tsv         per step: D or G, recgrad's loss, the batch's rows in order
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/parallel.h"
#include "benchmarks/files.h"
#include "ops/runtime.h"
#include "recsys/model_options.h"
#include "recsys/models/cfgan.h"
#include "recsys/registry.h"

namespace {

using namespace recgrad;
using namespace recgrad::recsys;

// An exported part's (user, item) pairs: TSV lines "user item [rating ...]" with dense ids.
void read_pairs(const std::string& path, std::vector<std::vector<int64_t>>& per_user,
                int64_t num_items) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cfgan_trace: cannot read " + path);
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    int64_t u = -1, i = -1;
    fields >> u >> i;
    if (!fields || u < 0 || u >= static_cast<int64_t>(per_user.size()) || i < 0 || i >= num_items)
      throw std::runtime_error("cfgan_trace: " + path + ":" + std::to_string(n) +
                               ": expected dense user and item ids, got '" + line + "'");
    per_user[u].push_back(i);
  }
}

void write_floats(const std::string& path, const Cfgan& model) {
  std::ofstream out(path, std::ios::binary);
  for (const auto& [name, t] : model.named_parameters())
    out.write(reinterpret_cast<const char*>(t.data()),
              static_cast<std::streamsize>(sizeof(float) * t.numel()));
  if (!out) throw std::runtime_error("cfgan_trace: cannot write " + path);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Record a CFGAN run step by step for benchmarks/torch/cfgan_replay.py"};
  std::string data, out;
  int64_t epochs = 2, threads = 1;
  uint64_t seed = 0;
  ModelSpec spec;
  spec.name = "cfgan";
  std::vector<std::string> settings;
  app.add_option("--data", data, "directory written by `recgrad export`")->required();
  app.add_option("--out", out, "directory for the record (created when missing)")->required();
  app.add_option("--epochs", epochs, "epochs to record")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--seed", seed, "parameters, orders and samples")->capture_default_str();
  app.add_option("--threads", threads, "threads")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--dim", spec.dim, "G's hidden units");
  app.add_option("--lr", spec.lr, "learning rate");
  app.add_option("--batch", spec.batch_size, "G's batch size");
  app.add_option("--set", settings, "a setting key=value, as `recgrad train --set`");
  CLI11_PARSE(app, argc, argv);
  try {
    for (const std::string& kv : settings) parse_model_option(kv, spec.options);
    spec.seed = seed;
    data = bench::absolute(data);
    out = bench::absolute(out);
    set_num_threads(static_cast<int>(threads));
    set_flush_denormals(true);  // as the recgrad CLI, and the replay (torch.set_flush_denormal)

    const std::string meta_path = data + "/meta.json";
    if (!bench::exists(meta_path))
      throw std::runtime_error("cfgan_trace: no " + meta_path +
                               " (--data takes a directory written by `recgrad export`)");
    const nlohmann::json meta_in = nlohmann::json::parse(bench::read_text(meta_path));
    const int64_t num_users = meta_in.at("num_users"), num_items = meta_in.at("num_items");
    std::vector<std::vector<int64_t>> per_user(static_cast<size_t>(num_users));
    read_pairs(data + "/train.tsv", per_user, num_items);
    read_pairs(data + "/valid.tsv", per_user, num_items);
    const UserItems history = UserItems::from_lists(per_user, num_items);

    std::unique_ptr<Recommender> built = find_model("cfgan").make(spec, num_users, num_items);
    auto* model = dynamic_cast<Cfgan*>(built.get());
    const CfganConfig& c = model->config();
    if (c.schedule != CfganSchedule::kPerEpoch)
      throw std::runtime_error(
          "cfgan_trace: needs --set alternate=epoch (each step then updates one network)");
    if (c.generator_activation != nn::Activation::kSigmoid ||
        c.discriminator_activation != nn::Activation::kSigmoid)
      throw std::runtime_error("cfgan_trace: the replay knows sigmoid hidden units only");
    TrainingData training;
    training.history = &history;
    training.num_users = num_users;
    training.num_items = num_items;
    model->attach(training);
    const std::unique_ptr<optim::Optimizer> opt = model->make_optimizer();

    bench::make_dirs(out);
    const bool item_rows = c.rows == CfganRows::kItem;
    const int64_t rows = item_rows ? num_items : num_users;
    const int64_t width = item_rows ? num_users : num_items;
    nlohmann::json meta = {{"rows", item_rows ? "item" : "user"},
                           {"num_rows", rows},
                           {"row_length", width},
                           {"sigmoid_output", c.sigmoid_output},
                           {"alpha", c.zr_weight},
                           {"g_lr", c.train.lr},
                           {"d_lr", c.d_lr > 0 ? c.d_lr : c.train.lr},
                           {"g_weight_decay", c.g_weight_decay},
                           {"d_weight_decay", c.d_weight_decay},
                           {"epochs", epochs},
                           {"seed", seed},
                           {"threads", threads},
                           {"parameters", nlohmann::json::array()}};
    for (const auto& [name, t] : model->named_parameters())
      meta["parameters"].push_back(
          {{"name", name}, {"shape", std::vector<int64_t>(t.shape().begin(), t.shape().end())}});
    bench::write_text(out + "/meta.json", meta.dump(2) + "\n");
    write_floats(out + "/params.init.bin", *model);

    model->train();
    for (int64_t epoch = 0; epoch < epochs; ++epoch) {
      const int64_t steps = model->start_epoch(epoch);
      std::vector<uint8_t> masks(static_cast<size_t>(2 * rows * width), 0);
      std::ostringstream log;
      log.precision(9);
      for (int64_t s = 0; s < steps; ++s) {
        const Cfgan::StepBatch b = model->step_batch(s);
        for (size_t k = 0; k < b.rows.size(); ++k)
          for (int64_t j = 0; j < width; ++j) {
            const size_t at = static_cast<size_t>(b.rows[k] * width + j);
            masks[at] = b.pm_mask.data()[k * width + j] != 0;
            masks[static_cast<size_t>(rows * width) + at] = b.zr_mask.data()[k * width + j] != 0;
          }
        log << (b.discriminator ? "D" : "G") << "\t" << model->train_step(s, *opt) << "\t";
        for (size_t k = 0; k < b.rows.size(); ++k) log << (k ? " " : "") << b.rows[k];
        log << "\n";
      }
      const std::string prefix = out + "/epoch_" + std::to_string(epoch);
      bench::write_text(prefix + ".steps.tsv", log.str());
      std::ofstream(prefix + ".masks.bin", std::ios::binary)
          .write(reinterpret_cast<const char*>(masks.data()),
                 static_cast<std::streamsize>(masks.size()));
      std::fprintf(stderr, "cfgan_trace: epoch %lld of %lld recorded (%lld steps)\n",
                   static_cast<long long>(epoch + 1), static_cast<long long>(epochs),
                   static_cast<long long>(steps));
    }
    write_floats(out + "/params.final.bin", *model);
    std::fprintf(stderr, "cfgan_trace: wrote %s\n", out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}

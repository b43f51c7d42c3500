// recgrad: train, evaluate and serve recommenders from the command line.
//   recgrad train --model bpr [--data synthetic|PATH] [--metrics-json out.json] ...
//   recgrad evaluate --checkpoint model.ckpt [--protocol sampled:100]
//   recgrad recommend --checkpoint model.ckpt --user 196 -k 10
//   recgrad export [--data synthetic|PATH] --out DIR
//   recgrad profile --model sasrec [--steps 10] [--json profile.json]
//   recgrad models
// The flags are defined in parse.cc, the commands in commands.cc and profile.cc.
#include <cstdio>
#include <exception>

#include "autograd/parallel.h"
#include "recsys/cli/commands.h"
#include "recsys/cli/parse.h"

using recgrad::recsys::cli::Command;

int main(int argc, char** argv) {
  recgrad::recsys::cli::CommandLine line;
  Command command;
  try {
    command = line.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return line.exit(e);
  }
  try {
    auto& f = line.flags();
    recgrad::recsys::cli::check_flags(command, f);
    // Denormals as zero: far below any figure the CLI reports, and a model whose weights decay
    // toward zero otherwise crawls (autograd/parallel.h).
    recgrad::set_flush_denormals(true);
    switch (command) {
      case Command::kTrain: return recgrad::recsys::cli::run_train(f);
      case Command::kEvaluate: return recgrad::recsys::cli::run_evaluate(f);
      case Command::kRecommend: return recgrad::recsys::cli::run_recommend(f);
      case Command::kExport: return recgrad::recsys::cli::run_export(f);
      case Command::kProfile: return recgrad::recsys::cli::run_profile(f);
      case Command::kModels: return recgrad::recsys::cli::run_models();
    }
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "recgrad: error: %s\n", e.what());
    return 1;
  }
}

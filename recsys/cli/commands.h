#pragma once
// The `recgrad` command line: train, evaluate, recommend, export, models. Flags are parsed in
// parse.cc (CLI11); these functions do the work and write results (JSON through nlohmann/json).
// Only the CLI depends on those two libraries: the core libraries stay dependency-free for
// embedding.
#include "recsys/cli/flags.h"

namespace recgrad::recsys::cli {

/// Trains flags.model on flags.data, evaluates it on the test part beside Pop, optionally
/// saves it and writes the JSON. Returns the process exit code.
int run_train(const Flags& flags);
/// Rebuilds the data and model recorded in flags.checkpoint and evaluates it.
int run_evaluate(const Flags& flags);
/// Prints the top-k unseen items (raw ids) of flags.user from flags.checkpoint.
int run_recommend(const Flags& flags);
/// Writes flags.data's train/valid/test parts and meta.json into flags.out (recsys/export.h).
int run_export(const Flags& flags);
/// Trains flags.model for flags.warmup_epochs epochs, then prints a per-op profile (time and
/// calls per op type, forward and backward) of the next flags.profile_steps training steps.
int run_profile(const Flags& flags);
/// Lists the registered models with their families, papers and defaults.
int run_models();

}  // namespace recgrad::recsys::cli

#pragma once
// The `recgrad` command line's flags (CLI11), apart from running the commands, so that a fuzz
// target (tools/fuzz/cli_fuzzer.cc) and tests reach the parsing and the up-front checks of any
// argv without training a model or reading data.
#include <CLI/CLI.hpp>

#include <iostream>

#include "recsys/cli/flags.h"

namespace recgrad::recsys::cli {

/// Which subcommand a command line runs.
enum class Command { kTrain, kEvaluate, kRecommend, kExport, kProfile, kModels };

/// The CLI11 app of `recgrad`, bound to a Flags it fills.
class CommandLine {
 public:
  CommandLine();
  CommandLine(const CommandLine&) = delete;
  CommandLine& operator=(const CommandLine&) = delete;

  /// Parses argv (argv[0] is the program name); once per CommandLine. Throws CLI::ParseError on a bad command line,
  /// and its subclasses CLI::CallForHelp / CallForAllHelp for --help (see exit()).
  Command parse(int argc, const char* const* argv);

  /// Prints what CLI11 prints for `e` (the help to `out`, or the error with a hint to `err`)
  /// and returns the process exit code for it.
  int exit(const CLI::ParseError& e, std::ostream& out = std::cout,
           std::ostream& err = std::cerr) const;

  /// The flags parse() filled.
  Flags& flags() { return flags_; }

 private:
  CLI::App app_;
  Flags flags_;
  CLI::App* train_ = nullptr;
  CLI::App* evaluate_ = nullptr;
  CLI::App* recommend_ = nullptr;
  CLI::App* export_ = nullptr;
  CLI::App* profile_ = nullptr;
};

/// What can be checked before any data is read or model trained: parses the --set key=value
/// options into flags.model.options, and checks the model name, --split, --protocol and
/// --format of the commands that take them. Throws recgrad::Error naming the flag. Once per
/// Flags: a second call finds the --set keys already set.
void check_flags(Command command, Flags& flags);

}  // namespace recgrad::recsys::cli

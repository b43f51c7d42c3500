#pragma once
// A model's own settings by name, beside the few every model shares (ModelSpec: dim, lr, batch,
// epochs, seed): `recgrad train --model ease --set lambda=250`. Each registry factory reads the
// keys it knows through a ModelOptions, which checks every value, and calls finish(), which
// refuses any key nobody read, so a typo is an error naming the model and its keys rather than
// a silently ignored setting.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace recgrad::recsys {

/// Reads the named settings given for one model (see the file comment).
class ModelOptions {
 public:
  /// `given` maps keys to their text, as typed after --set.
  ModelOptions(std::string model, const std::map<std::string, std::string>& given);

  /// A real number ("1e-3", "0.5"), or `fallback` when not given.
  double real(const std::string& key, double fallback);
  /// An integer ("200"), or `fallback` when not given.
  int64_t integer(const std::string& key, int64_t fallback);
  /// "true"/"false"/"1"/"0", or `fallback` when not given.
  bool boolean(const std::string& key, bool fallback);
  /// One of `allowed`, or `fallback` when not given.
  std::string choice(const std::string& key, const std::string& fallback,
                     const std::vector<std::string>& allowed);
  /// Positive integers separated by '-' or ',' ("600-200": layer sizes), or `fallback`.
  std::vector<int64_t> sizes(const std::string& key, const std::vector<int64_t>& fallback);

  /// Throws recgrad::Error when a given key was never read, listing the keys the model knows.
  void finish() const;

 private:
  // The text of `key` when given (and remembers that the model knows the key).
  const std::string* find(const std::string& key);
  [[noreturn]] void bad_value(const std::string& key, const std::string& value,
                              const std::string& expected) const;

  std::string model_;
  std::map<std::string, std::string> given_;
  std::set<std::string> known_;
};

/// Parses "key=value" (a --set argument) into `into`; throws recgrad::Error naming the text
/// when there is no '=' or the key is empty, or when the key was already set.
void parse_model_option(const std::string& text, std::map<std::string, std::string>& into);

}  // namespace recgrad::recsys

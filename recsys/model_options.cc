#include "recsys/model_options.h"

#include <cerrno>
#include <cstdlib>
#include <utility>

#include "autograd/error.h"

namespace recgrad::recsys {

ModelOptions::ModelOptions(std::string model, const std::map<std::string, std::string>& given)
    : model_(std::move(model)), given_(given) {}

const std::string* ModelOptions::find(const std::string& key) {
  known_.insert(key);
  const auto it = given_.find(key);
  return it == given_.end() ? nullptr : &it->second;
}

void ModelOptions::bad_value(const std::string& key, const std::string& value,
                             const std::string& expected) const {
  throw Error("--set " + key + "=" + value + ": model " + model_ + " expects " + expected);
}

double ModelOptions::real(const std::string& key, double fallback) {
  const std::string* text = find(key);
  if (!text) return fallback;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text->c_str(), &end);
  if (text->empty() || *end != '\0' || errno == ERANGE) bad_value(key, *text, "a real number");
  return v;
}

int64_t ModelOptions::integer(const std::string& key, int64_t fallback) {
  const std::string* text = find(key);
  if (!text) return fallback;
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(text->c_str(), &end, 10);
  if (text->empty() || *end != '\0' || errno == ERANGE) bad_value(key, *text, "an integer");
  return v;
}

bool ModelOptions::boolean(const std::string& key, bool fallback) {
  const std::string* text = find(key);
  if (!text) return fallback;
  if (*text == "true" || *text == "1") return true;
  if (*text == "false" || *text == "0") return false;
  bad_value(key, *text, "true or false");
}

std::string ModelOptions::choice(const std::string& key, const std::string& fallback,
                                 const std::vector<std::string>& allowed) {
  const std::string* text = find(key);
  if (!text) return fallback;
  std::string names;
  for (const std::string& a : allowed) {
    if (a == *text) return a;
    names += (names.empty() ? "" : ", ") + a;
  }
  bad_value(key, *text, "one of " + names);
}

std::vector<int64_t> ModelOptions::sizes(const std::string& key,
                                         const std::vector<int64_t>& fallback) {
  const std::string* text = find(key);
  if (!text) return fallback;
  std::vector<int64_t> out;
  const char* p = text->c_str();
  while (true) {
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(p, &end, 10);
    if (end == p || v <= 0 || errno == ERANGE || (*end != '\0' && *end != '-' && *end != ','))
      bad_value(key, *text, "positive integers separated by '-', e.g. 600-200");
    out.push_back(v);
    if (*end == '\0') break;
    p = end + 1;
  }
  return out;
}

void ModelOptions::finish() const {
  for (const auto& [key, value] : given_) {
    if (known_.count(key)) continue;
    std::string names;
    for (const std::string& k : known_) names += (names.empty() ? "" : ", ") + k;
    throw Error("--set " + key + "=" + value + ": model " + model_ + " has no option '" + key +
                "'; its options: " + (names.empty() ? "none" : names));
  }
}

void parse_model_option(const std::string& text, std::map<std::string, std::string>& into) {
  const size_t eq = text.find('=');
  RECGRAD_CHECK(eq != std::string::npos && eq > 0, "--set '", text, "': expected key=value");
  const std::string key = text.substr(0, eq);
  RECGRAD_CHECK(!into.count(key), "--set '", text, "': ", key, " is already set");
  into[key] = text.substr(eq + 1);
}

}  // namespace recgrad::recsys

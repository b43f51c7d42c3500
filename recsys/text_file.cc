#include "recsys/text_file.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

namespace recgrad::detail {

std::string read_file(const std::string& path) {
  RECGRAD_CHECK(!is_directory(path), path, ": is a directory, expected a data file");
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  RECGRAD_CHECK(f != nullptr, path, ": cannot open file: ", std::strerror(errno));
  // One read of the whole file: the fastest way to get bytes off disk, and the parsers below
  // then work on views into this buffer without copying.
  std::string text;
  char block[1 << 16];
  if (std::fseek(f.get(), 0, SEEK_END) == 0) {
    const long size = std::ftell(f.get());
    if (size > 0) text.reserve(static_cast<size_t>(size));
    std::rewind(f.get());
  }
  size_t got;
  while ((got = std::fread(block, 1, sizeof block, f.get())) > 0) text.append(block, got);
  RECGRAD_CHECK(!std::ferror(f.get()), path, ": read error: ", std::strerror(errno));
  return text;
}

bool is_file(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

bool is_directory(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec);
}

std::string parent_dir(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string base_name(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const size_t slash = p.find_last_of('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

bool LineCursor::next(std::string_view& line) {
  if (pos_ >= text_.size()) return false;
  const char* start = text_.data() + pos_;
  const void* nl = std::memchr(start, '\n', text_.size() - pos_);
  const size_t len = nl ? static_cast<size_t>(static_cast<const char*>(nl) - start) : text_.size() - pos_;
  line = std::string_view(start, len);
  pos_ += len + 1;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  ++line_;
  return true;
}

void split_fields(std::string_view line, std::string_view delim, std::vector<std::string_view>& fields) {
  fields.clear();
  if (delim.size() == 1) {
    // A byte loop: fields are a few characters long, too short for memchr to pay off.
    const char d = delim[0];
    const char* start = line.data();
    const char* const end = start + line.size();
    for (const char* p = start; p != end; ++p)
      if (*p == d) {
        fields.emplace_back(start, static_cast<size_t>(p - start));
        start = p + 1;
      }
    fields.emplace_back(start, static_cast<size_t>(end - start));
    return;
  }
  size_t start = 0, at;
  while ((at = line.find(delim, start)) != std::string_view::npos) {
    fields.push_back(line.substr(start, at - start));
    start = at + delim.size();
  }
  fields.push_back(line.substr(start));
}

void split_blanks(std::string_view line, std::vector<std::string_view>& fields) {
  fields.clear();
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) fields.push_back(line.substr(start, i - start));
  }
}

int64_t parse_int(const LineCursor& at, std::string_view text, const char* what) {
  int64_t v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end)
    at.fail("field ", what, " \"", text, "\" is not an integer");
  return v;
}

float parse_float(const LineCursor& at, std::string_view text, const char* what) {
  float v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(v))
    at.fail("field ", what, " \"", text, "\" is not a number");
  return v;
}

int64_t ViewInterner::intern(std::string_view raw) {
  int64_t v = -1;
  const char* end = raw.data() + raw.size();
  if (!raw.empty() && raw.size() <= 8 && (raw[0] != '0' || raw.size() == 1)) {
    auto [ptr, ec] = std::from_chars(raw.data(), end, v);
    if (ec != std::errc() || ptr != end) v = -1;
  }
  if (v >= 0 && v < kDirectLimit) {
    if (v >= static_cast<int64_t>(direct_.size()))
      direct_.resize(std::max<size_t>(static_cast<size_t>(v) + 1, direct_.size() * 2), 0);
    int64_t& slot = direct_[v];
    if (slot == 0) slot = ids_.intern(std::string(raw)) + 1;
    return slot - 1;
  }
  auto it = cache_.find(raw);
  if (it != cache_.end()) return it->second;
  const int64_t id = ids_.intern(std::string(raw));
  cache_.emplace(raw, id);
  return id;
}

void check_id(const LineCursor& at, std::string_view raw, const char* what, bool numeric) {
  if (raw.empty()) at.fail("field ", what, " is empty");
  if (numeric) parse_int(at, raw, what);
}

}  // namespace recgrad::detail

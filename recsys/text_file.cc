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

LineCursor::LineCursor(const std::string& path, size_t block_size) : path_(path) {
  RECGRAD_CHECK(block_size >= 1, path, ": the read block size must be >= 1");
  RECGRAD_CHECK(!is_directory(path), path, ": is a directory, expected a data file");
  file_.reset(std::fopen(path.c_str(), "rb"));
  RECGRAD_CHECK(file_ != nullptr, path, ": cannot open file: ", std::strerror(errno));
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec) size_hint_ = size;
  // A small file costs its size, not a whole block (+1: the read that finds the end).
  buffer_.resize(ec ? block_size : std::min<uint64_t>(block_size, size_hint_ + 1));
  data_ = buffer_.data();
}

LineCursor::LineCursor(const std::string& path, std::string_view text)
    : path_(path), data_(text.data()), end_(text.size()), bytes_read_(text.size()),
      size_hint_(text.size()) {}

bool LineCursor::refill() {
  if (!file_) return false;
  // Keep the unread tail (the start of a line that straddles the blocks) at the front.
  const size_t tail = end_ - pos_;
  if (tail > 0 && pos_ > 0) std::memmove(buffer_.data(), buffer_.data() + pos_, tail);
  scanned_ -= pos_;
  pos_ = 0;
  end_ = tail;
  if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);  // a line longer than a block
  data_ = buffer_.data();
  const size_t got = std::fread(buffer_.data() + end_, 1, buffer_.size() - end_, file_.get());
  if (got == 0) {
    RECGRAD_CHECK(!std::ferror(file_.get()), path_, ": read error: ", std::strerror(errno));
    file_.reset();
    return false;
  }
  end_ += got;
  bytes_read_ += got;
  return true;
}

bool LineCursor::next(std::string_view& line) {
  for (;;) {
    const void* nl =
        end_ > scanned_ ? std::memchr(data_ + scanned_, '\n', end_ - scanned_) : nullptr;
    if (nl != nullptr) {
      const auto stop = static_cast<size_t>(static_cast<const char*>(nl) - data_);
      take(line, stop, stop + 1);
      return true;
    }
    scanned_ = end_;  // searched: no '\n' up to here
    if (!refill()) {
      if (pos_ == end_) return false;
      take(line, end_, end_);  // the last line, without its '\n'
      return true;
    }
  }
}

void LineCursor::take(std::string_view& line, size_t stop, size_t next) {
  line = std::string_view(data_ + pos_, stop - pos_);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  pos_ = scanned_ = next;
  ++line_;
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
  key_.assign(raw.data(), raw.size());
  const int64_t known = ids_.find(key_);
  return known >= 0 ? known : ids_.intern(key_);
}

void check_id(const LineCursor& at, std::string_view raw, const char* what, bool numeric) {
  if (raw.empty()) at.fail("field ", what, " is empty");
  if (numeric) parse_int(at, raw, what);
}

}  // namespace recgrad::detail

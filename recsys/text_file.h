#pragma once
// Reading data files fast and failing clearly. A file is streamed in blocks (8 MiB by default,
// fread), walked line by line with memchr and parsed with std::from_chars: no iostream per
// field, so ML-1M's million rows parse in tens of milliseconds, and a file's bytes are never all
// in memory (a 50M-line file costs one block, not its 1 GB; benchmarks/load_memory_bench.cc).
// Every error names the file and the 1-based line (and the field), since a loader must never
// drop a row silently.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "autograd/error.h"
#include "recsys/dataset.h"

namespace recgrad::detail {

/// True when `path` names an existing regular file.
bool is_file(const std::string& path);
/// True when `path` names an existing directory.
bool is_directory(const std::string& path);
/// The directory part of `path` ("" -> "."), without a trailing slash.
std::string parent_dir(const std::string& path);
/// The last component of `path` ("a/b/u.data" -> "u.data").
std::string base_name(const std::string& path);

/// Walks a file line by line, reading it in blocks. Lines end at '\n'; a trailing '\r' is
/// removed (files written on Windows); the last line may lack its '\n'. A line may straddle two
/// blocks (its start is moved to the front of the buffer before the next read), and a line
/// longer than a block grows the buffer to hold it, so memory is max(block, longest line).
class LineCursor {
 public:
  /// Default bytes per read: large enough that fread and the move of a straddling line cost
  /// nothing beside parsing, small beside any dataset worth streaming.
  static constexpr size_t kDefaultBlockSize = size_t{8} << 20;

  /// Opens `path` for reading in blocks of `block_size` bytes (>= 1; tests use tiny blocks to
  /// put lines across block boundaries). Throws recgrad::Error naming the path when it is a
  /// directory or cannot be opened.
  explicit LineCursor(const std::string& path, size_t block_size = kDefaultBlockSize);
  /// Walks in-memory `text`, reporting errors against `path`; `text` must outlive the cursor.
  LineCursor(const std::string& path, std::string_view text);

  /// Moves to the next line; false at the end of the file. The view stays valid until the
  /// next call (the buffer under it is reused). Throws recgrad::Error on a read error.
  bool next(std::string_view& line);
  /// 1-based number of the line last returned by next().
  int64_t line_number() const { return line_; }
  /// Bytes read from the file so far (the text's size for an in-memory cursor).
  uint64_t bytes_read() const { return bytes_read_; }
  /// The file's size in bytes when known (a regular file), else 0: a hint for reserve().
  uint64_t size_hint() const { return size_hint_; }
  /// The file being read, for messages.
  const std::string& path() const { return path_; }

  /// Throws recgrad::Error "path:line: <parts>".
  template <typename... Parts>
  [[noreturn]] void fail(const Parts&... parts) const {
    throw Error(recgrad::detail::str_cat(path_, ":", line_, ": ", parts...));
  }

 private:
  // Moves the unread tail to the front of the buffer (growing it when the tail fills it) and
  // reads more after it; false at the end of the file.
  bool refill();
  // Returns data_[pos_, stop) as `line` (without a trailing '\r') and moves on to `next`.
  void take(std::string_view& line, size_t stop, size_t next);

  std::string path_;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file_{nullptr, &std::fclose};
  std::string buffer_;     // the block being walked (unused by an in-memory cursor)
  const char* data_ = nullptr;  // the bytes walked: buffer_ or the in-memory text
  size_t pos_ = 0, end_ = 0;    // unread bytes are data_[pos_, end_)
  size_t scanned_ = 0;          // data_[pos_, scanned_) holds no '\n' (not searched again)
  uint64_t bytes_read_ = 0, size_hint_ = 0;
  int64_t line_ = 0;
};

/// Splits `line` on `delim` (one or more characters) into `fields`, which is cleared first.
/// "a::b::" gives {"a", "b", ""}: empty fields are kept so a wrong column count is visible.
void split_fields(std::string_view line, std::string_view delim, std::vector<std::string_view>& fields);

/// Splits `line` on runs of spaces and tabs, dropping leading and trailing blanks.
void split_blanks(std::string_view line, std::vector<std::string_view>& fields);

/// `text` as an integer, or the cursor's error naming field `what` and its text.
int64_t parse_int(const LineCursor& at, std::string_view text, const char* what);
/// `text` as a finite float, or the cursor's error naming field `what` and its text.
float parse_float(const LineCursor& at, std::string_view text, const char* what);

/// Interns raw ids into an IdMap fast. Ids written as small canonical integers ("0", "42", not
/// "042") skip hashing: they index a table directly (a canonical decimal names one integer and
/// back, so this agrees with the string-keyed IdMap). Others are looked up through a reused
/// string, so only a new id allocates; no view into the file is kept (its blocks are reused).
class ViewInterner {
 public:
  /// Interns into `ids`, which may already hold ids (they keep their numbers).
  explicit ViewInterner(recsys::IdMap& ids) : ids_(ids) {}
  /// The dense id of `raw`, assigning the next one if it is new.
  int64_t intern(std::string_view raw);

 private:
  static constexpr int64_t kDirectLimit = int64_t{1} << 21;  // table of at most 16 MB
  recsys::IdMap& ids_;
  std::vector<int64_t> direct_;  // direct_[value] = dense id + 1, 0 when not seen yet
  std::string key_;              // the raw id being looked up, reused
};

/// Checks that `raw` is a usable id: non-empty and, when `numeric`, an integer.
void check_id(const LineCursor& at, std::string_view raw, const char* what, bool numeric);

}  // namespace recgrad::detail

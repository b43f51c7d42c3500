#pragma once
// Reading data files fast and failing clearly. A file is read whole into memory (one fread),
// then walked line by line with memchr and parsed with std::from_chars: no iostream per field,
// so ML-1M's million rows parse in tens of milliseconds. Every error names the file and the
// 1-based line (and the field), since a loader must never drop a row silently.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "autograd/error.h"
#include "recsys/dataset.h"

namespace recgrad::detail {

/// The whole content of `path`. Throws recgrad::Error naming the path when it cannot be read.
std::string read_file(const std::string& path);

/// True when `path` names an existing regular file.
bool is_file(const std::string& path);
/// True when `path` names an existing directory.
bool is_directory(const std::string& path);
/// The directory part of `path` ("" -> "."), without a trailing slash.
std::string parent_dir(const std::string& path);
/// The last component of `path` ("a/b/u.data" -> "u.data").
std::string base_name(const std::string& path);

/// Walks a file's text line by line. Lines end at '\n'; a trailing '\r' is removed (files
/// written on Windows); the last line may lack its '\n'.
class LineCursor {
 public:
  /// Walks `text` (the content of `path`); both must outlive the cursor.
  LineCursor(const std::string& path, std::string_view text) : path_(path), text_(text) {}
  /// Moves to the next line; false at the end of the text.
  bool next(std::string_view& line);
  /// 1-based number of the line last returned by next().
  int64_t line_number() const { return line_; }
  /// The file being read, for messages.
  const std::string& path() const { return path_; }

  /// Throws recgrad::Error "path:line: <parts>".
  template <typename... Parts>
  [[noreturn]] void fail(const Parts&... parts) const {
    throw Error(recgrad::detail::str_cat(path_, ":", line_, ": ", parts...));
  }

 private:
  const std::string& path_;
  std::string_view text_;
  size_t pos_ = 0;
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

/// Interns raw ids keyed by views into a file's text (which must outlive the interner); only a
/// new id costs a std::string. Ids written as small canonical integers ("0", "42", not "042")
/// skip hashing: they index a table directly (a canonical decimal names one integer and back,
/// so this agrees with the string-keyed IdMap).
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
  std::unordered_map<std::string_view, int64_t> cache_;
};

/// Checks that `raw` is a usable id: non-empty and, when `numeric`, an integer.
void check_id(const LineCursor& at, std::string_view raw, const char* what, bool numeric);

}  // namespace recgrad::detail

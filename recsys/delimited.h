#pragma once
// Delimited interaction files: the generic `csv` format (any delimiter, optional header, columns
// chosen by index or header name) and `uir` (tab-separated user, item, optional rating and
// timestamp, no header). The MovieLens and SASRec loaders are thin specs over the same parser.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "recsys/dataset.h"
#include "recsys/text_file.h"

namespace recgrad::recsys {

/// Where a column of a delimited file is: a 0-based index, or a header name (needs a header).
/// Neither set means the column is absent.
struct CsvColumn {
  int index = -1;    ///< 0-based column, or -1 to use `name`
  std::string name;  ///< header cell naming the column, when index is -1

  /// The column at 0-based `i`.
  static CsvColumn at(int i) { return CsvColumn{i, {}}; }
  /// The column whose header cell is `n`.
  static CsvColumn named(std::string n) { return CsvColumn{-1, std::move(n)}; }
  bool present() const { return index >= 0 || !name.empty(); }
};

/// Column mapping of the `csv` format. Validated by load_csv.
struct CsvOptions {
  std::string delimiter = ",";  ///< one or more characters ("::" works); quoting is not supported
  bool header = true;           ///< the first line names the columns (and is not data)
  CsvColumn user = CsvColumn::at(0);
  CsvColumn item = CsvColumn::at(1);
  CsvColumn rating;             ///< absent by default: implicit feedback
  CsvColumn timestamp;          ///< absent by default; integer (e.g. Unix seconds) when present
  bool numeric_ids = false;     ///< require integer user and item ids
};

/// Loads a delimited file with the given column mapping. Every line must have as many fields as
/// the first (header or data) line. Throws recgrad::Error naming file, line and field.
InteractionDataset load_csv(const std::string& path, const CsvOptions& options = {});

/// Loads the `uir` format: `user<TAB>item[<TAB>rating[<TAB>timestamp]]`, no header, the same
/// column count on every line (2, 3 or 4). Ids are any non-empty tokens.
InteractionDataset load_uir(const std::string& path);

}  // namespace recgrad::recsys

// Internals shared between files; every package keeps them in recgrad::detail (a nested
// `detail` would hide recgrad::detail from code in the package).
namespace recgrad::detail {

/// How to read one delimited format; the loaders fill it in.
struct DelimitedSpec {
  std::string format;                 ///< the format's name, for messages
  std::string delimiter = "\t";       ///< field separator
  bool split_on_blanks = false;       ///< separate fields on runs of spaces/tabs instead
  bool header = false;                ///< the first line is a header
  /// Called with the header's fields; checks them and may set the columns below.
  std::function<void(const LineCursor&, const std::vector<std::string_view>&, DelimitedSpec&)> on_header;
  /// Allowed field counts of the first line; every later line must match the first.
  int min_columns = 2, max_columns = 2;
  int user = 0, item = 1;             ///< 0-based columns
  int rating = -1, timestamp = -1;    ///< -1: absent; used only when the line has that column
  bool numeric_ids = true;            ///< ids must be integers
  bool time_from_line_order = false;  ///< timestamps = 0-based data row index (SASRec files)
  size_t read_block_size = LineCursor::kDefaultBlockSize;  ///< bytes per read (tests: tiny)
};

/// Parses `path` according to `spec` into a dataset named after the path.
recsys::InteractionDataset load_delimited(const std::string& path, const DelimitedSpec& spec);

}  // namespace recgrad::detail


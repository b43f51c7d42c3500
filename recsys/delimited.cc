#include "recsys/delimited.h"

#include <algorithm>

namespace recgrad::recsys {
}  // namespace recgrad::recsys

namespace recgrad::detail {
using namespace recgrad::recsys;  // this file's package types, unqualified
namespace {

std::string describe_separator(const DelimitedSpec& spec) {
  if (spec.split_on_blanks) return "blank";
  if (spec.delimiter == "\t") return "tab";
  return "\"" + spec.delimiter + "\"";
}

}  // namespace

InteractionDataset load_delimited(const std::string& path, const DelimitedSpec& spec_in) {
  DelimitedSpec spec = spec_in;
  LineCursor cur(path, spec.read_block_size);
  InteractionDataset out;
  out.name = path;
  ViewInterner users(out.user_ids), items(out.item_ids);

  // The columns are reserved once the first kSampleRows rows show how long a line is: file
  // size / mean line length, +1/16 for drift. A close guess means no reallocation (which would
  // hold a column twice for a moment) and no shrinking copy at the end; unused capacity is never
  // touched, so it costs address space, not memory.
  constexpr int64_t kSampleRows = 4096;
  uint64_t sample_bytes = 0;
  auto reserve_rows = [&] {
    const uint64_t rows = cur.size_hint() / (sample_bytes / kSampleRows + 1);
    const size_t guess = static_cast<size_t>(rows + rows / 16 + 16);
    out.users.reserve(guess);
    out.items.reserve(guess);
    if (!out.ratings.empty()) out.ratings.reserve(guess);
    if (!out.timestamps.empty()) out.timestamps.reserve(guess);
  };

  std::vector<std::string_view> f;
  auto split = [&](std::string_view line) {
    if (spec.split_on_blanks) split_blanks(line, f);
    else split_fields(line, spec.delimiter, f);
  };
  std::string_view line;
  bool saw_header = !spec.header;
  int columns = -1;  // the first data line's field count
  bool has_rating = false, has_time = false;
  auto fix_columns = [&](int n) {
    columns = n;
    has_rating = spec.rating >= 0 && spec.rating < n;
    has_time = spec.timestamp >= 0 && spec.timestamp < n;
  };
  while (cur.next(line)) {
    if (line.empty()) continue;  // blank lines carry no row (e.g. a trailing empty line)
    split(line);
    if (!saw_header) {
      saw_header = true;
      if (spec.on_header) spec.on_header(cur, f, spec);
      fix_columns(static_cast<int>(f.size()));
      continue;
    }
    const int n = static_cast<int>(f.size());
    if (columns < 0) {
      if (n < spec.min_columns || n > spec.max_columns) {
        if (spec.min_columns == spec.max_columns)
          cur.fail("expected ", spec.min_columns, " ", describe_separator(spec),
                   "-separated fields (", spec.format, "), found ", n);
        cur.fail("expected ", spec.min_columns, " to ", spec.max_columns, " ",
                 describe_separator(spec), "-separated fields (", spec.format, "), found ", n);
      }
      fix_columns(n);
    } else if (n != columns) {
      if (!spec.header && spec.min_columns == spec.max_columns)
        cur.fail("expected ", columns, " ", describe_separator(spec), "-separated fields (",
                 spec.format, "), found ", n);
      cur.fail("expected ", columns, " ", describe_separator(spec), "-separated fields like ",
               spec.header ? "the header" : "the first line", " (", spec.format, "), found ", n);
    }
    const std::string_view u = f[spec.user], i = f[spec.item];
    check_id(cur, u, "user", spec.numeric_ids);
    check_id(cur, i, "item", spec.numeric_ids);
    if (has_rating) out.ratings.push_back(parse_float(cur, f[spec.rating], "rating"));
    if (has_time) out.timestamps.push_back(parse_int(cur, f[spec.timestamp], "timestamp"));
    if (spec.time_from_line_order) out.timestamps.push_back(static_cast<int64_t>(out.users.size()));
    out.users.push_back(users.intern(u));
    out.items.push_back(items.intern(i));
    if (out.size() <= kSampleRows) {
      sample_bytes += line.size() + 1;
      if (out.size() == kSampleRows) reserve_rows();
    }
  }
  if (out.users.empty()) {
    if (cur.bytes_read() == 0) throw Error(recgrad::detail::str_cat(path, ":1: file is empty (", spec.format, ")"));
    cur.fail("no data rows", spec.header ? " after the header" : "", " (", spec.format, ")");
  }
  // Shrink only after a poor guess: a copy of a column that is nearly full buys little.
  auto fit = [](auto& column) {
    if (column.capacity() > column.size() + column.size() / 8) column.shrink_to_fit();
  };
  fit(out.users);
  fit(out.items);
  fit(out.ratings);
  fit(out.timestamps);
  return out;
}

}  // namespace recgrad::detail

namespace recgrad::recsys {

namespace {

// Resolves a CsvColumn to an index using the header (or just the index without one).
int resolve(const detail::LineCursor& at, const CsvColumn& c, const char* what,
            const std::vector<std::string_view>* header) {
  if (!c.present()) return -1;
  if (c.index >= 0) return c.index;
  RECGRAD_CHECK(header != nullptr, "csv: ", what, " column named \"", c.name,
                "\" needs header = true (", at.path(), ")");
  auto it = std::find(header->begin(), header->end(), std::string_view(c.name));
  if (it == header->end()) {
    std::string names;
    for (auto h : *header) names += (names.empty() ? "" : ", ") + std::string(h);
    at.fail(what, " column \"", c.name, "\" is not in the header (", names, ")");
  }
  return static_cast<int>(it - header->begin());
}

}  // namespace

InteractionDataset load_csv(const std::string& path, const CsvOptions& o) {
  RECGRAD_CHECK(!o.delimiter.empty(), "csv: the delimiter is empty (", path, ")");
  RECGRAD_CHECK(o.user.present() && o.item.present(),
                "csv: the user and item columns must be given (", path, ")");
  for (const CsvColumn* c : {&o.user, &o.item, &o.rating, &o.timestamp})
    RECGRAD_CHECK(c->index >= -1, "csv: column index ", c->index, " is negative (", path, ")");
  detail::DelimitedSpec spec;
  spec.format = "csv";
  spec.delimiter = o.delimiter;
  spec.header = o.header;
  spec.numeric_ids = o.numeric_ids;
  spec.min_columns = 1;
  spec.max_columns = 1 << 20;
  auto place = [&o](const detail::LineCursor& at, const std::vector<std::string_view>* header,
                    int columns, detail::DelimitedSpec& s) {
    s.user = resolve(at, o.user, "user", header);
    s.item = resolve(at, o.item, "item", header);
    s.rating = resolve(at, o.rating, "rating", header);
    s.timestamp = resolve(at, o.timestamp, "timestamp", header);
    const int needed = 1 + std::max({s.user, s.item, s.rating, s.timestamp});
    if (columns >= 0 && needed > columns)
      at.fail("the column mapping needs ", needed, " columns but the header has ", columns);
    s.min_columns = std::max(needed, 1);
  };
  if (o.header) {
    spec.on_header = [place](const detail::LineCursor& at, const std::vector<std::string_view>& h,
                             detail::DelimitedSpec& s) {
      place(at, &h, static_cast<int>(h.size()), s);
      s.max_columns = static_cast<int>(h.size());
      s.min_columns = s.max_columns;
    };
  } else {
    // Without a header, indices are known up front; the first line fixes the column count.
    std::string dummy_text;
    detail::LineCursor none(path, dummy_text);
    place(none, nullptr, -1, spec);
  }
  return detail::load_delimited(path, spec);
}

InteractionDataset load_uir(const std::string& path) {
  detail::DelimitedSpec spec;
  spec.format = "uir";
  spec.delimiter = "\t";
  spec.min_columns = 2;
  spec.max_columns = 4;
  spec.rating = 2;
  spec.timestamp = 3;
  spec.numeric_ids = false;
  return detail::load_delimited(path, spec);
}

}  // namespace recgrad::recsys

// The block-reading LineCursor against the same text walked in memory: every block size from one
// byte up puts lines (and "\r\n" pairs) across block boundaries, and a line longer than a block.
#include "recsys/text_file.h"

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "autograd/error.h"
#include "recsys/delimited.h"
#include "recsys/dataset.h"
#include "tests/recsys/temp_file.h"

using namespace recgrad;
using namespace recgrad::recsys;

namespace {

// (line number, line) pairs of a cursor walked to its end.
std::vector<std::pair<int64_t, std::string>> walk(detail::LineCursor& cur) {
  std::vector<std::pair<int64_t, std::string>> lines;
  std::string_view line;
  while (cur.next(line)) lines.emplace_back(cur.line_number(), std::string(line));
  return lines;
}

const std::string kText =
    "1\t10\t4.5\n"
    "22\t7\r\n"
    "\n"
    "a line much longer than the smallest blocks, so that it spans many of them\r\n"
    "\r\n"
    "3\t30\t1\n"
    "last line without newline";

}  // namespace

TEST_CASE("text_file: lines read in blocks equal the lines of the whole text, any block size") {
  const std::string path = recgrad::testing::write_temp_file("blocks.txt", kText);
  detail::LineCursor whole(path, std::string_view(kText));
  const auto expected = walk(whole);
  REQUIRE(expected.size() == 7);
  CHECK(expected[1].second == "22\t7");  // '\r' removed
  CHECK(expected[6].second == "last line without newline");
  for (size_t block = 1; block <= kText.size() + 2; ++block) {
    CAPTURE(block);
    detail::LineCursor cur(path, block);
    CHECK(walk(cur) == expected);
    CHECK(cur.bytes_read() == kText.size());
    CHECK(cur.size_hint() == kText.size());
  }
  detail::LineCursor big(path);  // the default block holds the whole file
  CHECK(walk(big) == expected);
}

TEST_CASE("text_file: a trailing newline ends the last line; an empty file has no line") {
  for (const std::string& text : {std::string("x\ny\n"), std::string("x\ny\r\n"), std::string()}) {
    const std::string path = recgrad::testing::write_temp_file("trailing.txt", text);
    for (size_t block : {size_t{1}, size_t{2}, size_t{3}, size_t{64}}) {
      CAPTURE(block);
      detail::LineCursor cur(path, block);
      const auto lines = walk(cur);
      if (text.empty()) {
        CHECK(lines.empty());
        CHECK(cur.bytes_read() == 0);
      } else {
        CHECK(lines == std::vector<std::pair<int64_t, std::string>>{{1, "x"}, {2, "y"}});
      }
    }
  }
}

TEST_CASE("text_file: opening errors name the path") {
  CHECK_THROWS_WITH_AS(detail::LineCursor(recgrad::testing::temp_dir() + "/no_such_file.txt"),
                       doctest::Contains("no_such_file.txt: cannot open file"), recgrad::Error);
  CHECK_THROWS_WITH_AS(detail::LineCursor(recgrad::testing::temp_dir()),
                       doctest::Contains("is a directory, expected a data file"), recgrad::Error);
  const std::string path = recgrad::testing::write_temp_file("zero_block.txt", "x\n");
  CHECK_THROWS_WITH_AS(detail::LineCursor(path, 0), doctest::Contains("block size must be >= 1"),
                       recgrad::Error);
}

TEST_CASE("text_file: a loader reading tiny blocks gives the same dataset and error lines") {
  // 300 rows of uir with raw ids that are not small integers (the hashed path of the interner),
  // so ids and rows straddle block boundaries at every small block size.
  std::string text;
  for (int r = 0; r < 300; ++r)
    text += "user" + std::to_string(r % 17) + "\titem-" + std::to_string((r * 7) % 41) + "\t" +
            std::to_string(r % 5 + 1) + "\t" + std::to_string(1000 + r) + "\n";
  const std::string path = recgrad::testing::write_temp_file("tiny_blocks.uir", text);
  const InteractionDataset reference = load_uir(path);
  REQUIRE(reference.size() == 300);
  detail::DelimitedSpec spec;
  spec.format = "uir";
  spec.min_columns = 2;
  spec.max_columns = 4;
  spec.rating = 2;
  spec.timestamp = 3;
  spec.numeric_ids = false;
  for (size_t block : {size_t{1}, size_t{3}, size_t{16}, size_t{61}, size_t{4096}}) {
    CAPTURE(block);
    spec.read_block_size = block;
    const InteractionDataset d = detail::load_delimited(path, spec);
    CHECK(d.users == reference.users);
    CHECK(d.items == reference.items);
    CHECK(d.ratings == reference.ratings);
    CHECK(d.timestamps == reference.timestamps);
    REQUIRE(d.num_users() == reference.num_users());
    for (int64_t u = 0; u < d.num_users(); ++u) CHECK(d.user_ids.raw(u) == reference.user_ids.raw(u));
  }
  // A bad field on line 251, far past the first blocks: the message still names that line.
  std::string bad = text;
  size_t at = 0;
  for (int line = 1; line < 251; ++line) at = bad.find('\n', at) + 1;
  bad.insert(bad.find('\t', bad.find('\t', at) + 1) + 1, "x");
  const std::string bad_path = recgrad::testing::write_temp_file("tiny_blocks_bad.uir", bad);
  for (size_t block : {size_t{1}, size_t{7}, size_t{4096}}) {
    CAPTURE(block);
    spec.read_block_size = block;
    CHECK_THROWS_WITH_AS(detail::load_delimited(bad_path, spec),
                         doctest::Contains("tiny_blocks_bad.uir:251: field rating \"x"),
                         recgrad::Error);
  }
}

// Every malformed input is an error naming the file, the line and (where there is one) the field.
#include <doctest/doctest.h>

#include <string>

#include "autograd/error.h"
#include "recsys/delimited.h"
#include "recsys/formats.h"
#include "recsys/movielens.h"
#include "recsys/protocol_files.h"
#include "tests/recsys/temp_file.h"

using namespace recgrad;
using namespace recgrad::recsys;
using recgrad::testing::temp_dir;
using recgrad::testing::write_temp_file;

namespace {

// The message load_dataset throws for `content` written to `name` (empty if it does not throw).
std::string error_of(const std::string& name, const std::string& content, const std::string& format = "",
                     const CsvOptions& csv = {}) {
  const std::string path = write_temp_file(name, content);
  try {
    load_dataset(path, format, csv);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("loaders: a bad field names file, line and field") {
  std::string msg = error_of("bad1/u.data", "1\t2\t3\t4\n1\t2\tx\t4\n");
  CHECK(msg.find("u.data:2:") != std::string::npos);
  CHECK(msg.find("rating \"x\" is not a number") != std::string::npos);

  msg = error_of("bad2/ratings.dat", "1::2::3::4\n1::2::3::4\n1::2::3::soon\n");
  CHECK(msg.find("ratings.dat:3:") != std::string::npos);
  CHECK(msg.find("timestamp \"soon\"") != std::string::npos);

  msg = error_of("bad3/ratings.csv", "userId,movieId,rating,timestamp\n1,2,nan,4\n");
  CHECK(msg.find("ratings.csv:2:") != std::string::npos);
  CHECK(msg.find("rating \"nan\" is not a number") != std::string::npos);  // NaN is refused

  msg = error_of("bad4.tsv", "1\t2\t3\n1\t2\t\n", "uir");
  CHECK(msg.find("bad4.tsv:2:") != std::string::npos);
  CHECK(msg.find("rating \"\"") != std::string::npos);
}

TEST_CASE("loaders: a wrong column count names file, line and the expected count") {
  std::string msg = error_of("cols1/u.data", "1\t2\t3\t4\n1\t2\t3\n");
  CHECK(msg.find("u.data:2: expected 4 tab-separated fields (ml-100k), found 3") != std::string::npos);

  msg = error_of("cols2/ratings.dat", "1::2::3::4::5\n");
  CHECK(msg.find("ratings.dat:1: expected 4 \"::\"-separated fields") != std::string::npos);

  msg = error_of("cols3.tsv", "1\t2\t3\n4\t5\n", "uir");
  CHECK(msg.find("cols3.tsv:2: expected 3 tab-separated fields like the first line") != std::string::npos);

  msg = error_of("cols4.tsv", "1\t2\t3\t4\t5\n", "uir");
  CHECK(msg.find("cols4.tsv:1: expected 2 to 4 tab-separated fields") != std::string::npos);

  msg = error_of("cols5.txt", "1 2\n1 2 3\n", "seq");
  CHECK(msg.find("cols5.txt:2: expected 2 blank-separated fields (seq), found 3") != std::string::npos);

  msg = error_of("cols6.csv", "a,b,c\n1,2,3\n4,5\n", "csv");
  CHECK(msg.find("cols6.csv:3: expected 3 \",\"-separated fields like the header") != std::string::npos);
}

TEST_CASE("loaders: a non-numeric id where the format needs integers names the field") {
  std::string msg = error_of("ids1/u.data", "1\t2\t3\t4\nu7\t2\t3\t4\n");
  CHECK(msg.find("u.data:2: field user \"u7\" is not an integer") != std::string::npos);

  msg = error_of("ids2.txt", "1 2\n1 i9\n", "seq");
  CHECK(msg.find("ids2.txt:2: field item \"i9\" is not an integer") != std::string::npos);

  CsvOptions numeric;
  numeric.header = false;
  numeric.numeric_ids = true;
  msg = error_of("ids3.csv", "1,2\n3,4x\n", "csv", numeric);
  CHECK(msg.find("ids3.csv:2: field item \"4x\" is not an integer") != std::string::npos);

  msg = error_of("ids4.tsv", "1\t\t3\n", "uir");  // any token is an id in uir, but not nothing
  CHECK(msg.find("ids4.tsv:1: field item is empty") != std::string::npos);
}

TEST_CASE("loaders: empty and missing files are errors naming the file") {
  CHECK(error_of("empty/u.data", "").find("u.data:1: file is empty") != std::string::npos);
  CHECK(error_of("blank.tsv", "\n\n", "uir").find("blank.tsv:2: no data rows") != std::string::npos);
  CHECK(error_of("hdr/ratings.csv", "userId,movieId,rating,timestamp\n")
            .find("ratings.csv:1: no data rows after the header") != std::string::npos);
  CHECK_THROWS_WITH_AS(load_dataset(temp_dir() + "/nowhere/u.data"),
                       doctest::Contains("nowhere/u.data: cannot open file"), Error);
  CHECK_THROWS_WITH_AS(load_ml100k(temp_dir()), doctest::Contains("is a directory"), Error);
}

TEST_CASE("ml-20m: a header other than userId,movieId,rating,timestamp is refused") {
  const std::string msg = error_of("hdr2/ratings.csv", "user,movie,rating,time\n1,2,3,4\n");
  CHECK(msg.find("ratings.csv:1: expected the header \"userId,movieId,rating,timestamp\"") != std::string::npos);
}

TEST_CASE("csv: a column name missing from the header lists the header") {
  CsvOptions o;
  o.user = CsvColumn::named("user_id");
  const std::string msg = error_of("named.csv", "uid,iid\n1,2\n", "csv", o);
  CHECK(msg.find("named.csv:1: user column \"user_id\" is not in the header (uid, iid)") != std::string::npos);

  CsvOptions no_header;
  no_header.header = false;
  no_header.rating = CsvColumn::at(5);
  CHECK(error_of("short.csv", "1,2\n", "csv", no_header).find("short.csv:1: expected 6 to") !=
        std::string::npos);
}

TEST_CASE("genre files: bad lines name the file and line") {
  write_temp_file("g1/u.data", "1\t2\t3\t4\n");
  write_temp_file("g1/u.item", "2|Movie|date||url|0|0\n");
  CHECK_THROWS_WITH_AS(load_ml100k(temp_dir() + "/g1/u.data"),
                       doctest::Contains("u.item:1: expected 24 |-separated fields"), Error);

  std::string flags = "2|Movie|date||url";
  for (int g = 0; g < 19; ++g) flags += g == 3 ? "|2" : "|0";
  write_temp_file("g2/u.data", "1\t2\t3\t4\n");
  write_temp_file("g2/u.item", flags + "\n");
  CHECK_THROWS_WITH_AS(load_ml100k(temp_dir() + "/g2/u.data"),
                       doctest::Contains("u.item:1: field genre flag 4 (Animation) \"2\" is not 0 or 1"), Error);

  write_temp_file("g3/ratings.dat", "1::2::3::4\n");
  write_temp_file("g3/movies.dat", "2::Title::Drama\nx::Other::Comedy\n");
  CHECK_THROWS_WITH_AS(load_ml1m(temp_dir() + "/g3/ratings.dat"),
                       doctest::Contains("movies.dat:2: field item \"x\" is not an integer"), Error);
}

TEST_CASE("ncf: missing files, bad negatives lines and mismatched test pairs are errors") {
  write_temp_file("n1/a.train.rating", "0\t1\t5\t0\n");
  CHECK_THROWS_WITH_AS(load_ncf(temp_dir() + "/n1"), doctest::Contains("a.test.rating: cannot open file"), Error);

  write_temp_file("n1/a.test.rating", "0\t2\t5\t0\n");
  write_temp_file("n1/a.test.negative", "0,2\t7\n");
  CHECK_THROWS_WITH_AS(load_ncf(temp_dir() + "/n1"),
                       doctest::Contains("a.test.negative:1: field (user,item) \"0,2\" is not of the form"), Error);

  write_temp_file("n1/a.test.negative", "(0,3)\t7\n");
  CHECK_THROWS_WITH_AS(load_ncf(temp_dir() + "/n1"),
                       doctest::Contains("a.test.negative:1: (user,item) (0,3) differs from line 1"), Error);

  write_temp_file("n1/a.test.negative", "(0,2)\t7\tz\n");
  CHECK_THROWS_WITH_AS(load_ncf(temp_dir() + "/n1"),
                       doctest::Contains("a.test.negative:1: field negative item \"z\""), Error);

  write_temp_file("n1/a.test.rating", "0\t2\t5\t0\n0\t1\t5\t0\n");
  write_temp_file("n1/a.test.negative", "(0,2)\t7\n");
  CHECK_THROWS_WITH_AS(load_ncf(temp_dir() + "/n1"),
                       doctest::Contains("1 negatives lines for 2 test.rating rows"), Error);

  CHECK_THROWS_WITH_AS(load_ncf(temp_dir() + "/n1/a.test.rating"),
                       doctest::Contains("expected a directory or a file named X.train.rating"), Error);
}

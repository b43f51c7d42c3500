#pragma once
// The CLI tests' reader of the JSON files `recgrad train --metrics-json` and friends write.
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace recgrad::testing {

/// The JSON document at `path`; a missing file fails the test.
inline nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

}  // namespace recgrad::testing

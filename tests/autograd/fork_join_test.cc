// fork_join_for, the parallel_for of the ThreadSanitizer build (autograd/parallel.h): it is
// compiled into every build, so it is tested in every build.
#include <doctest/doctest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "autograd/parallel.h"

using namespace recgrad;

TEST_CASE("fork_join_for: every element is visited once, in chunks of the grain") {
  for (int64_t n : {1, 7, 64, 1000, 1001}) {
    CAPTURE(n);
    std::vector<std::atomic<int>> seen(static_cast<size_t>(n));
    std::atomic<int> bad_chunks{0};
    detail::fork_join_for(n, 10, [&](int64_t b, int64_t e) {
      if (b % 10 != 0 || e - b > 10 || e <= b) ++bad_chunks;
      for (int64_t i = b; i < e; ++i) ++seen[static_cast<size_t>(i)];
    });
    CHECK(bad_chunks == 0);
    int wrong = 0;
    for (const auto& s : seen) wrong += s != 1;
    CHECK(wrong == 0);
  }
}

TEST_CASE("fork_join_for: a body's exception reaches the caller after every thread joined") {
  std::atomic<int> chunks_run{0};
  CHECK_THROWS_WITH_AS(detail::fork_join_for(100, 1,
                                             [&](int64_t b, int64_t) {
                                               ++chunks_run;
                                               if (b == 3) throw std::runtime_error("chunk 3");
                                             }),
                       "chunk 3", std::runtime_error);
  CHECK(chunks_run >= 1);
  CHECK(chunks_run <= 100);
}

#pragma once
// Errors raised by recgrad. Bad input throws recgrad::Error (an std::invalid_argument) whose
// message names the op, the shapes and the reason; misuse of the API (backward through a freed
// graph) throws recgrad::UsageError (an std::logic_error). recgrad never exits or aborts: it
// lives inside other people's programs.
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace recgrad {

/// Bad input: a shape, id, flag or file that recgrad cannot accept.
class Error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// Misuse of the API, e.g. a second backward through a graph that was already freed.
class UsageError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

/// A NaN or infinity where a finite value is required: a training loss or gradient (see
/// TrainerOptions::check_finite), or any op's output or gradient under AnomalyModeGuard.
class NonFiniteError : public Error {
 public:
  using Error::Error;
};

namespace detail {

inline void stream_parts(std::ostream&) {}
template <typename T, typename... Rest>
void stream_parts(std::ostream& os, const T& first, const Rest&... rest) {
  os << first;
  stream_parts(os, rest...);
}

/// Concatenates message parts with operator<< (shapes print as [2,3]).
template <typename... Parts>
std::string str_cat(const Parts&... parts) {
  std::ostringstream os;
  stream_parts(os, parts...);
  return os.str();
}

}  // namespace detail
}  // namespace recgrad

/// Throws recgrad::Error built from the streamed message parts unless `cond` holds.
#define RECGRAD_CHECK(cond, ...)                                            \
  do {                                                                      \
    if (!(cond)) throw ::recgrad::Error(::recgrad::detail::str_cat(__VA_ARGS__)); \
  } while (0)

#pragma once
// Broken-invariant checks that stay on in release builds (see STYLE.md, "Errors").
#include <stdexcept>
#include <string>

namespace pwas {

/// A broken internal invariant: a bug in pwas, never a user error.
class InternalError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

}  // namespace pwas

#define PWAS_ASSERT(cond)                                                                  \
  do {                                                                                     \
    if (!(cond))                                                                           \
      throw ::pwas::InternalError(std::string("internal error: ") + #cond + " at " +      \
                                  __FILE__ + ":" + std::to_string(__LINE__));              \
  } while (0)

// One error taxonomy for the whole project. Errors that cross a module
// boundary are values (Result<T>), never exceptions. The numbers are stable:
// they reach logs, JSON answers and exit codes through one mapping each.
#pragma once

#include <string>
#include <string_view>
#include <tl/expected.hpp>

namespace smacert {

enum class Errc : int {
  invalid_argument = 1,  // the caller's input is wrong (usage, bad field)
  malformed = 2,         // bytes that do not parse (DER, JSON, APDU, HTTP)
  too_large = 3,         // input over a documented bound
  not_found = 4,
  conflict = 5,       // the state does not allow it (already revoked, duplicate)
  unauthorized = 6,   // missing or wrong credentials
  forbidden = 7,      // authenticated, but not allowed
  locked = 8,         // PIN or password blocked
  policy = 9,         // refused by a rule (key size, validity, operating hours)
  verification = 10,  // a signature, chain or status check failed
  expired = 11,
  unavailable = 12,  // a peer or the store cannot be reached
  io = 13,           // file system
  crypto = 14,       // OpenSSL failed where it should not have
  internal = 15,
};

std::string_view errc_name(Errc code);

struct Error {
  Errc code;
  std::string message;  // one sentence a person can act on; never a secret
  // True when the service answered with this error (a 4xx/5xx), as opposed
  // to one found here; the CLI's exit codes tell the two apart.
  bool from_service = false;

  // "persisting serial: <message>" — keeps the code, adds what was being done.
  Error context(std::string_view doing) const;
};

template <class T>
using Result = tl::expected<T, Error>;
using Status = Result<void>;

inline tl::unexpected<Error> fail(Errc code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}
inline tl::unexpected<Error> fail(Error error) {
  return tl::unexpected<Error>(std::move(error));
}

}  // namespace smacert

// Propagates an error from an expression returning Result<T>; yields nothing.
#define SMACERT_TRY_STATUS(expr)                                          \
  do {                                                                    \
    if (auto smacert_status_ = (expr); !smacert_status_)                  \
      return ::tl::unexpected<::smacert::Error>(smacert_status_.error()); \
  } while (0)

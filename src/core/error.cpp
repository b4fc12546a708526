#include "core/error.h"

namespace smacert {

std::string_view errc_name(Errc code) {
  switch (code) {
    case Errc::invalid_argument:
      return "invalid_argument";
    case Errc::malformed:
      return "malformed";
    case Errc::too_large:
      return "too_large";
    case Errc::not_found:
      return "not_found";
    case Errc::conflict:
      return "conflict";
    case Errc::unauthorized:
      return "unauthorized";
    case Errc::forbidden:
      return "forbidden";
    case Errc::locked:
      return "locked";
    case Errc::policy:
      return "policy";
    case Errc::verification:
      return "verification";
    case Errc::expired:
      return "expired";
    case Errc::unavailable:
      return "unavailable";
    case Errc::io:
      return "io";
    case Errc::crypto:
      return "crypto";
    case Errc::internal:
      return "internal";
  }
  return "internal";
}

Error Error::context(std::string_view doing) const {
  std::string text(doing);
  text += ": ";
  text += message;
  return Error{code, std::move(text), from_service};
}

}  // namespace smacert

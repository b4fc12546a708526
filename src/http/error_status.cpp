#include "http/error_status.h"

#include <spdlog/spdlog.h>

namespace smacert::http {

int to_http_status(Errc code) noexcept {
  switch (code) {
    case Errc::invalid_argument:
    case Errc::malformed:
      return 400;
    case Errc::too_large:
      return 413;
    case Errc::not_found:
      return 404;
    case Errc::conflict:
      return 409;
    case Errc::unauthorized:
      return 401;
    case Errc::forbidden:
      return 403;
    case Errc::locked:
      return 423;
    case Errc::policy:
    case Errc::verification:
      return 422;
    case Errc::expired:
      return 410;
    case Errc::unavailable:
      return 503;
    case Errc::io:
    case Errc::crypto:
    case Errc::internal:
      return 500;
  }
  return 500;
}

Response error_response(const Error& error) {
  const int status = to_http_status(error.code);
  if (status == 500) {
    spdlog::error("answering 500 for a {} error: {}", errc_name(error.code), error.message);
    return error_response(status, errc_name(error.code),
                          "The service failed to complete the request.");
  }
  return error_response(status, errc_name(error.code), error.message);
}

Errc errc_from_http_status(int status) noexcept {
  switch (status) {
    case 400:
      return Errc::invalid_argument;
    case 401:
      return Errc::unauthorized;
    case 403:
      return Errc::forbidden;
    case 404:
      return Errc::not_found;
    case 409:
      return Errc::conflict;
    case 410:
      return Errc::expired;
    case 413:
      return Errc::too_large;
    case 422:
      return Errc::policy;
    case 423:
      return Errc::locked;
    case 502:
    case 503:
    case 504:
      return Errc::unavailable;
    default:
      return status >= 500 ? Errc::internal : Errc::invalid_argument;
  }
}

}  // namespace smacert::http

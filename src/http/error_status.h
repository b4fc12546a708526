// The one mapping from the project's error taxonomy to HTTP status codes
// (and back, for the client).
#pragma once

#include "core/error.h"
#include "http/response.h"

namespace smacert::http {

int to_http_status(Errc code) noexcept;

// {"error": errc_name(code), "message": error.message} with to_http_status(code).
// Errors that map to 500 get a generic message: their text may describe internals.
Response error_response(const Error& error);

// For clients: what a 4xx/5xx answer means in the taxonomy.
Errc errc_from_http_status(int status) noexcept;

}  // namespace smacert::http

// Handlers written as Result-returning functions: an error becomes the one
// JSON error shape, with the status of http::to_http_status.
#pragma once

#include "http/error_status.h"
#include "http/router.h"

namespace smacert::http {

template <class F>
Handler handle(F f) {
  return [f = std::move(f)](Request& req) -> Response {
    Result<Response> r = f(req);
    if (!r) return error_response(r.error());
    return std::move(*r);
  };
}

}  // namespace smacert::http

// `auto var = value of expr`, or return its error from the enclosing function.
#define SMACERT_GET(var, expr)                          \
  auto var##_result = (expr);                           \
  if (!var##_result) return fail(var##_result.error()); \
  auto var = std::move(*var##_result)

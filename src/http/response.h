// One HTTP response as a handler returns it. The body is owned text, shared
// immutable bytes (pre-signed OCSP answers are served without a copy), or
// an event stream.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "http/headers.h"
#include "http/sse.h"

namespace smacert::http {

using SharedBytes = std::shared_ptr<const std::vector<std::uint8_t>>;
using Body = std::variant<std::string, SharedBytes, SseStream>;

struct Response {
  int status = 200;
  std::string content_type;  // empty: no Content-Type
  Headers headers;           // extra fields (Cache-Control, Allow, …)
  Body body;
};

Response text_response(int status, std::string body,
                       std::string content_type = "text/plain; charset=utf-8");
Response bytes_response(int status, SharedBytes body, std::string content_type);
Response json_response(int status, const nlohmann::json& body);
// {"error": CODE, "message": TEXT} — TEXT says what was wrong with the input.
Response error_response(int status, std::string_view code, std::string_view message);
Response sse_response(SseStream stream);

}  // namespace smacert::http

#include "http/response.h"

#include <nlohmann/json.hpp>

namespace smacert::http {

Response text_response(int status, std::string body, std::string content_type) {
  return Response{status, std::move(content_type), {}, std::move(body)};
}

Response bytes_response(int status, SharedBytes body, std::string content_type) {
  return Response{status, std::move(content_type), {}, std::move(body)};
}

Response json_response(int status, const nlohmann::json& body) {
  // Replace, not throw, on invalid UTF-8: a response must always be produced.
  return Response{status,
                  "application/json",
                  {},
                  body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

Response error_response(int status, std::string_view code, std::string_view message) {
  return json_response(status, nlohmann::json{{"error", code}, {"message", message}});
}

Response sse_response(SseStream stream) {
  return Response{200, "text/event-stream", {}, std::move(stream)};
}

}  // namespace smacert::http

#include "phone/ui/local_guard.h"

#include <algorithm>

namespace smacert::phone::ui {

bool local_host_name(std::string_view host) {
  if (host.empty()) return false;
  if (host.front() == '[') return host.find(']') != std::string_view::npos;  // IPv6 literal
  auto colon = host.rfind(':');
  std::string_view name = host.substr(0, colon);
  if (name == "localhost") return true;
  // An IPv4 literal: digits and dots only.
  return !name.empty() && std::all_of(name.begin(), name.end(),
                                      [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

http::Handler local_only(http::Handler inner) {
  return [inner = std::move(inner)](http::Request& req) -> http::Response {
    if (!local_host_name(req.header("Host").value_or("")))
      return http::error_response(403, "forbidden",
                                  "this local app answers only to an IP address or localhost in "
                                  "the Host field");
    if (req.method == "POST") {
      auto type = req.header("Content-Type").value_or("");
      if (type.substr(0, 16) != "application/json")
        return http::error_response(415, "unsupported_media_type",
                                    "send the body as Content-Type: application/json");
    }
    return inner(req);
  };
}

}  // namespace smacert::phone::ui

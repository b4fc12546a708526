// One HTTP request as a handler sees it: no socket, no Boost type.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/headers.h"
#include "http/target.h"

namespace smacert::http {

using PathParams = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;          // "GET", "POST", …
  std::string target;          // as received: "/ocsp/sign/MEow%3D?x=1"
  std::string path;            // percent-decoded, without the query
  QueryParams query;           // decoded, in order
  Headers headers;             // as received
  std::string body;            // bounded by the route's body limit
  PathParams params;           // {name} captures, decoded; set by the router
  std::string remote_address;  // peer IP address

  std::optional<std::string_view> header(std::string_view name) const { return headers.get(name); }
  std::optional<std::string_view> query_param(std::string_view name) const;
  // The {name} capture, or "" when the route has no such parameter.
  std::string_view param(std::string_view name) const;
};

}  // namespace smacert::http

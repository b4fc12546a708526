// Maps (method, path) to a named handler. Patterns are literal segments and
// {name} captures ("/v1/applications/{id}/registration"); a capture matches
// one whole, non-empty segment, percent-decoded. Routes are added before the
// server starts and never change afterwards.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "http/request.h"
#include "http/response.h"

namespace smacert::http {

using Handler = std::function<Response(Request&)>;

struct RouteOptions {
  // Largest request body this route accepts; nullopt: the server's default.
  std::optional<std::size_t> body_limit;
};

struct Route {
  struct Segment {
    std::string text;  // literal text, or the capture's name
    bool capture = false;
  };
  std::string method;
  std::string pattern;
  std::string name;  // the metrics label
  std::vector<Segment> segments;
  Handler handler;
  RouteOptions options;
  std::size_t index = 0;  // position in Router::routes()
};

struct RouteMatch {
  enum class Kind { found, not_found, method_not_allowed, bad_path };
  Kind kind = Kind::not_found;
  const Route* route = nullptr;  // set when found
  std::string allow;             // "GET, POST" when method_not_allowed
};

class Router {
 public:
  // A malformed pattern or a duplicate (method, pattern) is remembered and
  // reported by check() (and so by Server::start): route tables fail at startup.
  Router& add(std::string method, std::string_view pattern, std::string name, Handler handler,
              RouteOptions options = {});

  Status check() const;

  // Matches a still-encoded path ("/a/b%20c") and fills params on success.
  RouteMatch match(std::string_view method, std::string_view raw_path, PathParams& params) const;

  // Matching plus calling: 404, 405 (with Allow) and 400 answers included.
  // Exceptions from the handler propagate; the server turns them into 500.
  Response dispatch(Request& request) const;

  const std::vector<Route>& routes() const { return routes_; }
  // The largest body any route accepts, given the server default.
  std::size_t max_body_limit(std::size_t default_limit) const;

 private:
  std::vector<Route> routes_;
  std::optional<Error> error_;
};

// The answer for a match that found no handler (404, 405 with Allow, 400).
Response unmatched_response(const RouteMatch& match);

}  // namespace smacert::http

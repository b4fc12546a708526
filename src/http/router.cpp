#include "http/router.h"

#include <algorithm>

#include "http/target.h"

namespace smacert::http {

namespace {

// Splits "/a/b" into "a", "b"; "/" has no segments.
template <class F>
bool for_each_segment(std::string_view path, F&& f) {
  if (path.empty() || path.front() != '/') return false;
  path.remove_prefix(1);
  if (path.empty()) return true;
  while (true) {
    const auto slash = path.find('/');
    if (!f(path.substr(0, slash))) return false;
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
}

std::optional<std::vector<Route::Segment>> parse_pattern(std::string_view pattern) {
  std::vector<Route::Segment> segments;
  const bool ok = for_each_segment(pattern, [&](std::string_view s) {
    if (s.size() >= 2 && s.front() == '{' && s.back() == '}') {
      auto name = s.substr(1, s.size() - 2);
      if (name.empty() || name.find_first_of("{}") != std::string_view::npos) return false;
      segments.push_back({std::string(name), true});
      return true;
    }
    if (s.find_first_of("{}%?") != std::string_view::npos) return false;
    segments.push_back({std::string(s), false});
    return true;
  });
  if (!ok) return std::nullopt;
  return segments;
}

enum class PathFit { fits, differs, bad };

// Compares a route's segments with a raw path; fills params when it fits.
PathFit fit(const Route& route, std::string_view raw_path, PathParams* params) {
  std::size_t i = 0;
  bool bad = false;
  const bool same = for_each_segment(raw_path, [&](std::string_view raw) {
    if (i >= route.segments.size()) return false;
    const auto& seg = route.segments[i++];
    if (raw.find('%') == std::string_view::npos) {
      if (seg.capture) {
        if (raw.empty()) return false;
        if (params) params->emplace_back(seg.text, std::string(raw));
        return true;
      }
      return raw == seg.text;
    }
    auto decoded = percent_decode(raw);
    if (!decoded) {
      bad = true;
      return false;
    }
    if (seg.capture) {
      if (decoded->empty()) return false;
      if (params) params->emplace_back(seg.text, std::move(*decoded));
      return true;
    }
    return *decoded == seg.text;
  });
  if (bad) return PathFit::bad;
  return (same && i == route.segments.size()) ? PathFit::fits : PathFit::differs;
}

// True when a has a literal segment where b first has a capture.
bool more_literal(const Route& a, const Route& b) {
  for (std::size_t i = 0; i < a.segments.size() && i < b.segments.size(); ++i) {
    if (a.segments[i].capture != b.segments[i].capture) return !a.segments[i].capture;
  }
  return false;
}

}  // namespace

Router& Router::add(std::string method, std::string_view pattern, std::string name, Handler handler,
                    RouteOptions options) {
  if (error_) return *this;
  const std::string where = method + " " + std::string(pattern);
  auto segments = parse_pattern(pattern);
  if (!segments) {
    error_ =
        Error{Errc::invalid_argument,
              "route " + where + ": the pattern must be /-separated literals and {name} captures"};
    return *this;
  }
  if (method.empty() || name.empty() || !handler) {
    error_ =
        Error{Errc::invalid_argument, "route " + where + ": method, name and handler are required"};
    return *this;
  }
  for (const auto& r : routes_) {
    if (r.method != method || r.segments.size() != segments->size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < r.segments.size() && same; ++i) {
      const auto& a = r.segments[i];
      const auto& b = (*segments)[i];
      same = a.capture == b.capture && (a.capture || a.text == b.text);
    }
    if (same) {
      error_ = Error{Errc::conflict, "route " + where + " duplicates " + r.pattern};
      return *this;
    }
  }
  routes_.push_back(Route{std::move(method), std::string(pattern), std::move(name),
                          std::move(*segments), std::move(handler), options, routes_.size()});
  return *this;
}

Status Router::check() const {
  if (error_) return fail(*error_);
  return {};
}

RouteMatch Router::match(std::string_view method, std::string_view raw_path,
                         PathParams& params) const {
  RouteMatch result;
  // When several patterns fit ("/a/new" and "/a/{id}"), the one whose first
  // literal segment comes earliest wins, whatever the order of registration.
  const Route* best = nullptr;
  for (const auto& route : routes_) {
    if (route.method != method) continue;
    switch (fit(route, raw_path, nullptr)) {
      case PathFit::fits:
        if (!best || more_literal(route, *best)) best = &route;
        break;
      case PathFit::bad:
        result.kind = RouteMatch::Kind::bad_path;
        return result;
      case PathFit::differs:
        break;
    }
  }
  // RFC 9110 9.3.2: HEAD is GET without the body (the server drops it).
  if (!best && method == "HEAD") return match("GET", raw_path, params);
  if (best) {
    params.clear();
    fit(*best, raw_path, &params);
    result.kind = RouteMatch::Kind::found;
    result.route = best;
    return result;
  }
  params.clear();
  for (const auto& route : routes_) {
    if (route.method == method) continue;
    const auto f = fit(route, raw_path, nullptr);
    if (f == PathFit::bad) {
      result.kind = RouteMatch::Kind::bad_path;
      return result;
    }
    if (f == PathFit::fits && result.allow.find(route.method) == std::string::npos) {
      if (!result.allow.empty()) result.allow += ", ";
      result.allow += route.method;
    }
  }
  result.kind =
      result.allow.empty() ? RouteMatch::Kind::not_found : RouteMatch::Kind::method_not_allowed;
  return result;
}

Response Router::dispatch(Request& request) const {
  const auto split = split_target(request.target.empty() ? request.path : request.target);
  const auto match_result = split ? match(request.method, split->path, request.params)
                                  : RouteMatch{RouteMatch::Kind::bad_path, nullptr, {}};
  if (match_result.kind != RouteMatch::Kind::found) return unmatched_response(match_result);
  return match_result.route->handler(request);
}

std::size_t Router::max_body_limit(std::size_t default_limit) const {
  std::size_t limit = default_limit;
  for (const auto& r : routes_) limit = std::max(limit, r.options.body_limit.value_or(0));
  return limit;
}

Response unmatched_response(const RouteMatch& match) {
  switch (match.kind) {
    case RouteMatch::Kind::method_not_allowed: {
      auto response = error_response(405, "method_not_allowed",
                                     "This resource answers only " + match.allow + ".");
      response.headers.add("Allow", match.allow);
      return response;
    }
    case RouteMatch::Kind::bad_path:
      return error_response(400, "malformed", "The request path has a bad percent-escape.");
    case RouteMatch::Kind::found:
    case RouteMatch::Kind::not_found:
      break;
  }
  return error_response(404, "not_found", "No resource lives at this path.");
}

}  // namespace smacert::http

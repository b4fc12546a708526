// What every connection of one server shares. Internal to src/http.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cstddef>
#include <memory>
#include <vector>

#include "core/clock.h"
#include "http/connections.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/server.h"

namespace smacert::http::detail {

// The two transports a connection may have: plain HTTP, or HTTP over TLS.
using PlainStream = boost::beast::tcp_stream;
using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

struct ServerState {
  ServerState(Router r, ServerOptions o)
      : router(std::move(r)),
        options(std::move(o)),
        max_body_limit(router.max_body_limit(options.body_limit)) {
    if (!options.metrics) options.metrics = std::make_shared<Metrics>();
    if (!options.clock) options.clock = std::make_shared<SystemClock>();
    route_slots.reserve(router.routes().size());
    for (const auto& route : router.routes())
      route_slots.push_back(options.metrics->slot(route.name));
    unmatched_slot = options.metrics->slot("unmatched");
    invalid_slot = options.metrics->slot("invalid");
  }

  std::size_t slot_of(const RouteMatch& match) const {
    return match.route ? route_slots[match.route->index] : unmatched_slot;
  }
  std::size_t body_limit_of(const RouteMatch& match) const {
    return match.route ? match.route->options.body_limit.value_or(options.body_limit)
                       : options.body_limit;
  }

  const Router router;
  ServerOptions options;
  const std::size_t max_body_limit;  // over every route: bounds the header stage
  std::vector<std::size_t> route_slots;
  std::size_t unmatched_slot = 0;  // 404, 405, bad path
  std::size_t invalid_slot = 0;    // not HTTP, header too large
  Connections connections;
  // Set when the server speaks HTTPS (a certificate and key were given).
  std::shared_ptr<boost::asio::ssl::context> tls;
};

}  // namespace smacert::http::detail

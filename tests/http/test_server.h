// A real server on 127.0.0.1 with an ephemeral port and a small route table.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "http/error_status.h"
#include "http/server.h"

namespace smacert::http::testing {

inline std::unique_ptr<Server> start_server(Router router, ServerOptions options = {}) {
  if (options.threads == 0) options.threads = 2;
  auto server = Server::start(std::move(router), std::move(options));
  if (!server) ADD_FAILURE() << server.error().message;
  return server ? std::move(*server) : nullptr;
}

// A route table covering the cases the transport tests need.
struct EchoRoutes {
  std::atomic<int> upload_calls{0};

  Router router() {
    Router r;
    r.add("GET", "/healthz", "healthz", [](Request&) { return text_response(200, "ok"); });
    r.add("POST", "/echo", "echo",
          [](Request& req) { return text_response(200, req.body, "application/octet-stream"); });
    r.add(
        "POST", "/upload", "upload",
        [this](Request& req) {
          ++upload_calls;
          return text_response(200, std::to_string(req.body.size()));
        },
        RouteOptions{.body_limit = 1024});
    r.add("GET", "/throw", "throw",
          [](Request&) -> Response { throw std::runtime_error("secret detail"); });
    r.add("GET", "/slow", "slow", [](Request&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      return text_response(200, "finally");
    });
    return r;
  }
};

}  // namespace smacert::http::testing

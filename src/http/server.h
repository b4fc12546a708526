// The HTTP/1.1 server: a listener, one session per connection, the router's
// handlers run on the I/O threads. Handlers never see a socket.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/error.h"
#include "http/metrics.h"
#include "http/router.h"

namespace smacert::http {

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;  // 0: an ephemeral port, see Server::port()
  // I/O threads, which also run the handlers. 0: threads_per_core for each
  // core this process may run on (its CPU affinity).
  unsigned threads = 0;
  unsigned threads_per_core = 1;

  std::size_t header_limit = 8 * 1024;  // request line and fields; over it: 431
  std::size_t body_limit = 64 * 1024;   // default per route; over it: 413
  std::size_t max_connections = 10'000;

  // Waiting for the first byte of a request on an open connection.
  std::chrono::milliseconds idle_timeout{30'000};
  // From a request's first byte to the end of its header (slowloris bound).
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds write_timeout{30'000};
  // Event streams write ": keep-alive" and re-fetch after this much quiet.
  std::chrono::milliseconds sse_keepalive{15'000};
  // One info line per answered request (client, method, path, status,
  // microseconds) through spdlog; never headers or bodies, where secrets live.
  bool access_log = false;
  // stop() waits this long for in-flight requests before cutting them off.
  std::chrono::milliseconds drain_timeout{10'000};

  // HTTPS: a PEM certificate chain (the server's certificate first) and its
  // PEM private key. Both or neither; TLS 1.2 and 1.3 only.
  std::string tls_certificate_file;
  std::string tls_key_file;

  std::shared_ptr<Metrics> metrics;    // null: the server makes one
  std::shared_ptr<const Clock> clock;  // for the Date field; null: SystemClock
};

class Server {
 public:
  // Checks the routes, loads the TLS certificate and key if given, binds,
  // listens and starts the I/O threads. Errc::invalid_argument for a bad
  // route table, address, certificate or key (or a key that does not match
  // the certificate), Errc::unavailable when the address cannot be bound.
  static Result<std::unique_ptr<Server>> start(Router router, ServerOptions options = {});

  // Loads the TLS certificate and key as start() would, to refuse a bad
  // configuration before anything else is done. Success when neither is set.
  static Status check_tls(const ServerOptions& options);

  ~Server();  // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const;
  std::string address() const;
  std::string url() const;   // "http://127.0.0.1:PORT", or https:// with TLS
  unsigned threads() const;  // I/O threads started
  const std::shared_ptr<Metrics>& metrics() const;

  // Stops accepting, lets in-flight requests finish (up to drain_timeout),
  // closes idle connections and event streams, joins the I/O threads.
  // Idempotent and thread-safe; from a handler it only starts the stop.
  void stop();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace smacert::http

// A small synchronous HTTP/1.1 client (http:// and https://) for the phone
// app, the CLI and tests. Each call is bounded by a timeout; one keep-alive connection
// is reused between calls to the same host. Not thread-safe: one per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "http/headers.h"
#include "http/sse.h"

namespace smacert::http {

struct ClientResponse {
  int status = 0;
  Headers headers;
  std::string body;

  std::optional<std::string_view> header(std::string_view name) const { return headers.get(name); }
};

struct ClientOptions {
  std::chrono::milliseconds timeout{10'000};  // per request: connect, send, receive
  std::size_t body_limit = 4 * 1024 * 1024;   // larger answers: Errc::too_large
  std::string user_agent = "smacert";
  // https://: a PEM file of CAs trusted beside OpenSSL's defaults (which
  // honour SSL_CERT_FILE and SSL_CERT_DIR). The server's certificate must
  // chain to one and name the URL's host.
  std::string ca_file{};
};

class Client {
 public:
  explicit Client(ClientOptions options = {});
  ~Client();
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;

  // Any status is a successful answer; errors are for no answer:
  // Errc::unavailable (cannot connect, timed out, connection broke),
  // Errc::too_large (body over the limit), Errc::malformed (not HTTP),
  // Errc::invalid_argument (bad URL), Errc::verification (an https://
  // server whose certificate is not trusted for the host).
  Result<ClientResponse> request(std::string_view method, std::string_view url,
                                 const Headers& headers = {}, std::string_view body = {},
                                 std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  Result<ClientResponse> get(std::string_view url, const Headers& headers = {});
  Result<ClientResponse> post(std::string_view url, std::string_view body,
                              std::string_view content_type, const Headers& headers = {});

  // Reads a Server-Sent Events stream on a connection of its own, calling
  // on_event for each event, and returns when on_event returns false, the
  // server ends the stream, or max_wait has passed (all three are success).
  // A non-200 answer is an error with the code errc_from_http_status gives
  // and the server's message.
  Status read_events(std::string_view url, std::optional<std::int64_t> last_event_id,
                     const std::function<bool(const SseEvent&)>& on_event,
                     std::chrono::milliseconds max_wait, const Headers& headers = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace smacert::http

// Calls to the smacert service's JSON API, for the phone app, the counter and
// the relying-party tools: a JSON body in, a JSON document out, and the
// service's {"error","message"} answers turned back into Errors (marked
// from_service, so the CLI exits 3 for a rejection and 5 for an outage).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "http/client.h"

namespace smacert::http {

class ApiClient {
 public:
  explicit ApiClient(std::string base_url, std::string bearer = {});
  void set_bearer(std::string token) { bearer_ = std::move(token); }
  const std::string& base_url() const { return base_; }

  Result<nlohmann::json> get(const std::string& path);
  Result<nlohmann::json> post(const std::string& path, const nlohmann::json& body,
                              const Headers& extra = {});
  // Raw bytes (OCSP, CRL, PEM): a 2xx body as it is.
  Result<std::string> post_bytes(const std::string& path, std::string_view body,
                                 std::string_view content_type);
  Result<std::string> get_bytes(const std::string& path);
  // Server-Sent Events from `path`, as Client::read_events.
  Status read_events(const std::string& path, std::optional<std::int64_t> last_event_id,
                     const std::function<bool(const SseEvent&)>& on_event,
                     std::chrono::milliseconds max_wait);

 private:
  Result<nlohmann::json> finish(Result<ClientResponse> response);
  Headers headers(const Headers& extra = {}) const;
  std::string base_;
  std::string bearer_;
  Client client_;
};

}  // namespace smacert::http

#include "http/api_client.h"

#include "http/error_status.h"

namespace smacert::http {
namespace {

Error service_error(const ClientResponse& r) {
  Errc code = errc_from_http_status(r.status);
  std::string message = "the service answered " + std::to_string(r.status);
  auto doc = nlohmann::json::parse(r.body, nullptr, false);
  if (doc.is_object() && doc.contains("message") && doc["message"].is_string())
    message = doc["message"].get<std::string>();
  return Error{code, message, true};
}

Error unreachable(const Error& e, const std::string& base) {
  return Error{e.code, "cannot reach the service at " + base + ": " + e.message,
               e.code == Errc::unavailable};
}

}  // namespace

ApiClient::ApiClient(std::string base_url, std::string bearer)
    : base_(std::move(base_url)), bearer_(std::move(bearer)) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
}

Headers ApiClient::headers(const Headers& extra) const {
  Headers h = extra;
  if (!bearer_.empty()) h.set("Authorization", "Bearer " + bearer_);
  return h;
}

Result<nlohmann::json> ApiClient::finish(Result<ClientResponse> response) {
  if (!response) return fail(unreachable(response.error(), base_));
  if (response->status < 200 || response->status > 299) return fail(service_error(*response));
  if (response->body.empty()) return nlohmann::json::object();
  auto doc = nlohmann::json::parse(response->body, nullptr, false);
  if (doc.is_discarded())
    return fail(Error{Errc::malformed, "the service's answer is not JSON", true});
  return doc;
}

Result<nlohmann::json> ApiClient::get(const std::string& path) {
  return finish(client_.get(base_ + path, headers()));
}

Result<nlohmann::json> ApiClient::post(const std::string& path, const nlohmann::json& body,
                                       const Headers& extra) {
  return finish(client_.post(base_ + path, body.dump(), "application/json", headers(extra)));
}

Result<std::string> ApiClient::post_bytes(const std::string& path, std::string_view body,
                                          std::string_view content_type) {
  auto r = client_.post(base_ + path, body, content_type, headers());
  if (!r) return fail(unreachable(r.error(), base_));
  if (r->status < 200 || r->status > 299) return fail(service_error(*r));
  return std::move(r->body);
}

Result<std::string> ApiClient::get_bytes(const std::string& path) {
  auto r = client_.get(base_ + path, headers());
  if (!r) return fail(unreachable(r.error(), base_));
  if (r->status < 200 || r->status > 299) return fail(service_error(*r));
  return std::move(r->body);
}

Status ApiClient::read_events(const std::string& path, std::optional<std::int64_t> last_event_id,
                              const std::function<bool(const SseEvent&)>& on_event,
                              std::chrono::milliseconds max_wait) {
  auto st = client_.read_events(base_ + path, last_event_id, on_event, max_wait, headers());
  if (!st) {
    if (st.error().code == Errc::unavailable) return fail(unreachable(st.error(), base_));
    Error e = st.error();
    e.from_service = true;  // a non-200 answer to the stream request
    return fail(e);
  }
  return {};
}

}  // namespace smacert::http

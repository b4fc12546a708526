// The service's HTTP API as a test sees it: every answer with its status and
// body (a rejection is a value to check, not an error), JSON parsed when the
// body is JSON. One Api per thread (http::Client is not thread-safe).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>

#include "core/bytes.h"
#include "core/clock.h"
#include "http/client.h"
#include "pki/ocsp.h"

namespace smacert::integration {

struct Reply {
  int status = 0;  // 0: no answer (connection failed); see `transport_error`
  std::string body;
  nlohmann::json json;  // discarded when the body is not JSON
  std::string transport_error;

  bool answered() const { return status != 0; }
  std::string error_code() const {
    return json.is_object() ? json.value("error", std::string()) : std::string();
  }
  std::string message() const {
    return json.is_object() ? json.value("message", std::string()) : std::string();
  }
};
std::ostream& operator<<(std::ostream& o, const Reply& r);

class Api {
 public:
  Api(std::string base_url, std::string admin_token);

  Reply raw(const std::string& method, const std::string& path, const std::string& body,
            const http::Headers& headers = {});
  Reply get(const std::string& path, const std::string& bearer = {});
  Reply post(const std::string& path, const nlohmann::json& body, const std::string& bearer = {},
             const http::Headers& extra = {});
  // With the admin token.
  Reply admin(const std::string& path, const nlohmann::json& body);

  // POST /v1/challenges → the nonce ("" on failure, with a test failure).
  std::string challenge(const std::string& purpose = "application",
                        const std::string& subject = {});
  // The test clock (--test-clock): set to an RFC 3339 time, or advance.
  TimePoint set_clock(const std::string& rfc3339);
  TimePoint advance_clock(long long seconds);

  // Asks the responder at /ocsp/{ca} (POST) about `cert`, checks the answer
  // against `issuer` at time `at` and returns the status.
  Result<pki::CertStatus> ocsp(const std::string& ca, ByteView cert_der, X509* issuer,
                               TimePoint at);
  // The CA certificate served at /ca/{kind}.pem.
  pki::X509Ptr ca_certificate(const std::string& kind);

  const std::string& base_url() const { return base_; }

 private:
  std::string base_;
  std::string admin_token_;
  http::Client client_;
};

}  // namespace smacert::integration

// The counter and the 24/7 hotline, behind the admin bearer token.
#include <openssl/crypto.h>

#include "core/encoding.h"
#include "http/handlers/handler.h"
#include "http/handlers/json_input.h"
#include "http/handlers/routes.h"

namespace smacert::http {
namespace {

constexpr std::size_t kMaxDer = 16 * 1024;

// Constant-time comparison: the time taken says nothing about the token.
bool token_matches(const std::string& given, const std::string& expected) {
  return !expected.empty() && given.size() == expected.size() &&
         CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

Handler admin(const ServiceRoutes& d, Handler inner) {
  return [token = d.admin_token, inner = std::move(inner)](Request& req) -> Response {
    if (!token_matches(bearer_token(req), token))
      return error_response(401, "unauthorized", "the admin token is missing or wrong");
    return inner(req);
  };
}

Result<std::optional<TimePoint>> parse_rfc3339(const std::string& text) {
  if (text.empty()) return std::optional<TimePoint>();
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0')
    return fail(Errc::invalid_argument, "times are RFC 3339 in UTC, e.g. 2026-11-25T10:45:00Z");
  return std::optional<TimePoint>(from_unix(static_cast<long long>(timegm(&tm))));
}

nlohmann::json record_json(const store::CertificateRecord& c) {
  nlohmann::json j{{"serial", c.serial},
                   {"kind", c.kind},
                   {"ca", c.ca},
                   {"holder_id", c.holder_id},
                   {"card_id", c.card_id},
                   {"device_id", c.device_id},
                   {"application_id", c.application_id},
                   {"status", c.status},
                   {"not_after", to_rfc3339(from_unix(c.not_after))},
                   {"issued_at", to_rfc3339(from_unix(c.issued_at))},
                   {"certificate", base64_encode(c.der)}};
  if (c.revocation_reason >= 0) {
    auto r = pki::reason_from_code(c.revocation_reason);
    if (r) j["reason"] = std::string(pki::reason_name(*r));
    j["revoked_at"] = to_rfc3339(from_unix(c.revoked_at));
  }
  return j;
}

}  // namespace

void add_admin_routes(Router& router, const ServiceRoutes& d) {
  router.add("POST", "/admin/v1/cards", "admin_cards",
             admin(d, handle([d](Request& req) -> Result<Response> {
                     SMACERT_GET(in, JsonInput::parse(req.body, {"name", "address", "birth_date",
                                                                 "sex", "sign_csr", "auth_csr"}));
                     service::CardIssueRequest r;
                     SMACERT_GET(name, in.string("name", 400));
                     SMACERT_GET(address, in.string("address", 800));
                     SMACERT_GET(birth, in.string("birth_date", 10));
                     SMACERT_GET(sex, in.integer("sex", 1, 9));
                     SMACERT_GET(sign_csr, in.base64("sign_csr", kMaxDer, false));
                     SMACERT_GET(auth_csr, in.base64("auth_csr", kMaxDer));
                     r.name = name;
                     r.address = address;
                     r.birth_date = birth;
                     r.sex = static_cast<int>(sex);
                     r.sign_csr = std::move(sign_csr);
                     r.auth_csr = std::move(auth_csr);
                     SMACERT_GET(card, d.service.issue_card(r));
                     auto certs = nlohmann::json::array();
                     for (const auto& c : card.certificates) certs.push_back(certificate_json(c));
                     return json_response(201, {{"holder_id", card.holder_id},
                                                {"card_id", card.card_id},
                                                {"certificates", certs},
                                                {"ca",
                                                 {{"sign", base64_encode(card.sign_ca)},
                                                  {"auth", base64_encode(card.auth_ca)}}}});
                   })));

  router.add("GET", "/admin/v1/certificates/{serial}", "admin_certificate",
             admin(d, handle([d](Request& req) -> Result<Response> {
                     SMACERT_GET(c, d.service.certificate(std::string(req.param("serial"))));
                     return json_response(200, record_json(c));
                   })));

  router.add("GET", "/admin/v1/holders/{id}/certificates", "admin_holder_certificates",
             admin(d, handle([d](Request& req) -> Result<Response> {
                     SMACERT_GET(list, d.service.holder_certificates(std::string(req.param("id"))));
                     auto out = nlohmann::json::array();
                     for (const auto& c : list)
                       if (!c.der.empty()) out.push_back(record_json(c));
                     return json_response(
                         200, {{"holder_id", std::string(req.param("id"))}, {"certificates", out}});
                   })));

  router.add("POST", "/admin/v1/holders/{id}/records", "admin_records",
             admin(d, handle([d](Request& req) -> Result<Response> {
                     SMACERT_GET(in, JsonInput::parse(req.body, {"name", "address"}));
                     service::RecordsChange change;
                     if (in.has("name")) {
                       SMACERT_GET(name, in.string("name", 400));
                       change.name = name;
                     }
                     if (in.has("address")) {
                       SMACERT_GET(address, in.string("address", 800));
                       change.address = address;
                     }
                     auto st = d.service.change_records(std::string(req.param("id")), change);
                     if (!st) return fail(st.error());
                     return json_response(200, {{"status", "changed"}});
                   })));

  router.add(
      "POST", "/admin/v1/certificates/{serial}/{action}", "admin_certificate_status",
      admin(d, handle([d](Request& req) -> Result<Response> {
              SMACERT_GET(in, JsonInput::parse(req.body.empty() ? "{}" : req.body, {"reason"}));
              SMACERT_GET(reason_name, in.string("reason", 64, false));
              auto action = req.param("action");
              service::StatusAction a;
              pki::RevocationReason reason = pki::RevocationReason::unspecified;
              if (action == "suspend") {
                a = service::StatusAction::suspend;
                reason = pki::RevocationReason::certificate_hold;
              } else if (action == "resume") {
                a = service::StatusAction::resume;
              } else if (action == "revoke") {
                a = service::StatusAction::revoke;
                if (!reason_name.empty()) {
                  SMACERT_GET(r, pki::parse_reason(reason_name));
                  reason = r;
                }
              } else {
                return fail(Errc::not_found, "no such action (use suspend, resume or revoke)");
              }
              SMACERT_GET(cert, d.service.change_status(std::string(req.param("serial")), a, reason,
                                                        "counter"));
              nlohmann::json body{
                  {"serial", cert.serial}, {"kind", cert.kind}, {"status", cert.status}};
              if (cert.revocation_reason >= 0) {
                auto r = pki::reason_from_code(cert.revocation_reason);
                if (r) body["reason"] = std::string(pki::reason_name(*r));
              }
              return json_response(200, body);
            })));

  if (d.test_clock != nullptr) {
    router.add("POST", "/admin/v1/clock", "admin_clock",
               admin(d, handle([d](Request& req) -> Result<Response> {
                       SMACERT_GET(in, JsonInput::parse(req.body, {"set", "advance"}));
                       SMACERT_GET(set_text, in.string("set", 32, false));
                       SMACERT_GET(at, parse_rfc3339(set_text));
                       SMACERT_GET(advance, in.integer("advance", 0, 10LL * 365 * 86400, 0));
                       if (at) d.test_clock->set(*at);
                       d.test_clock->advance(std::chrono::seconds(advance));
                       if (d.on_clock_moved) d.on_clock_moved();
                       return json_response(200, {{"now", to_rfc3339(d.test_clock->now())}});
                     })));
  }
}

}  // namespace smacert::http

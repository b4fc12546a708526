#include "integration/support/api.h"

#include <gtest/gtest.h>
#include <openssl/ocsp.h>

#include <ctime>

namespace smacert::integration {

std::ostream& operator<<(std::ostream& o, const Reply& r) {
  if (!r.answered()) return o << "no answer: " << r.transport_error;
  return o << r.status << " " << r.body.substr(0, 400);
}

Api::Api(std::string base_url, std::string admin_token)
    : base_(std::move(base_url)), admin_token_(std::move(admin_token)) {}

Reply Api::raw(const std::string& method, const std::string& path, const std::string& body,
               const http::Headers& headers) {
  Reply out;
  auto r = client_.request(method, base_ + path, headers, body);
  if (!r) {
    out.transport_error = r.error().message;
    return out;
  }
  out.status = r->status;
  out.body = std::move(r->body);
  out.json = nlohmann::json::parse(out.body, nullptr, false);
  return out;
}

Reply Api::get(const std::string& path, const std::string& bearer) {
  http::Headers h;
  if (!bearer.empty()) h.set("Authorization", "Bearer " + bearer);
  return raw("GET", path, "", h);
}

Reply Api::post(const std::string& path, const nlohmann::json& body, const std::string& bearer,
                const http::Headers& extra) {
  http::Headers h = extra;
  h.set("Content-Type", "application/json");
  if (!bearer.empty()) h.set("Authorization", "Bearer " + bearer);
  return raw("POST", path, body.dump(), h);
}

Reply Api::admin(const std::string& path, const nlohmann::json& body) {
  return post(path, body, admin_token_);
}

std::string Api::challenge(const std::string& purpose, const std::string& subject) {
  nlohmann::json body{{"purpose", purpose}};
  if (!subject.empty()) body["subject"] = subject;
  auto r = post("/v1/challenges", body);
  EXPECT_EQ(r.status, 201) << r;
  return r.json.is_object() ? r.json.value("nonce", std::string()) : std::string();
}

namespace {
TimePoint clock_answer(const Reply& r) {
  EXPECT_EQ(r.status, 200) << r;
  std::tm tm{};
  std::string now = r.json.is_object() ? r.json.value("now", std::string()) : std::string();
  if (strptime(now.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) == nullptr) return TimePoint{};
  return from_unix(static_cast<long long>(timegm(&tm)));
}
}  // namespace

TimePoint Api::set_clock(const std::string& rfc3339) {
  return clock_answer(admin("/admin/v1/clock", {{"set", rfc3339}}));
}

TimePoint Api::advance_clock(long long seconds) {
  return clock_answer(admin("/admin/v1/clock", {{"advance", seconds}}));
}

Result<pki::CertStatus> Api::ocsp(const std::string& ca, ByteView cert_der, X509* issuer,
                                  TimePoint at) {
  auto parsed = pki::parse_certificate(cert_der);
  if (!parsed) return fail(parsed.error());
  pki::X509Ptr cert = std::move(*parsed);
  pki::OcspRequestPtr req(OCSP_REQUEST_new());
  OCSP_request_add0_id(req.get(), OCSP_cert_to_id(EVP_sha1(), cert.get(), issuer));
  unsigned char* p = nullptr;
  int len = i2d_OCSP_REQUEST(req.get(), &p);
  std::string der(reinterpret_cast<char*>(p), static_cast<std::size_t>(len));
  OPENSSL_free(p);
  auto r = raw("POST", "/ocsp/" + ca, der, {{"Content-Type", "application/ocsp-request"}});
  if (r.status != 200)
    return fail(Errc::unavailable, "OCSP answered " + std::to_string(r.status) + r.transport_error);
  return pki::check_ocsp_response(as_bytes(r.body), cert.get(), issuer, at);
}

pki::X509Ptr Api::ca_certificate(const std::string& kind) {
  auto r = get("/ca/" + kind + ".pem");
  EXPECT_EQ(r.status, 200) << r;
  auto c = pki::parse_certificate_pem(r.body);
  EXPECT_TRUE(c) << c.error().message;
  return c ? std::move(*c) : pki::X509Ptr();
}

}  // namespace smacert::integration

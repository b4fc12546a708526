// Using the phone's certificates: biometrics, the operation check (動作確認),
// My Page, revocation, signing, and login.
#include <openssl/ocsp.h>

#include <algorithm>

#include "card/jpki_client.h"
#include "card/stored_applet.h"
#include "core/encoding.h"
#include "phone/app.h"
#include "pki/cms.h"
#include "pki/ocsp.h"
#include "protocol/canonical.h"

namespace smacert::phone {
namespace {

using card::PinRef;

Error local(Errc code, std::string message) {
  return Error{code, std::move(message)};
}

// Reads one of the element's certificates; the auth certificate on a phone
// token opens only after the auth PIN (jpki-card.md §1), so the caller
// verifies first when it must.
Result<pki::X509Ptr> element_certificate(card::JpkiClient& element, std::uint16_t ef) {
  auto der = element.read_certificate(ef);
  if (!der) return fail(der.error());
  return pki::parse_certificate(*der);
}

Result<pki::CertStatus> ocsp_of(http::ApiClient& api, const X509* cert, const X509* issuer,
                                const std::string& ca, TimePoint now) {
  pki::OcspRequestPtr req(OCSP_REQUEST_new());
  OCSP_request_add0_id(req.get(), OCSP_cert_to_id(EVP_sha1(), cert, issuer));
  unsigned char* p = nullptr;
  int len = i2d_OCSP_REQUEST(req.get(), &p);
  std::string body(reinterpret_cast<char*>(p), static_cast<std::size_t>(len));
  OPENSSL_free(p);
  auto resp = api.post_bytes("/ocsp/" + ca, body, "application/ocsp-request");
  if (!resp) return fail(resp.error());
  return pki::check_ocsp_response(as_bytes(*resp), cert, issuer, now);
}

}  // namespace

Result<std::string> PhoneApp::unlock_pin(const Unlock& unlock) const {
  if (unlock.auth_pin) return *unlock.auth_pin;
  if (unlock.biometric) return keystore_.release_with_biometric(true);
  return fail(local(Errc::invalid_argument,
                    "give the auth PIN (--auth-pin) or use biometrics (--biometric)"));
}

Status PhoneApp::enroll_biometrics(const std::string& auth_pin) {
  SMACERT_TRY_STATUS(require_not_wiped());
  if (state_.application_status != "registered")
    return fail(local(Errc::conflict, "register the certificates first (登録する)"));
  // The element judges the PIN (and counts a wrong one) before it is sealed.
  auto se = card::StoredApplet::open(se_path(), *random_);
  if (!se) return fail(se.error());
  card::JpkiClient element(*se);
  SMACERT_TRY_STATUS(element.verify(PinRef::Auth, auth_pin));
  SMACERT_TRY_STATUS(keystore_.put("biometric", auth_pin));
  state_.biometrics = true;
  return save();
}

Status PhoneApp::remove_biometrics() {
  SMACERT_TRY_STATUS(keystore_.remove("biometric"));
  state_.biometrics = false;
  return save();
}

Result<std::string> PhoneApp::session(const Unlock& unlock) {
  auto result = login(unlock, "");
  if (!result) return fail(result.error());
  return (*result)["token"].get<std::string>();
}

Result<nlohmann::json> PhoneApp::login(const Unlock& unlock, const std::string& rp_url) {
  SMACERT_TRY_STATUS(require_not_wiped());
  auto pin = unlock_pin(unlock);
  if (!pin) return fail(pin.error());
  auto se = card::StoredApplet::open(se_path(), *random_);
  if (!se) return fail(se.error());
  card::JpkiClient element(*se);
  SMACERT_TRY_STATUS(element.verify(PinRef::Auth, *pin));
  auto cert = element_certificate(element, card::kAuthCertFile);
  if (!cert) return fail(Error{Errc::conflict, "this phone has no authentication certificate"});
  bool to_service = rp_url.empty();
  http::ApiClient api(to_service ? state_.server : rp_url);
  auto challenge = to_service ? api.post("/v1/challenges", {{"purpose", "session"}})
                              : api.post("/rp/v1/challenges", nlohmann::json::object());
  if (!challenge) return fail(challenge.error());
  std::string nonce = (*challenge)["nonce"];
  std::string audience = to_service ? "smacert" : rp_url;
  card::CardSigner signer(*se, PinRef::Auth, *pin,
                          pki::PkeyPtr(EVP_PKEY_dup(X509_get0_pubkey(cert->get()))));
  auto sig = signer.sign_sha256(pki::sha256(protocol::login_bytes(audience, nonce)));
  if (!sig) return fail(sig.error());
  nlohmann::json body{{"certificate", base64_encode(pki::to_der(cert->get()))},
                      {"nonce", nonce},
                      {"signature", base64_encode(*sig)}};
  if (!to_service) body["audience"] = audience;
  return api.post(to_service ? "/v1/sessions" : "/rp/v1/logins", body);
}

Result<CheckResult> PhoneApp::check(const Unlock& unlock) {
  // 動作確認: a real login against the service with the auth key …
  auto login_result = login(unlock, "");
  if (!login_result) return fail(login_result.error());
  // … and the responder's word on the certificate that was used.
  auto se = card::StoredApplet::open(se_path(), *random_);
  if (!se) return fail(se.error());
  card::JpkiClient element(*se);
  auto pin = unlock_pin(unlock);
  SMACERT_TRY_STATUS(element.verify(PinRef::Auth, *pin));
  auto cert = element_certificate(element, card::kAuthCertFile);
  auto ca = element_certificate(element, card::kAuthCaFile);
  if (!cert || !ca) return fail(local(Errc::conflict, "the secure element lacks its certificates"));
  auto api = service(false);
  auto st = ocsp_of(api, cert->get(), ca->get(), "auth", std::chrono::system_clock::now());
  if (!st) return fail(st.error().context("checking OCSP"));
  SMACERT_TRY_STATUS(pki::require_good(*st, "this phone's authentication certificate"));
  return CheckResult{pki::serial_hex(X509_get0_serialNumber(cert->get())), *st,
                     login_result->value("expires_at", "")};
}

Result<StatusView> PhoneApp::status(const std::optional<Unlock>& unlock) {
  StatusView v{state_, {}, std::nullopt};
  // Without a PIN the element shows what is free to read: the signature
  // certificate's CA, and (with the registered serials) OCSP's answers.
  if (!state_.wiped && !state_.certificates.empty() && state_.application_status == "registered") {
    auto api = service(false);
    auto se = card::StoredApplet::open(se_path(), *random_);
    if (!se) return fail(se.error());
    card::JpkiClient element(*se);
    if (unlock) {
      auto pin = unlock_pin(*unlock);
      if (!pin) return fail(pin.error());
      SMACERT_TRY_STATUS(element.verify(PinRef::Auth, *pin));
      auto cert = element_certificate(element, card::kAuthCertFile);
      auto ca = element_certificate(element, card::kAuthCaFile);
      if (cert && ca) {
        auto st = ocsp_of(api, cert->get(), ca->get(), "auth", std::chrono::system_clock::now());
        if (st) v.ocsp.emplace_back(pki::serial_hex(X509_get0_serialNumber(cert->get())), *st);
      }
    }
  }
  if (unlock) {
    auto token = session(*unlock);
    if (!token) return fail(token.error());
    http::ApiClient api(state_.server, *token);
    auto page = api.get("/v1/me/certificates");
    if (!page) return fail(page.error());
    // The service's word updates what this phone knows of its own certificates.
    for (auto& c : state_.certificates)
      for (const auto& s : (*page)["certificates"])
        if (s["serial"] == c.serial) {
          c.status = s["status"];
          c.reason = s.value("reason", "");
        }
    SMACERT_TRY_STATUS(save());
    v.state = state_;
    v.my_page = std::move(*page);
  }
  return v;
}

Result<std::vector<std::string>> PhoneApp::revoke(bool other_phone, const Unlock& unlock) {
  auto token = session(unlock);
  if (!token) return fail(token.error());
  http::ApiClient api(state_.server, *token);
  auto page = api.get("/v1/me/certificates");
  if (!page) return fail(page.error());
  // The session lives as long as this phone's authentication certificate:
  // that one goes last.
  std::vector<nlohmann::json> targets;
  for (const auto& c : (*page)["certificates"]) {
    if (c["this_device"].get<bool>() == other_phone) continue;
    if (c["status"] == "revoked") continue;
    targets.push_back(c);
  }
  std::stable_partition(targets.begin(), targets.end(), [](const nlohmann::json& c) {
    return !(c["this_device"].get<bool>() && c["kind"] == "phone_auth");
  });
  std::vector<std::string> revoked;
  for (const auto& c : targets) {
    auto r = api.post("/v1/certificates/" + c["serial"].get<std::string>() + "/revoke",
                      nlohmann::json::object());
    if (!r) return fail(r.error());
    revoked.push_back(c["serial"]);
  }
  if (!other_phone) {
    // 利用をやめる: the phone erases its own keys once the service has revoked them.
    SMACERT_TRY_STATUS(erase_credentials());
  }
  if (revoked.empty())
    return fail(local(Errc::not_found, other_phone ? "no other phone has active certificates"
                                                   : "this phone has no active certificates"));
  return revoked;
}

Result<std::vector<std::string>> PhoneApp::revoke_with_card(card::Transport& card,
                                                            const std::string& card_password) {
  std::string pw = card_password;
  for (auto& c : pw) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  card::JpkiClient card_client(card);
  SMACERT_TRY_STATUS(card_client.select_application());
  SMACERT_TRY_STATUS(card_client.verify(PinRef::Sign, pw));
  auto card_der = card_client.read_certificate(card::kSignCertFile);
  if (!card_der) return fail(card_der.error());
  auto card_cert = pki::parse_certificate(*card_der);
  if (!card_cert) return fail(card_cert.error());
  card::CardSigner signer(card, PinRef::Sign, pw,
                          pki::PkeyPtr(EVP_PKEY_dup(X509_get0_pubkey(card_cert->get()))));
  auto api = service(false);
  std::vector<std::string> revoked;
  for (auto& c : state_.certificates) {
    if (c.status == "revoked") continue;
    auto nonce = api.post("/v1/challenges", {{"purpose", "card_revocation"}});
    if (!nonce) return fail(nonce.error());
    std::string n = (*nonce)["nonce"];
    auto sig = signer.sign_sha256(pki::sha256(protocol::card_revocation_bytes(c.serial, n)));
    if (!sig) return fail(sig.error());
    auto r = api.post("/v1/certificates/" + c.serial + "/revoke",
                      {{"card_certificate", base64_encode(*card_der)},
                       {"nonce", n},
                       {"signature", base64_encode(*sig)}});
    if (!r) return fail(r.error());
    c.status = "revoked";
    revoked.push_back(c.serial);
  }
  SMACERT_TRY_STATUS(save());
  if (revoked.empty()) return fail(local(Errc::not_found, "this phone has no active certificates"));
  return revoked;
}

Result<Bytes> PhoneApp::sign(const std::string& sign_password, ByteView data) {
  SMACERT_TRY_STATUS(require_not_wiped());
  auto se = card::StoredApplet::open(se_path(), *random_);
  if (!se) return fail(se.error());
  card::JpkiClient element(*se);
  SMACERT_TRY_STATUS(element.select_application());
  // EF 0001 opens only with the signature password.
  SMACERT_TRY_STATUS(element.verify(PinRef::Sign, sign_password));
  auto cert = element_certificate(element, card::kSignCertFile);
  if (!cert) return fail(Error{Errc::conflict, "this phone has no signature certificate"});
  card::CardSigner signer(*se, PinRef::Sign, sign_password,
                          pki::PkeyPtr(EVP_PKEY_dup(X509_get0_pubkey(cert->get()))));
  return pki::cms_sign_detached(data, signer, cert->get(), {}, std::chrono::system_clock::now());
}

}  // namespace smacert::phone

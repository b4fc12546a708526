// Login to the service with the phone's authentication key, My Page, and
// revocation by the holder (from a phone, or with the card).
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/encoding.h"
#include "protocol/canonical.h"
#include "service/service.h"

namespace smacert::service {

// A session is a sealed token, not a row or a map entry: any node that holds
// the session key (DATA/session.key, the same on every node) can check it,
// so service nodes stay stateless. Token: "s1." + base64url(holder \n device
// \n serial \n expiry) + "." + base64url(HMAC-SHA256(key, everything before)).
namespace {

constexpr std::string_view kTokenVersion = "s1.";
constexpr std::size_t kTokenLimit = 1024;

Bytes mac_of(const Bytes& key, std::string_view text) {
  Bytes mac(EVP_MAX_MD_SIZE);
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(text.data()), text.size(), mac.data(), &n);
  mac.resize(n);
  return mac;
}

std::string seal(const Bytes& key, const Session& s) {
  const std::string payload = s.holder_id + "\n" + s.device_id + "\n" + s.serial + "\n" +
                              std::to_string(to_unix(s.expires_at));
  std::string token = std::string(kTokenVersion) + base64url_encode(to_bytes(payload));
  return token + "." + base64url_encode(mac_of(key, token));
}

std::optional<Session> open_token(const Bytes& key, const std::string& token) {
  if (token.size() > kTokenLimit || token.rfind(kTokenVersion, 0) != 0) return std::nullopt;
  const auto dot = token.rfind('.');
  if (dot < kTokenVersion.size()) return std::nullopt;
  auto mac = base64url_decode(std::string_view(token).substr(dot + 1));
  const Bytes expected = mac_of(key, std::string_view(token).substr(0, dot));
  if (!mac || mac->size() != expected.size() ||
      CRYPTO_memcmp(mac->data(), expected.data(), expected.size()) != 0)
    return std::nullopt;
  auto payload = base64url_decode(
      std::string_view(token).substr(kTokenVersion.size(), dot - kTokenVersion.size()));
  if (!payload) return std::nullopt;
  std::vector<std::string> fields(1);
  for (auto b : *payload) {
    if (b == '\n') {
      fields.emplace_back();
    } else {
      fields.back() += static_cast<char>(b);
    }
  }
  if (fields.size() != 4) return std::nullopt;
  try {
    return Session{token, fields[0], fields[1], fields[2], from_unix(std::stoll(fields[3]))};
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace

Result<Session> Service::login(const LoginRequest& r) {
  auto now = clock_.now();
  auto cert = pki::PresentedCertificate::parse(r.certificate);
  if (!cert) return fail(cert.error().context("certificate"));
  if (!pki::verify_sha256_signature(cert->public_key(), protocol::login_bytes("smacert", r.nonce),
                                    r.signature))
    return fail(Errc::verification, "the login signature does not match the certificate");
  auto tx = begin();
  if (!tx) return fail(tx.error());
  auto challenge = (*tx)->consume_challenge(r.nonce, "session", to_unix(now));
  if (!challenge) return fail(challenge.error().context("login nonce"));
  const std::string& serial = cert->serial();
  auto rec = registered(**tx, *cert, "the certificate", now);
  if (!rec) return fail(rec.error());
  if (rec->kind != "phone_auth")
    return fail(Errc::verification,
                "the certificate is not a registered phone authentication certificate");
  if (rec->status == "suspended")
    return fail(Errc::forbidden, "the certificate is suspended (一時停止中)");
  if (rec->status != "active") return fail(Errc::forbidden, "the certificate is " + rec->status);
  auto app = (*tx)->find_application(rec->application_id);
  if (!app) return fail(app.error());
  if (!*app || (*app)->status != "registered")
    return fail(Errc::forbidden,
                "the certificate is not registered yet (登録準備が完了しています)");
  auto available = from_unix((*app)->updated_at) + config_.activation_delay;
  if (now < available)
    return fail(Errc::forbidden, "the certificate becomes usable at " + to_rfc3339(available));
  SMACERT_TRY_STATUS((*tx)->commit());  // the nonce is spent
  Session s{
      {}, rec->holder_id, rec->device_id, serial, from_unix(to_unix(now + config_.session_ttl))};
  s.token = seal(session_key_, s);
  return s;
}

Result<Session> Service::session(const std::string& token) {
  auto s = open_token(session_key_, token);
  if (!s || s->expires_at < clock_.now())
    return fail(Errc::unauthorized, "no session, or it has ended; log in again");
  // The phone's authentication certificate must still be usable: a session
  // ends with the certificate it was opened with (revoked, suspended, wiped).
  auto tx = begin();
  if (!tx) return fail(tx.error());
  auto rec = (*tx)->find_certificate(s->serial);
  if (!rec) return fail(rec.error());
  if (!*rec || (*rec)->status != "active")
    return fail(Errc::unauthorized, "the session's certificate is no longer active; log in again");
  return *s;
}

Result<MyPage> Service::my_page(const Session& s) {
  auto tx = begin();
  if (!tx) return fail(tx.error());
  auto certs = (*tx)->certificates_of_holder(s.holder_id);
  if (!certs) return fail(certs.error());
  MyPage page{s.holder_id, s.device_id, {}};
  for (const auto& c : *certs) {
    if (c.device_id.empty() || c.der.empty()) continue;
    CertificateView v{c, false, {}};
    auto app = (*tx)->find_application(c.application_id);
    if (app && *app && (*app)->status == "registered") {
      v.registered = true;
      v.available_at = from_unix((*app)->updated_at) + config_.activation_delay;
    }
    page.certificates.push_back(std::move(v));
  }
  return page;
}

namespace {

// Stop using a phone (利用をやめる) or revoke the other phone (別のスマホの…失効).
Status check_holder_may_revoke(const store::CertificateRecord& c, const std::string& holder_id) {
  if (c.holder_id != holder_id || c.device_id.empty())
    return fail(Errc::forbidden, "that certificate is not one of your phone certificates");
  if (c.status == "revoked") return fail(Errc::conflict, "the certificate is already revoked");
  return {};
}

}  // namespace

Result<store::CertificateRecord> Service::revoke_by_holder(const Session& s,
                                                           const std::string& serial) {
  auto tx = begin();
  if (!tx) return fail(tx.error());
  Effects fx;
  auto rec = (*tx)->find_certificate(serial);
  if (!rec) return fail(rec.error());
  if (!*rec) return fail(Errc::not_found, "no certificate " + serial);
  SMACERT_TRY_STATUS(check_holder_may_revoke(**rec, s.holder_id));
  // Revoking another phone's certificate also tells that phone to erase
  // itself, and only that: the wipe event names the certificate.
  const bool other_phone = (*rec)->device_id != s.device_id;
  SMACERT_TRY_STATUS(set_status_in(**tx, fx, **rec, "revoked",
                                   pki::RevocationReason::cessation_of_operation,
                                   "phone:" + s.device_id, "certificate.revoke", nullptr,
                                   other_phone ? TellPhone::no : TellPhone::yes));
  if (other_phone) {
    auto dev = (*tx)->find_device((*rec)->device_id);
    if (!dev) return fail(dev.error());
    if (*dev && (*dev)->status == "active") {
      store::DeviceRecord d = **dev;
      d.status = "wipe_pending";
      SMACERT_TRY_STATUS((*tx)->update_device(d));
      SMACERT_TRY_STATUS(event_in(
          **tx, fx, d.id, "wipe",
          {{"reason", "revoked_by_holder"}, {"revoked", nlohmann::json::array({serial})}}));
    }
  }
  SMACERT_TRY_STATUS(commit(*tx, fx));
  auto rec2 = **rec;
  rec2.status = "revoked";
  return rec2;
}

Result<store::CertificateRecord> Service::revoke_with_card(const std::string& serial,
                                                           const CardRevocation& proof) {
  auto now = clock_.now();
  auto card = pki::PresentedCertificate::parse(proof.card_certificate);
  if (!card) return fail(card.error().context("card certificate"));
  if (!pki::verify_sha256_signature(card->public_key(),
                                    protocol::card_revocation_bytes(serial, proof.nonce),
                                    proof.signature))
    return fail(Errc::verification, "the card's signature does not verify");
  auto tx = begin();
  if (!tx) return fail(tx.error());
  Effects fx;
  auto challenge = (*tx)->consume_challenge(proof.nonce, "card_revocation", to_unix(now));
  if (!challenge) return fail(challenge.error().context("nonce"));
  auto card_rec = registered(**tx, *card, "the card certificate", now);
  if (!card_rec) return fail(card_rec.error());
  if (card_rec->kind != "card_sign" || card_rec->status != "active")
    return fail(Errc::forbidden, "the card signature certificate is not active");
  auto rec = (*tx)->find_certificate(serial);
  if (!rec) return fail(rec.error());
  if (!*rec) return fail(Errc::not_found, "no certificate " + serial);
  SMACERT_TRY_STATUS(check_holder_may_revoke(**rec, card_rec->holder_id));
  SMACERT_TRY_STATUS(set_status_in(**tx, fx, **rec, "revoked",
                                   pki::RevocationReason::cessation_of_operation, "holder:card",
                                   "certificate.revoke"));
  SMACERT_TRY_STATUS(commit(*tx, fx));
  auto rec2 = **rec;
  rec2.status = "revoked";
  return rec2;
}

}  // namespace smacert::service

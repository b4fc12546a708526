// Login to the service with the phone's authentication key, My Page, and
// revocation by the holder (from a phone, or with the card).
#include "core/encoding.h"
#include "pki/verify.h"
#include "protocol/canonical.h"
#include "service/service.h"

namespace smacert::service {

Result<Session> Service::login(const LoginRequest& r) {
  auto now = clock_.now();
  auto cert = pki::parse_certificate(r.certificate);
  if (!cert) return fail(cert.error().context("certificate"));
  X509* auth_root = authorities_.auth->certificate();
  if (auto chain = pki::verify_chain(cert->get(), std::span<X509* const>(&auth_root, 1), now);
      !chain)
    return fail(Errc::verification, chain.error().message);
  if (!pki::verify_sha256_signature(X509_get0_pubkey(cert->get()),
                                    protocol::login_bytes("smacert", r.nonce), r.signature))
    return fail(Errc::verification, "the login signature does not match the certificate");
  auto tx = begin();
  if (!tx) return fail(tx.error());
  auto challenge = (*tx)->consume_challenge(r.nonce, "session", to_unix(now));
  if (!challenge) return fail(challenge.error().context("login nonce"));
  std::string serial = pki::serial_hex(X509_get0_serialNumber(cert->get()));
  auto rec = (*tx)->find_certificate(serial);
  if (!rec) return fail(rec.error());
  if (!*rec || (*rec)->kind != "phone_auth")
    return fail(Errc::verification,
                "the certificate is not a registered phone authentication certificate");
  if ((*rec)->status == "suspended")
    return fail(Errc::forbidden, "the certificate is suspended (一時停止中)");
  if ((*rec)->status != "active")
    return fail(Errc::forbidden, "the certificate is " + (*rec)->status);
  auto app = (*tx)->find_application((*rec)->application_id);
  if (!app) return fail(app.error());
  if (!*app || (*app)->status != "registered")
    return fail(Errc::forbidden,
                "the certificate is not registered yet (登録準備が完了しています)");
  auto available = from_unix((*app)->updated_at) + config_.activation_delay;
  if (now < available)
    return fail(Errc::forbidden, "the certificate becomes usable at " + to_rfc3339(available));
  SMACERT_TRY_STATUS((*tx)->commit());  // the nonce is spent
  Session s{base64url_encode(random_.bytes(32)), (*rec)->holder_id, (*rec)->device_id, serial,
            now + config_.session_ttl};
  std::lock_guard lock(sessions_mutex_);
  for (auto it = sessions_.begin(); it != sessions_.end();)
    it = it->second.expires_at < now ? sessions_.erase(it) : std::next(it);
  sessions_[s.token] = s;
  return s;
}

Result<Session> Service::session(const std::string& token) {
  std::lock_guard lock(sessions_mutex_);
  auto it = sessions_.find(token);
  if (it == sessions_.end() || it->second.expires_at < clock_.now())
    return fail(Errc::unauthorized, "no session, or it has ended; log in again");
  return it->second;
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
  SMACERT_TRY_STATUS(set_status_in(**tx, fx, **rec, "revoked",
                                   pki::RevocationReason::cessation_of_operation,
                                   "phone:" + s.device_id, "certificate.revoke"));
  // Revoking another phone's certificate also tells that phone to erase itself.
  if ((*rec)->device_id != s.device_id) {
    auto dev = (*tx)->find_device((*rec)->device_id);
    if (dev && *dev && (*dev)->status == "active") {
      store::DeviceRecord d = **dev;
      d.status = "wipe_pending";
      SMACERT_TRY_STATUS((*tx)->update_device(d));
      SMACERT_TRY_STATUS(event_in(**tx, fx, d.id, "wipe", {{"reason", "revoked_by_holder"}}));
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
  auto card = pki::parse_certificate(proof.card_certificate);
  if (!card) return fail(card.error().context("card certificate"));
  X509* sign_root = authorities_.sign->certificate();
  if (auto chain = pki::verify_chain(card->get(), std::span<X509* const>(&sign_root, 1), now);
      !chain)
    return fail(Errc::verification, chain.error().message);
  if (!pki::verify_sha256_signature(X509_get0_pubkey(card->get()),
                                    protocol::card_revocation_bytes(serial, proof.nonce),
                                    proof.signature))
    return fail(Errc::verification, "the card's signature does not verify");
  auto tx = begin();
  if (!tx) return fail(tx.error());
  Effects fx;
  auto challenge = (*tx)->consume_challenge(proof.nonce, "card_revocation", to_unix(now));
  if (!challenge) return fail(challenge.error().context("nonce"));
  auto card_rec = (*tx)->find_certificate(pki::serial_hex(X509_get0_serialNumber(card->get())));
  if (!card_rec) return fail(card_rec.error());
  if (!*card_rec || (*card_rec)->kind != "card_sign" || (*card_rec)->status != "active")
    return fail(Errc::forbidden, "the card signature certificate is not active");
  auto rec = (*tx)->find_certificate(serial);
  if (!rec) return fail(rec.error());
  if (!*rec) return fail(Errc::not_found, "no certificate " + serial);
  SMACERT_TRY_STATUS(check_holder_may_revoke(**rec, (*card_rec)->holder_id));
  SMACERT_TRY_STATUS(set_status_in(**tx, fx, **rec, "revoked",
                                   pki::RevocationReason::cessation_of_operation, "holder:card",
                                   "certificate.revoke"));
  SMACERT_TRY_STATUS(commit(*tx, fx));
  auto rec2 = **rec;
  rec2.status = "revoked";
  return rec2;
}

}  // namespace smacert::service

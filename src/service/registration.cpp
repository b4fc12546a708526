// Registration (登録, the seed's ⑫–⑬): the phone wrote its new certificates
// into its secure element and proves it holds each key by signing the
// server's nonce with it.
#include "protocol/canonical.h"
#include "service/service.h"

namespace smacert::service {

Status Service::register_application(const std::string& id, const std::string& device_token,
                                     const Registration& reg) {
  auto now = clock_.now();
  auto tx = begin();
  if (!tx) return fail(tx.error());
  Effects fx;
  auto app = (*tx)->find_application(id);
  if (!app) return fail(app.error());
  if (!*app) return fail(Errc::not_found, "no application " + id);
  auto device = device_for(**tx, (*app)->device_id, device_token);
  if (!device) return fail(Errc::not_found, "no application " + id);
  if ((*app)->status == "registered")
    return fail(Errc::conflict, "the application is already registered");
  if ((*app)->status != "issued")
    return fail(Errc::conflict, "the application is " + (*app)->status + ", not issued yet");
  // Step 1: the nonce was made for this application and is used once.
  auto challenge = (*tx)->consume_challenge(reg.nonce, "registration", to_unix(now));
  if (!challenge) return fail(challenge.error().context("registration nonce"));
  if (challenge->subject != id)
    return fail(Errc::invalid_argument, "the registration nonce was made for another application");
  // Step 2: every certificate of the application is vouched for by its key.
  auto certs = (*tx)->certificates_of_device((*app)->device_id);
  if (!certs) return fail(certs.error());
  int checked = 0;
  for (const auto& c : *certs) {
    if (c.application_id != id) continue;
    if (c.status != "active")
      return fail(Errc::conflict, "certificate " + c.serial + " is " + c.status);
    bool sign = c.kind == "phone_sign";
    const Bytes& sig = sign ? reg.sign_signature : reg.auth_signature;
    if (sig.empty())
      return fail(Errc::invalid_argument,
                  std::string("the registration needs a signature by the new ") +
                      (sign ? "sign" : "auth") + " key");
    auto cert = pki::parse_certificate(c.der);
    if (!cert) return fail(cert.error());
    auto msg = protocol::registration_bytes(id, reg.nonce, sign ? "sign" : "auth");
    if (!pki::verify_sha256_signature(X509_get0_pubkey(cert->get()), msg, sig))
      return fail(Errc::verification, std::string("the signature by the new ") +
                                          (sign ? "sign" : "auth") +
                                          " key does not match its certificate");
    ++checked;
  }
  if (checked == 0) return fail(Errc::conflict, "the application has no certificates to register");
  // Step 3: registered; usable at once, or after the configured activation delay.
  store::ApplicationRecord updated = **app;
  updated.status = "registered";
  updated.updated_at = to_unix(now);
  SMACERT_TRY_STATUS((*tx)->update_application(updated));
  SMACERT_TRY_STATUS(audit_in(
      **tx, "phone:" + updated.device_id, "application.register", id,
      {{"certificates", checked}, {"available_at", to_rfc3339(now + config_.activation_delay)}}));
  return commit(*tx, fx);
}

}  // namespace smacert::service

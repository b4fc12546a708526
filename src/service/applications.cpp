// Applications from a phone: first application (利用申請) and device change
// (機種変更). Steps are numbered as the checks happen; the seed's step
// numbers say where the phone collected each piece.
#include "core/encoding.h"
#include "protocol/canonical.h"
#include "service/service.h"

namespace smacert::service {
namespace {

bool valid_device_id(const std::string& id) {
  return id.size() >= 8 && id.size() <= 64 &&
         id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") ==
             std::string::npos;
}

std::string token_hash(const std::string& token) {
  return hex_encode(pki::sha256(as_bytes(token)));
}

bool is_active(const store::CertificateRecord& c) {
  return c.status == "active" || c.status == "suspended";
}

// The active card certificates of a holder by kind: a phone certificate of
// the same kind may not outlive its card one.
std::map<std::string, const store::CertificateRecord*> cards_by_kind(
    const std::vector<store::CertificateRecord>& certs) {
  std::map<std::string, const store::CertificateRecord*> cards;
  for (const auto& c : certs)
    if ((c.kind == "card_sign" || c.kind == "card_auth") && c.status == "active")
      cards[c.kind] = &c;
  return cards;
}

// The phone certificates an application for `device_id` replaces: every
// live one on another phone, and on this phone those of the kinds it asks for.
std::vector<const store::CertificateRecord*> replaced_by(
    const std::vector<store::CertificateRecord>& certs, const std::string& device_id, bool sign,
    bool auth) {
  std::vector<const store::CertificateRecord*> out;
  for (const auto& c : certs) {
    if (c.device_id.empty() || c.status == "revoked") continue;
    bool replaced_here = (c.kind == "phone_sign" && sign) || (c.kind == "phone_auth" && auth);
    if (c.device_id != device_id || replaced_here) out.push_back(&c);
  }
  return out;
}

}  // namespace

Result<store::ChallengeRecord> Service::new_challenge(const std::string& purpose,
                                                      const std::string& subject) {
  static const std::set<std::string> kPurposes = {"application", "registration", "session",
                                                  "card_revocation"};
  if (!kPurposes.count(purpose))
    return fail(Errc::invalid_argument,
                "purpose must be application, registration, session or card_revocation");
  if (subject.size() > 128) return fail(Errc::invalid_argument, "subject is too long");
  store::ChallengeRecord c;
  c.nonce = base64url_encode(random_.bytes(32));
  c.purpose = purpose;
  c.subject = subject;
  c.expires_at = to_unix(clock_.now() + config_.challenge_ttl);
  auto tx = begin();
  if (!tx) return fail(tx.error());
  SMACERT_TRY_STATUS((*tx)->delete_expired_challenges(to_unix(clock_.now())));
  SMACERT_TRY_STATUS((*tx)->insert_challenge(c));
  SMACERT_TRY_STATUS((*tx)->commit());
  return c;
}

Result<store::DeviceRecord> Service::device_for(store::Transaction& tx,
                                                const std::string& device_id,
                                                const std::string& token) {
  auto d = tx.find_device(device_id);
  if (!d) return fail(d.error());
  // The same answer for an unknown device and a wrong token: nothing to probe.
  if (!*d || token.empty() || (*d)->token_hash != token_hash(token))
    return fail(Errc::unauthorized, "unknown device or wrong device token");
  return **d;
}

Result<ApplicationAccepted> Service::submit_application(const ApplicationRequest& r) {
  auto now = clock_.now();
  // Step 1: the shape of the request.
  if (r.kind != "new" && r.kind != "device_change")
    return fail(Errc::invalid_argument, "kind must be new or device_change");
  if (!valid_device_id(r.device.id))
    return fail(Errc::invalid_argument, "device.id must be 8 to 64 of A-Z a-z 0-9 -");
  if (r.device.platform != "android" && r.device.platform != "ios")
    return fail(Errc::invalid_argument, "device.platform must be android or ios");
  if (r.device.model.size() > 64)
    return fail(Errc::invalid_argument, "device.model is over 64 bytes");
  // ⑤ at least one certificate chosen.
  if (r.sign_csr.empty() && r.auth_csr.empty())
    return fail(Errc::invalid_argument, "choose at least one certificate (a sign or auth CSR)");
  // ⑥ 確認しました; ⑨ 同意して次へ for a device change.
  if (!r.consent_terms)
    return fail(Errc::invalid_argument, "the terms were not accepted (consents.terms)");
  if (r.kind == "device_change" && !r.consent_revoke_old)
    return fail(Errc::invalid_argument,
                "a device change needs the consent to revoke the old phone's certificates "
                "(consents.revoke_old)");

  // Step 2: the card signature certificate as presented: its serial and key
  // (whether it is ours, the store decides in step 7).
  auto card_cert = pki::PresentedCertificate::parse(r.card_certificate);
  if (!card_cert) return fail(card_cert.error().context("card certificate"));
  const std::string& card_serial = card_cert->serial();

  // Step 3: the card's signature over the canonical application (⑧).
  protocol::ApplicationFields fields{
      r.kind,      r.challenge, r.device.id, r.device.platform, r.device.model,
      card_serial, r.sign_csr,  r.auth_csr,  r.consent_terms,   r.consent_revoke_old};
  Bytes signed_bytes = protocol::application_bytes(fields);
  if (auto ok =
          pki::verify_sha256_signature(card_cert->public_key(), signed_bytes, r.card_signature);
      !ok)
    return fail(Errc::verification, "the card's signature over the application does not verify");
  std::string request_hash = hex_encode(pki::sha256(signed_bytes));

  // Step 4: each CSR proves possession of its key and meets the key policy.
  PhoneRequests requests;
  for (auto [der, out, what] : {std::tuple{&r.sign_csr, &requests.sign, "sign"},
                                std::tuple{&r.auth_csr, &requests.auth, "auth"}}) {
    if (der->empty()) continue;
    auto csr = pki::CertificateRequest::parse(*der);
    if (!csr) return fail(csr.error().context(std::string("the ") + what + " CSR"));
    SMACERT_TRY_STATUS(csr->end_entity_key());
    out->emplace(std::move(*csr));
  }
  // Step 4b: sign ahead, outside the write transaction and on a signing
  // thread (signers_), what issuing it now will most likely need (Presigned
  // in service.h).
  Presigned ahead;
  if (config_.window.is_open(now))
    ahead = signers_.run([&] { return presign_application(r, card_serial, requests); });

  auto tx = begin();
  if (!tx) return fail(tx.error());
  Effects fx;
  // Step 5: a repeated Idempotency-Key gets the first answer, not a second application.
  if (!r.idempotency_key.empty()) {
    if (r.idempotency_key.size() > 128)
      return fail(Errc::invalid_argument, "Idempotency-Key is over 128 bytes");
    auto prior = (*tx)->find_application_by_idempotency_key(r.idempotency_key);
    if (!prior) return fail(prior.error());
    if (*prior) {
      if ((*prior)->request_hash != request_hash)
        return fail(Errc::conflict, "this Idempotency-Key was used for a different application");
      return ApplicationAccepted{(*prior)->id, (*prior)->status, from_unix((*prior)->ready_at), "",
                                 true};
    }
  }
  // Step 6: the single-use challenge (rolled back with everything else if a
  // later step refuses).
  auto challenge = (*tx)->consume_challenge(r.challenge, "application", to_unix(now));
  if (!challenge) return fail(challenge.error().context("challenge"));

  // Step 7: the card certificate is one we issued, a card signature
  // certificate, and good.
  auto card_rec = registered(**tx, *card_cert, "the card certificate", now);
  if (!card_rec) return fail(card_rec.error());
  if (card_rec->kind != "card_sign")
    return fail(Errc::verification,
                "the card certificate is not a registered card signature certificate");
  if (card_rec->status != "active")
    return fail(Errc::forbidden, "the card signature certificate is " + card_rec->status);
  const std::string holder_id = card_rec->holder_id;
  // One decision about this holder's phones at a time, on every node: two
  // device changes that race queue here, and the second sees the first's
  // certificates (store.h, lock_holder).
  SMACERT_TRY_STATUS((*tx)->lock_holder(holder_id));

  // Step 8: a first application is for a holder without a phone; a device
  // change is the way to move to another one.
  auto certs = (*tx)->certificates_of_holder(holder_id);
  if (!certs) return fail(certs.error());
  if (r.kind == "new") {
    for (const auto& c : *certs)
      if (!c.device_id.empty() && c.device_id != r.device.id && is_active(c))
        return fail(Errc::conflict,
                    "this holder has certificates on another phone; apply for a device change");
  }

  // Step 9: the device, bound to this holder, with a fresh token.
  auto existing = (*tx)->find_device(r.device.id);
  if (!existing) return fail(existing.error());
  std::string token = base64url_encode(random_.bytes(32));
  store::DeviceRecord device{r.device.id, holder_id,    r.device.platform, r.device.model,
                             "active",    to_unix(now), token_hash(token)};
  if (*existing) {
    if ((*existing)->holder_id != holder_id && !(*existing)->holder_id.empty())
      return fail(Errc::conflict, "this device belongs to another holder");
    if ((*existing)->status != "active")
      return fail(Errc::conflict, "this device was wiped; set it up as a new phone");
    device.created_at = (*existing)->created_at;
    SMACERT_TRY_STATUS((*tx)->update_device(device));
  } else {
    SMACERT_TRY_STATUS((*tx)->insert_device(device));
  }

  // Step 10: the application, issued now or when the window opens.
  store::ApplicationRecord app;
  app.id = new_ordered_id("app");
  app.kind = r.kind;
  app.holder_id = holder_id;
  app.device_id = r.device.id;
  app.status = "waiting";
  app.idempotency_key = r.idempotency_key;
  app.request_hash = request_hash;
  app.payload = nlohmann::json{{"card_serial", card_serial},
                               {"sign_csr", base64_encode(r.sign_csr)},
                               {"auth_csr", base64_encode(r.auth_csr)},
                               {"platform", r.device.platform},
                               {"model", r.device.model}}
                    .dump();
  app.created_at = to_unix(now);
  app.ready_at = to_unix(config_.window.next_open(now));
  app.updated_at = app.created_at;
  SMACERT_TRY_STATUS((*tx)->insert_application(app));
  SMACERT_TRY_STATUS(audit_in(**tx, "phone:" + r.device.id, "application.accept", app.id,
                              {{"kind", app.kind},
                               {"holder", holder_id},
                               {"card_serial", card_serial},
                               {"ready_at", to_rfc3339(from_unix(app.ready_at))}}));
  if (config_.window.is_open(now))
    SMACERT_TRY_STATUS(issue_application_in(**tx, fx, app, &requests, &ahead, &*certs));
  SMACERT_TRY_STATUS(commit(*tx, fx));
  stats_.signed_ahead_dropped +=
      ahead.certificates.size() + ahead.revocations.size() - fx.signed_ahead;
  ++stats_.applications;
  return ApplicationAccepted{app.id, app.status, from_unix(app.ready_at), token, false};
}

// Issues the phone certificates of an accepted application and, in the same
// transaction, revokes every phone certificate the holder has elsewhere
// (superseded) and queues one signed wipe event per old phone.
Status Service::issue_application_in(store::Transaction& tx, Effects& fx,
                                     store::ApplicationRecord& app, const PhoneRequests* accepted,
                                     const Presigned* ahead,
                                     const std::vector<store::CertificateRecord>* holder_certs) {
  PhoneRequests stored;
  if (accepted == nullptr) {
    // Issued later than accepted: the requests as the payload kept them.
    auto payload = nlohmann::json::parse(app.payload, nullptr, false);
    if (payload.is_discarded())
      return fail(Errc::internal, "application " + app.id + " has a broken payload");
    for (auto [key, out] : {std::pair{"sign_csr", &stored.sign}, {"auth_csr", &stored.auth}}) {
      auto der = base64_decode(payload.value(key, std::string()));
      if (!der) return fail(Errc::internal, "application " + app.id + " has broken CSRs");
      if (der->empty()) continue;
      auto csr = pki::CertificateRequest::parse(*der);
      if (!csr) return fail(csr.error().context("application " + app.id));
      out->emplace(std::move(*csr));
    }
    accepted = &stored;
  }
  const PhoneRequests& requests = *accepted;
  Result<std::vector<store::CertificateRecord>> read;
  if (holder_certs == nullptr) {
    read = tx.certificates_of_holder(app.holder_id);
    if (!read) return fail(read.error());
    holder_certs = &*read;
  }
  const auto* certs = holder_certs;
  std::string actor = "system";

  // The card certificates bound the phone ones: same kind, same end or earlier.
  auto card_of_kind = cards_by_kind(*certs);

  // Only a device change may revoke another phone (the holder consented, ⑨).
  // A first application that waited for the window while another phone got
  // certificates is no longer a first application: it is refused.
  if (app.kind != "device_change") {
    for (const auto& c : *certs)
      if (!c.device_id.empty() && c.device_id != app.device_id &&
          (c.status == "active" || c.status == "suspended"))
        return fail(Errc::conflict,
                    "the holder has certificates on another phone; apply for a device change");
  }

  // Revoke first, so that the invariant holds at every point of the transaction.
  // Another phone is told once: its wipe event names what was revoked.
  std::map<std::string, nlohmann::json> old_devices;  // device → its revoked serials
  for (const auto* c :
       replaced_by(*certs, app.device_id, requests.sign.has_value(), requests.auth.has_value())) {
    std::shared_ptr<const pki::OcspEntry> answer;
    if (ahead != nullptr)
      if (auto it = ahead->revocations.find(c->serial); it != ahead->revocations.end())
        answer = it->second;
    const bool other_phone = c->device_id != app.device_id;
    SMACERT_TRY_STATUS(set_status_in(tx, fx, *c, "revoked", pki::RevocationReason::superseded,
                                     actor, "certificate.revoke", std::move(answer),
                                     other_phone ? TellPhone::no : TellPhone::yes));
    if (other_phone) old_devices[c->device_id].push_back(c->serial);
  }
  for (const auto& [d, revoked] : old_devices) {
    auto dev = tx.find_device(d);
    if (!dev) return fail(dev.error());
    if (!*dev || (*dev)->status != "active") continue;  // already told to wipe
    store::DeviceRecord updated = **dev;
    updated.status = "wipe_pending";
    SMACERT_TRY_STATUS(tx.update_device(updated));
    SMACERT_TRY_STATUS(event_in(tx, fx, d, "wipe",
                                {{"reason", "device_change"},
                                 {"new_device", app.device_id},
                                 {"application", app.id},
                                 {"revoked", revoked}}));
    SMACERT_TRY_STATUS(audit_in(tx, actor, "device.wipe_requested", d, {{"application", app.id}}));
  }

  nlohmann::json issued = nlohmann::json::array();
  for (auto [csr, kind, card_kind] :
       {std::tuple{&requests.sign, pki::CertificateKind::phone_sign, "card_sign"},
        std::tuple{&requests.auth, pki::CertificateKind::phone_auth, "card_auth"}}) {
    if (!*csr) continue;
    auto card = card_of_kind.find(card_kind);
    if (card == card_of_kind.end())
      return fail(Errc::forbidden, std::string("the holder has no active ") + card_kind +
                                       " certificate to bind a phone certificate to");
    std::optional<pki::HolderFacts> facts;
    if (kind == pki::CertificateKind::phone_sign) {
      auto f = facts_of(tx, app.holder_id);
      if (!f) return fail(f.error());
      facts = *f;
    }
    auto limit = from_unix(card->second->not_after);
    const Presigned::Certificate* signed_ahead = nullptr;
    if (ahead != nullptr)
      if (auto it = ahead->certificates.find(kind); it != ahead->certificates.end())
        signed_ahead = &it->second;
    auto c = issue_in(tx, fx,
                      {kind, &**csr, app.holder_id, "", app.device_id, app.id, facts, limit, limit},
                      actor, signed_ahead);
    if (!c) return fail(c.error());
    issued.push_back({{"serial", c->serial}, {"kind", c->kind}});
  }
  app.status = "issued";
  app.ready_at = to_unix(clock_.now());
  app.updated_at = app.ready_at;
  SMACERT_TRY_STATUS(tx.update_application(app));
  // 登録準備が完了しています: the new phone may now register.
  SMACERT_TRY_STATUS(event_in(tx, fx, app.device_id, "registration_ready",
                              {{"application", app.id}, {"certificates", issued}}));
  return {};
}

// Read-only, outside the write transaction: a snapshot of the holder, then
// every signature issuing the application would make against it. Anything
// that goes wrong here only means less is signed ahead.
Service::Presigned Service::presign_application(const ApplicationRequest& r,
                                                const std::string& card_serial,
                                                const PhoneRequests& requests) {
  Presigned ahead;
  auto tx = store_.begin_read();
  if (!tx) return ahead;
  if (!r.idempotency_key.empty()) {
    auto prior = (*tx)->find_application_by_idempotency_key(r.idempotency_key);
    if (!prior || *prior) return ahead;  // a repeat gets the first answer: nothing to sign
  }
  auto card = (*tx)->find_certificate(card_serial);
  if (!card || !*card || (*card)->der != r.card_certificate || (*card)->kind != "card_sign" ||
      (*card)->status != "active")
    return ahead;
  const std::string holder_id = (*card)->holder_id;
  auto certs = (*tx)->certificates_of_holder(holder_id);
  if (!certs) return ahead;
  auto replaced =
      replaced_by(*certs, r.device.id, requests.sign.has_value(), requests.auth.has_value());
  if (r.kind != "device_change")
    for (const auto* c : replaced)
      if (c->device_id != r.device.id && is_active(*c)) return ahead;  // it will be refused
  std::optional<pki::HolderFacts> facts;
  if (requests.sign) {
    auto f = facts_of(**tx, holder_id);
    if (!f) return ahead;
    facts = *f;
  }
  tx->reset();

  const auto now = clock_.now();
  auto cards = cards_by_kind(*certs);
  for (auto [csr, kind, card_kind] :
       {std::tuple{&requests.sign, pki::CertificateKind::phone_sign, "card_sign"},
        std::tuple{&requests.auth, pki::CertificateKind::phone_auth, "card_auth"}}) {
    auto card_of_kind = cards.find(card_kind);
    if (!*csr || card_of_kind == cards.end()) continue;
    Presigned::Certificate c;
    c.serial = pki::random_serial(random_);
    c.subject_id = new_id("P");
    if (kind == pki::CertificateKind::phone_sign) c.facts = facts;
    c.not_before = now;
    c.not_after = from_unix(card_of_kind->second->not_after);
    const pki::CaKind ca = pki::ca_of(kind);
    auto der = authorities_.of(ca).issue({.kind = kind,
                                          .csr = &**csr,
                                          .subject_id = c.subject_id,
                                          .facts = c.facts,
                                          .serial = c.serial,
                                          .not_before = c.not_before,
                                          .not_after = c.not_after,
                                          .not_after_limit = c.not_after});
    auto serial = pki::serial_bytes(c.serial);
    if (!der || !serial) continue;
    auto good = ocsp_.sign_entry(ca, *serial, pki::Good{});
    if (!good) continue;
    c.der = std::move(*der);
    c.ocsp = std::move(*good);
    ahead.certificates.emplace(kind, std::move(c));
  }
  const pki::Revoked revoked{from_unix(to_unix(now)), pki::RevocationReason::superseded};
  for (const auto* c : replaced) {
    auto ca = pki::parse_ca_kind(c->ca);
    auto serial = pki::serial_bytes(c->serial);
    if (!ca || !serial) continue;
    if (auto answer = ocsp_.sign_entry(*ca, *serial, revoked))
      ahead.revocations.emplace(c->serial, std::move(*answer));
  }
  return ahead;
}

Result<std::size_t> Service::issue_due_applications() {
  auto now = clock_.now();
  if (!config_.window.is_open(now)) return std::size_t{0};
  std::size_t done = 0;
  for (;;) {
    auto tx = begin();
    if (!tx) return fail(tx.error());
    auto due = (*tx)->applications_waiting(to_unix(now));
    if (!due) return fail(due.error());
    if (due->empty()) return done;
    // One application per transaction, in the order they were accepted: a
    // later device change supersedes an earlier one, as it would by day.
    Effects fx;
    auto app = due->front();
    // Under the holder's lock, the application as committed now: another
    // node sharing the store may have issued it meanwhile.
    SMACERT_TRY_STATUS((*tx)->lock_holder(app.holder_id));
    auto current = (*tx)->find_application(app.id);
    if (!current) return fail(current.error());
    if (!*current || (*current)->status != "waiting") continue;
    app = **current;
    if (auto st = issue_application_in(**tx, fx, app); !st) {
      // A card revoked since acceptance: the application is refused, not retried forever.
      tx->reset();
      auto tx2 = begin();
      if (!tx2) return fail(tx2.error());
      app.status = "rejected";
      app.updated_at = to_unix(now);
      SMACERT_TRY_STATUS((*tx2)->update_application(app));
      SMACERT_TRY_STATUS(audit_in(**tx2, "system", "application.reject", app.id,
                                  {{"reason", st.error().message}}));
      Effects rejected;
      SMACERT_TRY_STATUS(event_in(**tx2, rejected, app.device_id, "application_rejected",
                                  {{"application", app.id}, {"reason", st.error().message}}));
      SMACERT_TRY_STATUS(commit(*tx2, rejected));
      ++stats_.rejected;
      continue;
    }
    SMACERT_TRY_STATUS(commit(*tx, fx));
    ++done;
  }
}

Result<ApplicationView> Service::application(const std::string& id,
                                             const std::string& device_token) {
  auto tx = begin();
  if (!tx) return fail(tx.error());
  auto app = (*tx)->find_application(id);
  if (!app) return fail(app.error());
  if (!*app) return fail(Errc::not_found, "no application " + id);
  auto device = device_for(**tx, (*app)->device_id, device_token);
  if (!device) return fail(Errc::not_found, "no application " + id);
  ApplicationView view{**app, {}};
  auto certs = (*tx)->certificates_of_device((*app)->device_id);
  if (!certs) return fail(certs.error());
  for (const auto& c : *certs)
    if (c.application_id == id && !c.der.empty())
      view.certificates.push_back({c.kind, c.serial, c.der, from_unix(c.not_after)});
  return view;
}

Result<std::vector<store::EventRecord>> Service::events(const std::string& device_id,
                                                        const std::string& device_token,
                                                        std::int64_t after_seq, int limit) {
  auto tx = begin();
  if (!tx) return fail(tx.error());
  auto device = device_for(**tx, device_id, device_token);
  if (!device) return fail(device.error());
  return (*tx)->events_after(device_id, after_seq, limit);
}

Status Service::acknowledge_wipe(const std::string& device_id, const std::string& device_token,
                                 std::int64_t seq) {
  auto tx = begin();
  if (!tx) return fail(tx.error());
  auto device = device_for(**tx, device_id, device_token);
  if (!device) return fail(device.error());
  if (device->status == "wiped") return {};  // acknowledging twice is harmless
  if (device->status != "wipe_pending")
    return fail(Errc::conflict, "this device was not asked to erase its data");
  device->status = "wiped";
  SMACERT_TRY_STATUS((*tx)->update_device(*device));
  SMACERT_TRY_STATUS((*tx)->ack_events(device_id, seq, to_unix(clock_.now())));
  SMACERT_TRY_STATUS(
      audit_in(**tx, "phone:" + device_id, "device.wiped", device_id, {{"seq", seq}}));
  return (*tx)->commit();
}

}  // namespace smacert::service

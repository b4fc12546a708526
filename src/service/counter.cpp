// The municipal counter and the 24/7 hotline: a holder's card certificates,
// records changes, and suspension / resumption / revocation by serial.
#include "core/encoding.h"
#include "service/service.h"

namespace smacert::service {

Result<CardIssued> Service::issue_card(const CardIssueRequest& request) {
  auto now = clock_.now();
  // Step 1: the holder's facts, checked as the signature certificate will carry them.
  pki::HolderFacts facts{request.name,    "", request.birth_date, pki::jpki_sex_code(request.sex),
                         request.address, ""};
  if (request.sex != 1 && request.sex != 2 && request.sex != 9)
    return fail(Errc::invalid_argument, "sex must be 1 (male), 2 (female) or 9 (not known)");
  SMACERT_TRY_STATUS(pki::check_facts(facts));
  if (request.auth_csr.empty())
    return fail(Errc::invalid_argument, "the card's authentication key request is missing");
  auto adult = pki::is_at_least_15(request.birth_date, now);
  if (!adult) return fail(adult.error());
  if (!request.sign_csr.empty() && !*adult)
    return fail(Errc::policy, "signature certificates are not issued to people under 15");
  std::optional<pki::CertificateRequest> sign_csr;
  if (!request.sign_csr.empty()) {
    auto csr = pki::CertificateRequest::parse(request.sign_csr);
    if (!csr) return fail(csr.error().context("signature key request"));
    sign_csr.emplace(std::move(*csr));
  }
  auto auth_csr = pki::CertificateRequest::parse(request.auth_csr);
  if (!auth_csr) return fail(auth_csr.error().context("authentication key request"));
  // Step 2: card certificates run until the 5th birthday after issuance.
  auto expiry = pki::card_certificate_expiry(request.birth_date, now);
  if (!expiry) return fail(expiry.error());

  auto tx = begin();
  if (!tx) return fail(tx.error());
  Effects fx;
  CardIssued out;
  out.holder_id = new_id("h");
  out.card_id = new_id("card");
  store::HolderRecord holder{out.holder_id, request.name, request.address, request.birth_date,
                             request.sex,   to_unix(now), to_unix(now)};
  SMACERT_TRY_STATUS((*tx)->insert_holder(holder));
  SMACERT_TRY_STATUS((*tx)->insert_card({out.card_id, out.holder_id, "active", to_unix(now)}));
  SMACERT_TRY_STATUS(
      audit_in(**tx, "counter", "card.issue", out.card_id, {{"holder", out.holder_id}}));
  // Step 3: issue each certificate; a bad request fails the whole card.
  if (sign_csr) {
    auto c = issue_in(**tx, fx,
                      {pki::CertificateKind::card_sign, &*sign_csr, out.holder_id, out.card_id, "",
                       "", facts, *expiry, std::nullopt},
                      "counter");
    if (!c) return fail(c.error().context("signature certificate"));
    out.certificates.push_back(*c);
  }
  auto a = issue_in(**tx, fx,
                    {pki::CertificateKind::card_auth, &*auth_csr, out.holder_id, out.card_id, "",
                     "", std::nullopt, *expiry, std::nullopt},
                    "counter");
  if (!a) return fail(a.error().context("authentication certificate"));
  out.certificates.push_back(*a);
  SMACERT_TRY_STATUS(commit(*tx, fx));
  out.sign_ca = pki::to_der(authorities_.sign->certificate());
  out.auth_ca = pki::to_der(authorities_.auth->certificate());
  return out;
}

Status Service::change_records(const std::string& holder_id, const RecordsChange& change) {
  if (!change.name && !change.address)
    return fail(Errc::invalid_argument, "a records change needs a new name or a new address");
  auto tx = begin();
  if (!tx) return fail(tx.error());
  Effects fx;
  auto holder = (*tx)->find_holder(holder_id);
  if (!holder) return fail(holder.error());
  if (!*holder) return fail(Errc::not_found, "no holder " + holder_id);
  SMACERT_TRY_STATUS((*tx)->lock_holder(holder_id));  // before the audit entry (store.h)
  holder = (*tx)->find_holder(holder_id);             // as committed now
  if (!holder || !*holder) return fail(Errc::not_found, "no holder " + holder_id);
  store::HolderRecord h = **holder;
  if (change.name) h.name = *change.name;
  if (change.address) h.address = *change.address;
  pki::HolderFacts facts{h.name, "", h.birth_date, pki::jpki_sex_code(h.sex), h.address, ""};
  SMACERT_TRY_STATUS(pki::check_facts(facts));
  h.updated_at = to_unix(clock_.now());
  SMACERT_TRY_STATUS((*tx)->update_holder(h));
  SMACERT_TRY_STATUS(audit_in(**tx, "counter", "holder.records_change", holder_id,
                              {{"name_changed", change.name.has_value()},
                               {"address_changed", change.address.has_value()}}));
  // A signature certificate carries the facts: every one of the holder's, on
  // the card and on the phone, is revoked. Authentication certificates stay.
  auto certs = (*tx)->certificates_of_holder(holder_id);
  if (!certs) return fail(certs.error());
  for (const auto& c : *certs) {
    if ((c.kind == "card_sign" || c.kind == "phone_sign") &&
        (c.status == "active" || c.status == "suspended"))
      SMACERT_TRY_STATUS(set_status_in(**tx, fx, c, "revoked",
                                       pki::RevocationReason::affiliation_changed, "counter",
                                       "certificate.revoke"));
  }
  return commit(*tx, fx);
}

Result<store::CertificateRecord> Service::change_status(const std::string& serial,
                                                        StatusAction action,
                                                        pki::RevocationReason reason,
                                                        const std::string& actor) {
  auto tx = begin();
  if (!tx) return fail(tx.error());
  Effects fx;
  auto found = (*tx)->find_certificate(serial);
  if (!found) return fail(found.error());
  if (!*found || (*found)->der.empty()) return fail(Errc::not_found, "no certificate " + serial);
  const auto& cert = **found;
  switch (action) {
    case StatusAction::suspend:
      if (cert.status != "active")
        return fail(Errc::conflict,
                    "certificate " + serial + " is " + cert.status + ", not active");
      SMACERT_TRY_STATUS(set_status_in(**tx, fx, cert, "suspended",
                                       pki::RevocationReason::certificate_hold, actor,
                                       "certificate.suspend"));
      break;
    case StatusAction::resume:
      if (cert.status != "suspended")
        return fail(Errc::conflict,
                    "certificate " + serial + " is " + cert.status + ", not suspended");
      SMACERT_TRY_STATUS(set_status_in(**tx, fx, cert, "active", pki::RevocationReason::unspecified,
                                       actor, "certificate.resume"));
      break;
    case StatusAction::revoke:
      if (cert.status == "revoked")
        return fail(Errc::conflict, "certificate " + serial + " is already revoked");
      if (reason == pki::RevocationReason::certificate_hold ||
          reason == pki::RevocationReason::remove_from_crl)
        return fail(Errc::invalid_argument, "use suspend and resume for certificateHold");
      SMACERT_TRY_STATUS(
          set_status_in(**tx, fx, cert, "revoked", reason, actor, "certificate.revoke"));
      break;
  }
  SMACERT_TRY_STATUS(commit(*tx, fx));
  auto after = store_.begin();
  if (!after) return fail(after.error());
  auto updated = (*after)->find_certificate(serial);
  if (!updated || !*updated) return fail(Errc::internal, "certificate vanished after its update");
  return **updated;
}

Result<store::CertificateRecord> Service::certificate(const std::string& serial) {
  auto tx = begin();
  if (!tx) return fail(tx.error());
  auto c = (*tx)->find_certificate(serial);
  if (!c) return fail(c.error());
  if (!*c || (*c)->der.empty()) return fail(Errc::not_found, "no certificate " + serial);
  return **c;
}

Result<std::vector<store::CertificateRecord>> Service::holder_certificates(
    const std::string& holder_id) {
  auto tx = begin();
  if (!tx) return fail(tx.error());
  auto h = (*tx)->find_holder(holder_id);
  if (!h) return fail(h.error());
  if (!*h) return fail(Errc::not_found, "no holder " + holder_id);
  return (*tx)->certificates_of_holder(holder_id);
}

}  // namespace smacert::service

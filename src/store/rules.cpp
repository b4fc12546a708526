#include "store/rules.h"

#include <utility>

#include "store/store.h"

namespace smacert::store {

const std::string kGenesisHash(64, '0');

Status check_limit(int limit) {
  if (limit > 0) return {};
  return fail(Errc::invalid_argument, "the limit must be positive, not " + std::to_string(limit));
}

Result<ChallengeRecord> judge_challenge(std::optional<ChallengeRecord> found,
                                        const std::string& purpose, long long now) {
  if (!found) return fail(Errc::not_found, "unknown challenge");
  ChallengeRecord c = std::move(*found);
  if (c.used_at != 0) return fail(challenge_already_used());
  if (c.purpose != purpose) {
    return fail(Errc::invalid_argument,
                "the challenge was issued for " + c.purpose + ", not for " + purpose);
  }
  if (c.expires_at <= now) return fail(Errc::expired, "challenge expired");
  return c;
}

Error challenge_already_used() {
  return Error{Errc::conflict, "challenge already used"};
}

Result<AuditEntry> chain_audit(const AuditEntry& e, const std::optional<AuditTail>& last,
                               const std::string& doing) {
  AuditEntry out = e;
  out.seq = last ? last->seq + 1 : 1;
  out.prev_hash = last ? last->hash : kGenesisHash;
  out.hash = audit_hash(out);
  if (out.hash.empty()) return fail(Errc::crypto, doing + ": SHA-256 is unavailable");
  return out;
}

CertificateRecord reservation(const CertificateRecord& c) {
  CertificateRecord pending = c;
  pending.status = "pending";
  pending.der.clear();
  pending.ocsp_response.clear();
  pending.ocsp_next_update = 0;
  return pending;
}

Status check_issued(const CertificateRecord& c, const std::string& doing) {
  if (c.der.empty()) return fail(Errc::invalid_argument, doing + ": the DER is empty");
  return {};
}

Status explain_not_issued(const Result<std::optional<CertificateRecord>>& existing,
                          const std::string& doing) {
  if (!existing) return fail(existing.error().context(doing));
  if (!*existing) return fail(Errc::not_found, doing + ": the serial was not reserved");
  return fail(Errc::conflict, doing + ": the certificate has already been stored");
}

Status status_moved(const Result<std::optional<CertificateRecord>>& existing,
                    const std::string& from, const std::string& doing) {
  if (!existing) return fail(existing.error().context(doing));
  if (!*existing) return fail(Errc::not_found, doing + ": no such certificate");
  return fail(Errc::conflict, doing + ": it is " + (*existing)->status + " now, not " + from +
                                  " (it changed while this request ran; try again)");
}

}  // namespace smacert::store

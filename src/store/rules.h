// The store's rules that do not depend on the engine, shared by SqliteStore
// and PgStore so that both judge alike and say the same sentences: how a
// challenge is judged, how an audit entry joins the chain, when a limit or an
// issued certificate is refused. The SQL, and how each engine finds a row or
// a refused key, stay in the stores.
//
// Only src/store includes this header.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/error.h"
#include "store/records.h"

namespace smacert::store {

// The prev_hash of the first audit entry: 64 zeros.
extern const std::string kGenesisHash;

// Every `limit` of the Transaction interface must be > 0; Errc::invalid_argument otherwise.
Status check_limit(int limit);

// consume_challenge(), before the challenge is marked used: `found` is the row
// the nonce names (nullopt when none). The challenge, if it may be consumed
// for `purpose` at `now`: Errc::not_found when unknown, Errc::conflict when
// already used, Errc::invalid_argument for another purpose, Errc::expired at
// or after expires_at.
Result<ChallengeRecord> judge_challenge(std::optional<ChallengeRecord> found,
                                        const std::string& purpose, long long now);
// The sentence when marking finds the challenge used after all (another
// transaction consumed it in between).
Error challenge_already_used();

// The last entry of the audit log (its seq and hash), as append_audit() reads it.
struct AuditTail {
  std::int64_t seq = 0;
  std::string hash;
};
inline constexpr auto read_audit_tail = [](const auto& r) {
  return AuditTail{r.int64(0), r.text(1)};
};

// append_audit(): `e` as the entry after `last` (nullopt: the log is empty),
// with seq, prev_hash and hash filled in. Errc::crypto when SHA-256 is
// unavailable; `doing` is the context of that error.
Result<AuditEntry> chain_audit(const AuditEntry& e, const std::optional<AuditTail>& last,
                               const std::string& doing);

// The row reserve_serial() writes for `c`: "pending", with no DER and no
// OCSP response whatever `c` says (those exist once it is signed).
CertificateRecord reservation(const CertificateRecord& c);

// store_issued(), before any SQL: Errc::invalid_argument when the DER is empty.
Status check_issued(const CertificateRecord& c, const std::string& doing);
// store_issued() changed no row: why, from the certificate as stored
// (`existing`: nullopt when the serial was never reserved).
Status explain_not_issued(const Result<std::optional<CertificateRecord>>& existing,
                          const std::string& doing);

// set_certificate_status() changed no row: Errc::not_found when there is no
// such certificate, Errc::conflict when its status is no longer `from`.
Status status_moved(const Result<std::optional<CertificateRecord>>& existing,
                    const std::string& from, const std::string& doing);

}  // namespace smacert::store

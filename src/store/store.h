// The Store: the only part of smacert that speaks SQL (Boulder's storage
// authority pattern). Every read and write happens inside a Transaction;
// a Transaction that is destroyed without commit() rolls back.
//
// SQL is kept portable (no SQLite-only syntax in migrations beyond what
// PostgreSQL also takes); SqliteStore and PgStore implement the same interface
// and pass the same test suite (tests/store).
//
// Errors every call may return: Errc::unavailable when the database cannot be
// reached or the transaction lost a race (PostgreSQL's serialization failure
// or deadlock). Either way the transaction is spoilt: drop it and, if the
// caller wants, run the whole unit of work again in a new one (a bounded
// number of times); never retry a single statement inside the same one.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "store/records.h"

namespace smacert::store {

class Transaction {
 public:
  virtual ~Transaction() = default;  // rolls back unless committed
  virtual Status commit() = 0;

  // Holders and cards
  //
  // lock_holder() serialises every transaction that decides about one
  // holder's phones (device change, revocation, suspension): the one-phone
  // invariant is read and written under it. It must come before the
  // transaction's first audit entry, event or certificate change, so that
  // locks are always taken in the same order. SQLite: a no-op, BEGIN
  // IMMEDIATE already serialises all writers. PostgreSQL: SELECT … FOR UPDATE
  // on the holder's row, held until the transaction ends; reads after it see
  // everything committed before it (READ COMMITTED). Errc::not_found when the
  // holder does not exist (PostgreSQL only; SQLite does not look).
  virtual Status lock_holder(const std::string& id) = 0;
  virtual Status insert_holder(const HolderRecord& h) = 0;
  virtual Status update_holder(const HolderRecord& h) = 0;
  virtual Result<std::optional<HolderRecord>> find_holder(const std::string& id) = 0;
  virtual Status insert_card(const CardRecord& c) = 0;
  virtual Status set_card_status(const std::string& id, const std::string& status) = 0;
  virtual Result<std::optional<CardRecord>> find_card(const std::string& id) = 0;

  // Devices
  virtual Status insert_device(const DeviceRecord& d) = 0;
  virtual Status update_device(const DeviceRecord& d) = 0;
  virtual Result<std::optional<DeviceRecord>> find_device(const std::string& id) = 0;

  // Certificates. Persist before sign: reserve_serial() inserts a row with an
  // empty DER, so a serial can never be handed out twice; store_issued()
  // fills it in. Serial uniqueness is a constraint of the table.
  virtual Status reserve_serial(const CertificateRecord& c) = 0;  // Errc::conflict if taken
  virtual Status store_issued(const CertificateRecord& c) = 0;
  // A certificate signed before the transaction (signed ahead): its serial
  // was drawn but not reserved, so the whole row goes in at once.
  // Errc::conflict if the serial is taken; the certificate is then never used.
  virtual Status insert_issued(const CertificateRecord& c) = 0;
  // The status change and its new pre-signed OCSP response, together, made
  // only over the status the caller saw (`from`): Errc::conflict if the
  // certificate has another status now, Errc::not_found if there is none.
  virtual Status set_certificate_status(const std::string& serial, const std::string& from,
                                        const std::string& status, int reason, long long at,
                                        const Bytes& ocsp_response, long long ocsp_next_update) = 0;
  // Refresh of a pre-signed response whose status did not change.
  virtual Status set_ocsp_response(const std::string& serial, const Bytes& ocsp_response,
                                   long long ocsp_next_update) = 0;
  virtual Result<std::optional<CertificateRecord>> find_certificate(const std::string& serial) = 0;
  virtual Result<std::vector<CertificateRecord>> certificates_of_holder(
      const std::string& holder_id) = 0;
  virtual Result<std::vector<CertificateRecord>> certificates_of_device(
      const std::string& device_id) = 0;
  // For the CRL: every revoked or suspended certificate of one CA ("sign"/"auth"), by serial.
  virtual Result<std::vector<CertificateRecord>> revoked_certificates(const std::string& ca) = 0;
  // For the OCSP responder's bulk load of a store written before change
  // numbers: (serial, ca, status, response, next_update, …) of every
  // certificate of CA `ca` that has a response, in no particular order (one
  // pass over the table); der is not read (left empty).
  virtual Result<std::vector<CertificateRecord>> ocsp_responses(const std::string& ca) = 0;
  // Responses whose next_update is before `before`, soonest first, for the
  // refresher; der is not read. Every `limit` in this interface must be > 0.
  virtual Result<std::vector<CertificateRecord>> ocsp_responses_expiring(long long before,
                                                                         int limit) = 0;
  // Certificates whose row changed (issued, status, OCSP response) after
  // change `after`, in the order the changes were committed, each with its
  // current values and change_seq; der is not read. A node follows other
  // nodes' commits with it (service::StoreFollower): change numbers are
  // handed out under the writers' lock, so a change committed later always
  // has a higher number and a reader that remembers the last one it saw
  // misses nothing.
  virtual Result<std::vector<CertificateRecord>> certificate_changes(std::int64_t after,
                                                                     int limit) = 0;

  // Applications
  virtual Status insert_application(const ApplicationRecord& a) = 0;  // conflict on idempotency key
  virtual Status update_application(const ApplicationRecord& a) = 0;
  virtual Result<std::optional<ApplicationRecord>> find_application(const std::string& id) = 0;
  virtual Result<std::optional<ApplicationRecord>> find_application_by_idempotency_key(
      const std::string& key) = 0;
  // Status "waiting" and ready_at <= ready_before, earliest first; among
  // equals, in the order they were inserted.
  virtual Result<std::vector<ApplicationRecord>> applications_waiting(long long ready_before) = 0;

  // Challenges: single use. consume_challenge() marks it used and returns it
  // only if it exists, is unused, matches `purpose` and has not expired at `now`.
  virtual Status insert_challenge(const ChallengeRecord& c) = 0;
  virtual Result<ChallengeRecord> consume_challenge(const std::string& nonce,
                                                    const std::string& purpose, long long now) = 0;
  virtual Status delete_expired_challenges(long long now) = 0;

  // Event outbox (push channel)
  virtual Result<std::int64_t> enqueue_event(const EventRecord& e) = 0;  // returns seq
  virtual Result<std::vector<EventRecord>> events_after(const std::string& device_id,
                                                        std::int64_t after_seq, int limit) = 0;
  virtual Status ack_events(const std::string& device_id, std::int64_t up_to_seq, long long at) = 0;
  // Events of every device after `after_seq`, by seq (seqs are handed out in
  // commit order, like certificate change numbers).
  virtual Result<std::vector<EventRecord>> events_since(std::int64_t after_seq, int limit) = 0;

  // Audit log, hash-chained: append() computes prev_hash and hash itself.
  virtual Result<AuditEntry> append_audit(const AuditEntry& e) = 0;
  virtual Result<std::vector<AuditEntry>> audit_entries(std::int64_t after_seq, int limit) = 0;

  // CRL numbers: strictly increasing per CA (RFC 5280 5.2.3).
  virtual Result<std::int64_t> next_crl_number(const std::string& ca) = 0;
};

// Wakes a node when another process may have committed to the same database.
class ChangeFeed {
 public:
  virtual ~ChangeFeed() = default;
  // Waits up to `timeout`. true: something was (or may have been) committed
  // elsewhere, e.g. after a reconnect, when notifications could have been
  // lost; false: the time passed quietly. Errc::unavailable when the
  // database cannot be reached (the caller waits and calls again).
  virtual Result<bool> wait(std::chrono::milliseconds timeout) = 0;
};

class Store {
 public:
  virtual ~Store() = default;
  virtual Result<std::unique_ptr<Transaction>> begin() = 0;
  // A transaction that only reads: one consistent snapshot, taken without
  // waiting for (or holding back) the writers. Writing in it fails. For work
  // that prepares outside a write transaction what the write will check again.
  virtual Result<std::unique_ptr<Transaction>> begin_read() { return begin(); }
  virtual int schema_version() const = 0;
  // For a store several nodes share (PgStore): a feed of the others'
  // commits. nullptr for a store only this process writes (SqliteStore):
  // what the process commits it already knows.
  virtual Result<std::unique_ptr<ChangeFeed>> change_feed() { return nullptr; }
  // "sqlite" or "postgresql", for logs and tests.
  virtual std::string_view kind() const = 0;
};

// Opens the store a URL names: "sqlite:PATH" or a plain path for SqliteStore,
// "postgresql://…" or "postgres://…" (a libpq URI) for PgStore.
// Errc::invalid_argument for anything else, Errc::unavailable when the
// database cannot be reached.
Result<std::unique_ptr<Store>> open_store(const std::string& url);

// The audit hash of an entry: hex SHA-256 over prev_hash, seq, at, actor,
// action, subject and details, each length-prefixed. Shared by every Store
// implementation and by verify_audit_chain().
std::string audit_hash(const AuditEntry& e);

// Walks the whole log; Errc::verification names the first entry that breaks the chain.
Status verify_audit_chain(Store& store);

}  // namespace smacert::store

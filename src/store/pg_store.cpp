#include "store/pg_store.h"

#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "store/columns.h"
#include "store/migrations.h"
#include "store/pg.h"
#include "store/rules.h"

namespace smacert::store {

namespace {

using pg::Params;
using pg::Rows;

// pg_advisory_xact_lock(kLockClass, kOrderedWrites): the writers' lock for
// audit entries and counters (see pg_store.h). The class is "SMAC" in ASCII,
// the same one migrations.cpp uses with object 1.
constexpr std::string_view kOrderedWritesLock = "SELECT pg_advisory_xact_lock(1397571907, 2)";
constexpr std::string_view kChannel = "smacert_changes";

// begin()'s pauses between attempts to reach the server; the first retry is
// immediate because it usually only replaces stale idle connections.
constexpr std::chrono::milliseconds kBackoff[] = {
    std::chrono::milliseconds(0), std::chrono::milliseconds(100), std::chrono::milliseconds(300),
    std::chrono::milliseconds(600), std::chrono::milliseconds(1000)};

// The sentence for a violated PRIMARY KEY or UNIQUE constraint, as SqliteStore
// words it. PostgreSQL names a primary key constraint TABLE_pkey.
Error on_duplicate(const pg::Failure& f, std::string_view primary_key,
                   std::string_view unique = {}) {
  if (f.sqlstate == "23505") {
    const bool is_pkey =
        f.constraint.size() > 5 && f.constraint.compare(f.constraint.size() - 5, 5, "_pkey") == 0;
    if (is_pkey) return Error{Errc::conflict, std::string(primary_key)};
    if (!unique.empty()) return Error{Errc::conflict, std::string(unique)};
  }
  return f.error;
}

// Row `i` of a result, as the readers of store/columns.h read it.
struct PgRow {
  const Rows& rows;
  int i;
  std::string text(int column) const { return rows.text(i, column); }
  std::int64_t int64(int column) const { return rows.int64(i, column); }
  Bytes bytes(int column) const { return rows.bytes(i, column); }
};

template <class T, class Read>
std::vector<T> collect(const Rows& rows, Read read) {
  std::vector<T> out;
  out.reserve(static_cast<std::size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) out.push_back(read(PgRow{rows, i}));
  return out;
}

template <class T, class Read>
std::optional<T> first(const Rows& rows, Read read) {
  if (rows.empty()) return std::nullopt;
  return read(PgRow{rows, 0});
}

}  // namespace

class PgConnectionPool {
 public:
  explicit PgConnectionPool(std::string conninfo) : conninfo_(std::move(conninfo)) {
    idle_.reserve(kMaxIdle);
  }

  const std::string& conninfo() const { return conninfo_; }

  Result<std::unique_ptr<pg::Connection>> acquire() {
    {
      std::lock_guard lock(mutex_);
      while (!idle_.empty()) {
        auto conn = std::move(idle_.back());
        idle_.pop_back();
        if (conn->ok()) return conn;
      }
    }
    auto conn = pg::Connection::open(conninfo_);
    if (!conn) return fail(conn.error());
    return std::make_unique<pg::Connection>(std::move(*conn));
  }

  void release(std::unique_ptr<pg::Connection> conn) noexcept {
    if (!conn->ok() || conn->transaction_status() != PQTRANS_IDLE) return;  // closed
    std::lock_guard lock(mutex_);
    if (idle_.size() < kMaxIdle) idle_.push_back(std::move(conn));
  }

  // After one connection was found broken, the others (opened to the same
  // server) most likely are too: a restart or failover ends them all.
  void drop_idle() noexcept {
    std::vector<std::unique_ptr<pg::Connection>> gone;
    std::lock_guard lock(mutex_);
    gone.swap(idle_);
    idle_.reserve(kMaxIdle);
  }

 private:
  static constexpr std::size_t kMaxIdle = 8;
  std::string conninfo_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<pg::Connection>> idle_;
};

namespace {

class PgTransaction final : public Transaction {
 public:
  PgTransaction(std::shared_ptr<PgConnectionPool> pool, std::unique_ptr<pg::Connection> conn)
      : pool_(std::move(pool)), conn_(std::move(conn)) {}

  ~PgTransaction() override { finish(); }

  Status commit() override {
    if (!conn_) return fail(Errc::internal, "committing: the transaction has already ended");
    // PostgreSQL answers COMMIT of a failed transaction with a ROLLBACK and
    // no error; say so instead of pretending it committed.
    if (conn_->transaction_status() != PQTRANS_INTRANS) {
      finish();
      return fail(Errc::internal,
                  "committing: PostgreSQL rolled the transaction back after an earlier error");
    }
    auto done = conn_->script("COMMIT");
    finish();
    if (!done) return fail(done.error().error.context("committing"));
    return {};
  }

  // Holders and cards

  Status lock_holder(const std::string& id) override {
    const std::string doing = "locking holder " + id;
    auto rows = query("SELECT id FROM holders WHERE id = $1 FOR UPDATE", Params().text(id), doing);
    if (!rows) return fail(rows.error());
    if (rows->empty()) return fail(Errc::not_found, doing + ": no such holder");
    return {};
  }

  Status insert_holder(const HolderRecord& h) override {
    return insert(
        "INSERT INTO holders (id, name, address, birth_date, sex, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        holder_params(h).int64(h.created_at).int64(h.updated_at), "inserting holder " + h.id,
        "holder already exists");
  }

  Status update_holder(const HolderRecord& h) override {
    return changed_one(
        "UPDATE holders SET name = $2, address = $3, birth_date = $4, sex = $5, updated_at = $6"
        " WHERE id = $1",
        holder_params(h).int64(h.updated_at), "updating holder " + h.id, "no such holder");
  }

  Result<std::optional<HolderRecord>> find_holder(const std::string& id) override {
    static const std::string sql =
        "SELECT " + std::string(kHolderColumns) + " FROM holders WHERE id = $1";
    return find_one<HolderRecord>(sql, id, read_holder, "reading holder " + id);
  }

  Status insert_card(const CardRecord& c) override {
    return insert("INSERT INTO cards (id, holder_id, status, created_at) VALUES ($1, $2, $3, $4)",
                  Params().text(c.id).text_or_null(c.holder_id).text(c.status).int64(c.created_at),
                  "inserting card " + c.id, "card already exists");
  }

  Status set_card_status(const std::string& id, const std::string& status) override {
    return changed_one("UPDATE cards SET status = $2 WHERE id = $1", Params().text(id).text(status),
                       "setting the status of card " + id, "no such card");
  }

  Result<std::optional<CardRecord>> find_card(const std::string& id) override {
    static const std::string sql =
        "SELECT " + std::string(kCardColumns) + " FROM cards WHERE id = $1";
    return find_one<CardRecord>(sql, id, read_card, "reading card " + id);
  }

  // Devices

  Status insert_device(const DeviceRecord& d) override {
    return insert(
        "INSERT INTO devices (id, holder_id, platform, model, status, token_hash, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        device_params(d).int64(d.created_at), "inserting device " + d.id, "device already exists");
  }

  Status update_device(const DeviceRecord& d) override {
    return changed_one(
        "UPDATE devices SET holder_id = $2, platform = $3, model = $4, status = $5,"
        " token_hash = $6 WHERE id = $1",
        device_params(d), "updating device " + d.id, "no such device");
  }

  Result<std::optional<DeviceRecord>> find_device(const std::string& id) override {
    static const std::string sql =
        "SELECT " + std::string(kDeviceColumns) + " FROM devices WHERE id = $1";
    return find_one<DeviceRecord>(sql, id, read_device, "reading device " + id);
  }

  // Certificates

  // The row starts "pending" with no DER and no OCSP response whatever the
  // record says, as in SqliteStore.
  Status reserve_serial(const CertificateRecord& c) override {
    return insert_certificate(reservation(c), 0, "inserting certificate " + c.serial);
  }

  Status store_issued(const CertificateRecord& c) override {
    const std::string doing = "storing issued certificate " + c.serial;
    SMACERT_TRY_STATUS(check_issued(c, doing));
    auto change = certificate_change();
    if (!change) return fail(change.error().context(doing));
    auto done = write(
        "UPDATE certificates SET der = $2, not_before = $3, not_after = $4, issued_at = $5,"
        " ocsp_response = $6, ocsp_next_update = $7, status = $8, change_seq = $9"
        " WHERE serial = $1 AND length(der) = 0",
        Params()
            .text(c.serial)
            .bytes(c.der)
            .int64(c.not_before)
            .int64(c.not_after)
            .int64(c.issued_at)
            .bytes(c.ocsp_response)
            .int64(c.ocsp_next_update)
            .text(c.status)
            .int64(*change));
    if (!done) return fail(done.error().error.context(doing));
    if (done->affected() == 1) return {};
    // Nothing changed: either never reserved, or signed once already.
    return explain_not_issued(find_certificate(c.serial), doing);
  }

  Status insert_issued(const CertificateRecord& c) override {
    const std::string doing = "inserting issued certificate " + c.serial;
    SMACERT_TRY_STATUS(check_issued(c, doing));
    auto change = certificate_change();
    if (!change) return fail(change.error().context(doing));
    return insert_certificate(c, *change, doing);
  }

  Status set_certificate_status(const std::string& serial, const std::string& from,
                                const std::string& status, int reason, long long at,
                                const Bytes& ocsp_response, long long ocsp_next_update) override {
    const std::string doing = "setting the status of certificate " + serial;
    auto change = certificate_change();
    if (!change) return fail(change.error().context(doing));
    auto done = write(
        "UPDATE certificates SET status = $2, revocation_reason = $3, revoked_at = $4,"
        " ocsp_response = $5, ocsp_next_update = $6, change_seq = $7"
        " WHERE serial = $1 AND status = $8",
        Params()
            .text(serial)
            .text(status)
            .int64(reason)
            .int64(at)
            .bytes(ocsp_response)
            .int64(ocsp_next_update)
            .int64(*change)
            .text(from));
    if (!done) return fail(done.error().error.context(doing));
    if (done->affected() == 1) return {};
    return status_moved(find_certificate(serial), from, doing);
  }

  Status set_ocsp_response(const std::string& serial, const Bytes& ocsp_response,
                           long long ocsp_next_update) override {
    const std::string doing = "storing the OCSP response of certificate " + serial;
    auto change = certificate_change();
    if (!change) return fail(change.error().context(doing));
    return changed_one(
        "UPDATE certificates SET ocsp_response = $2, ocsp_next_update = $3, change_seq = $4"
        " WHERE serial = $1",
        Params().text(serial).bytes(ocsp_response).int64(ocsp_next_update).int64(*change), doing,
        "no such certificate");
  }

  Result<std::optional<CertificateRecord>> find_certificate(const std::string& serial) override {
    static const std::string sql = select_certificates("WHERE serial = $1", true);
    return find_one<CertificateRecord>(sql, serial, read_full_certificate,
                                       "reading certificate " + serial);
  }

  Result<std::vector<CertificateRecord>> certificates_of_holder(
      const std::string& holder_id) override {
    static const std::string sql =
        select_certificates("WHERE holder_id = $1 ORDER BY issued_at, serial", true);
    return find_all<CertificateRecord>(sql, Params().text(holder_id), read_full_certificate,
                                       "reading the certificates of holder " + holder_id);
  }

  Result<std::vector<CertificateRecord>> certificates_of_device(
      const std::string& device_id) override {
    static const std::string sql =
        select_certificates("WHERE device_id = $1 ORDER BY issued_at, serial", true);
    return find_all<CertificateRecord>(sql, Params().text(device_id), read_full_certificate,
                                       "reading the certificates of device " + device_id);
  }

  // The condition on status is the partial index's own (migration 6).
  Result<std::vector<CertificateRecord>> revoked_certificates(const std::string& ca) override {
    static const std::string sql = select_certificates(
        "WHERE ca = $1 AND status IN ('revoked', 'suspended') ORDER BY serial", true);
    return find_all<CertificateRecord>(sql, Params().text(ca), read_full_certificate,
                                       "reading the revoked certificates of CA " + ca);
  }

  Result<std::vector<CertificateRecord>> ocsp_responses(const std::string& ca) override {
    static const std::string sql =
        select_certificates("WHERE ca = $1 AND length(ocsp_response) > 0", false);
    return find_all<CertificateRecord>(sql, Params().text(ca), read_light_certificate,
                                       "reading the OCSP responses of CA " + ca);
  }

  Result<std::vector<CertificateRecord>> ocsp_responses_expiring(long long before,
                                                                 int limit) override {
    const std::string doing = "reading the OCSP responses to refresh";
    if (auto ok = check_limit(limit); !ok) return fail(ok.error().context(doing));
    static const std::string sql = select_certificates(
        "WHERE ocsp_next_update < $1 AND length(ocsp_response) > 0"
        " ORDER BY ocsp_next_update, serial LIMIT $2",
        false);
    return find_all<CertificateRecord>(sql, Params().int64(before).int64(limit),
                                       read_light_certificate, doing);
  }

  Result<std::vector<CertificateRecord>> certificate_changes(std::int64_t after,
                                                             int limit) override {
    const std::string doing = "reading certificate changes";
    if (auto ok = check_limit(limit); !ok) return fail(ok.error().context(doing));
    static const std::string sql =
        select_certificates("WHERE change_seq > $1 ORDER BY change_seq LIMIT $2", false);
    return find_all<CertificateRecord>(sql, Params().int64(after).int64(limit),
                                       read_light_certificate, doing);
  }

  // Applications

  Status insert_application(const ApplicationRecord& a) override {
    const std::string doing = "inserting application " + a.id;
    auto seq = next_counter("application");
    if (!seq) return fail(seq.error().context(doing));
    return insert(
        "INSERT INTO applications (id, kind, holder_id, device_id, status, idempotency_key,"
        " request_hash, payload, created_at, ready_at, updated_at, accepted_seq)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        application_params(a).int64(a.created_at).int64(a.ready_at).int64(a.updated_at).int64(*seq),
        doing, "application already exists", "the idempotency key belongs to another application");
  }

  Status update_application(const ApplicationRecord& a) override {
    const std::string doing = "updating application " + a.id;
    auto done = write(
        "UPDATE applications SET kind = $2, holder_id = $3, device_id = $4, status = $5,"
        " idempotency_key = $6, request_hash = $7, payload = $8, ready_at = $9,"
        " updated_at = $10 WHERE id = $1",
        application_params(a).int64(a.ready_at).int64(a.updated_at));
    if (!done) {
      return fail(on_duplicate(done.error(), "application already exists",
                               "the idempotency key belongs to another application")
                      .context(doing));
    }
    if (done->affected() == 0) return fail(Errc::not_found, doing + ": no such application");
    return {};
  }

  Result<std::optional<ApplicationRecord>> find_application(const std::string& id) override {
    static const std::string sql = select_applications("WHERE id = $1");
    return find_one<ApplicationRecord>(sql, id, read_application, "reading application " + id);
  }

  Result<std::optional<ApplicationRecord>> find_application_by_idempotency_key(
      const std::string& key) override {
    if (key.empty()) return std::optional<ApplicationRecord>();
    static const std::string sql = select_applications("WHERE idempotency_key = $1");
    return find_one<ApplicationRecord>(sql, key, read_application,
                                       "reading the application with an idempotency key");
  }

  Result<std::vector<ApplicationRecord>> applications_waiting(long long ready_before) override {
    static const std::string sql = select_applications(
        "WHERE status = 'waiting' AND ready_at <= $1 ORDER BY ready_at, accepted_seq");
    return find_all<ApplicationRecord>(sql, Params().int64(ready_before), read_application,
                                       "reading the waiting applications");
  }

  // Challenges

  Status insert_challenge(const ChallengeRecord& c) override {
    return insert(
        "INSERT INTO challenges (nonce, purpose, subject, expires_at, used_at)"
        " VALUES ($1, $2, $3, $4, $5)",
        Params().text(c.nonce).text(c.purpose).text(c.subject).int64(c.expires_at).int64(c.used_at),
        "inserting a challenge", "nonce already exists");
  }

  // Read, judge, then mark with a conditional UPDATE: under READ COMMITTED
  // the UPDATE waits for a concurrent consumer and then re-checks
  // used_at = 0 on the row it committed, so only one of two wins.
  // Marked in one statement when it may be used; otherwise read again to
  // say why not (judge_challenge).
  Result<ChallengeRecord> consume_challenge(const std::string& nonce, const std::string& purpose,
                                            long long now) override {
    const std::string doing = "consuming a challenge";
    static const std::string mark =
        "UPDATE challenges SET used_at = $2 WHERE nonce = $1"
        " AND purpose = $3 AND used_at = 0 AND expires_at > $2"
        " RETURNING " +
        std::string(kChallengeColumns);
    auto marked = query(mark, Params().text(nonce).int64(now).text(purpose), doing);
    if (!marked) return fail(marked.error());
    if (auto c = first<ChallengeRecord>(*marked, read_challenge)) return std::move(*c);
    static const std::string sql =
        "SELECT " + std::string(kChallengeColumns) + " FROM challenges WHERE nonce = $1";
    auto found = find_one<ChallengeRecord>(sql, nonce, read_challenge, doing);
    if (!found) return fail(found.error());
    auto judged = judge_challenge(std::move(*found), purpose, now);
    if (!judged) return fail(judged.error());
    return fail(Errc::internal, doing + ": it could be used but was not marked");
  }

  Status delete_expired_challenges(long long now) override {
    auto done = write("DELETE FROM challenges WHERE expires_at <= $1", Params().int64(now));
    if (!done) return fail(done.error().error.context("deleting expired challenges"));
    return {};
  }

  // Event outbox

  Result<std::int64_t> enqueue_event(const EventRecord& e) override {
    const std::string doing = "enqueueing a " + e.type + " event for device " + e.device_id;
    auto seq = next_counter("event");
    if (!seq) return fail(seq.error().context(doing));
    auto done = write(
        "INSERT INTO events (seq, device_id, type, payload, created_at, acked_at)"
        " VALUES ($1, $2, $3, $4, $5, 0)",
        Params().int64(*seq).text(e.device_id).text(e.type).text(e.payload).int64(e.created_at));
    if (!done) return fail(done.error().error.context(doing));
    if (auto told = notify(); !told) return fail(told.error().context(doing));
    return *seq;
  }

  Result<std::vector<EventRecord>> events_after(const std::string& device_id,
                                                std::int64_t after_seq, int limit) override {
    const std::string doing = "reading the events of device " + device_id;
    if (auto ok = check_limit(limit); !ok) return fail(ok.error().context(doing));
    static const std::string sql = "SELECT " + std::string(kEventColumns) +
                                   " FROM events WHERE device_id = $1 AND seq > $2"
                                   " ORDER BY seq LIMIT $3";
    return find_all<EventRecord>(sql, Params().text(device_id).int64(after_seq).int64(limit),
                                 read_event, doing);
  }

  Status ack_events(const std::string& device_id, std::int64_t up_to_seq, long long at) override {
    auto done =
        write("UPDATE events SET acked_at = $3 WHERE device_id = $1 AND seq <= $2 AND acked_at = 0",
              Params().text(device_id).int64(up_to_seq).int64(at));
    if (!done)
      return fail(done.error().error.context("acknowledging the events of device " + device_id));
    return {};
  }

  Result<std::vector<EventRecord>> events_since(std::int64_t after_seq, int limit) override {
    const std::string doing = "reading the events of every device";
    if (auto ok = check_limit(limit); !ok) return fail(ok.error().context(doing));
    static const std::string sql = "SELECT " + std::string(kEventColumns) +
                                   " FROM events WHERE seq > $1 ORDER BY seq LIMIT $2";
    return find_all<EventRecord>(sql, Params().int64(after_seq).int64(limit), read_event, doing);
  }

  // Audit log: the advisory lock first, then the last entry as committed by
  // whoever held the lock before (READ COMMITTED: this statement's snapshot
  // is taken after the lock was granted), so two nodes never chain two
  // entries to the same predecessor.
  Result<AuditEntry> append_audit(const AuditEntry& e) override {
    const std::string doing = "appending audit entry " + e.action;
    if (auto locked = ordered(); !locked) return fail(locked.error().context(doing));
    if (!audit_tail_) {
      auto last =
          query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", Params(), doing);
      if (!last) return fail(last.error());
      audit_tail_ = first<AuditTail>(*last, read_audit_tail);
    }
    auto chained = chain_audit(e, *audit_tail_, doing);
    if (!chained) return fail(chained.error());
    const AuditEntry& out = *chained;
    auto done = write(
        "INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        Params()
            .int64(out.seq)
            .int64(out.at)
            .text(out.actor)
            .text(out.action)
            .text(out.subject)
            .text(out.details)
            .text(out.prev_hash)
            .text(out.hash));
    if (!done) return fail(done.error().error.context(doing));
    audit_tail_ = std::optional<AuditTail>(AuditTail{out.seq, out.hash});
    return out;
  }

  Result<std::vector<AuditEntry>> audit_entries(std::int64_t after_seq, int limit) override {
    const std::string doing = "reading audit entries";
    if (auto ok = check_limit(limit); !ok) return fail(ok.error().context(doing));
    static const std::string sql = "SELECT " + std::string(kAuditColumns) +
                                   " FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2";
    return find_all<AuditEntry>(sql, Params().int64(after_seq).int64(limit), read_audit, doing);
  }

  Result<std::int64_t> next_crl_number(const std::string& ca) override {
    auto n = next_counter("crl:" + ca);
    if (!n) return fail(n.error().context("drawing the next CRL number of CA " + ca));
    return n;
  }

 private:
  // A statement that cannot violate a constraint. A failure here aborts the
  // transaction (PostgreSQL refuses every later statement until ROLLBACK).
  Result<Rows> query(std::string_view sql, const Params& params, const std::string& doing) {
    if (!conn_) return fail(Errc::internal, doing + ": the transaction has already ended");
    auto rows = conn_->run(sql, params);
    if (!rows) return fail(rows.error().error.context(doing));
    return std::move(*rows);
  }

  // A statement that may be refused (a duplicate key, a CHECK): inside a
  // savepoint, so that the refusal undoes only this statement and the
  // transaction goes on, as it does in SQLite.
  tl::expected<Rows, pg::Failure> write(std::string_view sql, const Params& params) {
    if (!conn_)
      return tl::unexpected(
          pg::Failure{{Errc::internal, "the transaction has already ended"}, "", ""});
    if (auto sp = conn_->script("SAVEPOINT smacert_write"); !sp) return tl::unexpected(sp.error());
    auto rows = conn_->run(sql, params);
    if (!rows) {
      (void)conn_->script("ROLLBACK TO SAVEPOINT smacert_write; RELEASE SAVEPOINT smacert_write");
      return rows;
    }
    if (auto rel = conn_->script("RELEASE SAVEPOINT smacert_write"); !rel)
      return tl::unexpected(rel.error());
    return rows;
  }

  // One certificate row as `c` says (revocation fields cleared); a taken
  // serial is Errc::conflict.
  Status insert_certificate(const CertificateRecord& c, std::int64_t change_seq,
                            const std::string& doing) {
    return insert(
        "INSERT INTO certificates (serial, ca, kind, holder_id, card_id, device_id,"
        " application_id, status, revocation_reason, revoked_at, not_before, not_after,"
        " issued_at, der, ocsp_response, ocsp_next_update, change_seq)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, -1, 0, $9, $10, $11, $12, $13, $14, $15)",
        Params()
            .text(c.serial)
            .text(c.ca)
            .text(c.kind)
            .text_or_null(c.holder_id)
            .text_or_null(c.card_id)
            .text_or_null(c.device_id)
            .text_or_null(c.application_id)
            .text(c.status)
            .int64(c.not_before)
            .int64(c.not_after)
            .int64(c.issued_at)
            .bytes(c.der)
            .bytes(c.ocsp_response)
            .int64(c.ocsp_next_update)
            .int64(change_seq),
        doing, "serial already exists");
  }

  // An INSERT: a taken primary key is Errc::conflict with the sentence
  // `taken`, another UNIQUE key with `taken_unique` (when given).
  Status insert(std::string_view sql, const Params& params, const std::string& doing,
                std::string_view taken, std::string_view taken_unique = {}) {
    auto done = write(sql, params);
    if (!done) return fail(on_duplicate(done.error(), taken, taken_unique).context(doing));
    return {};
  }

  // UPDATE of one row by key: Errc::not_found when the key matches nothing.
  Status changed_one(std::string_view sql, const Params& params, const std::string& doing,
                     std::string_view missing) {
    auto done = write(sql, params);
    if (!done) return fail(done.error().error.context(doing));
    if (done->affected() == 0) return fail(Errc::not_found, doing + ": " + std::string(missing));
    return {};
  }

  template <class T, class Read>
  Result<std::optional<T>> find_one(std::string_view sql, const std::string& key, Read read,
                                    const std::string& doing) {
    auto rows = query(sql, Params().text(key), doing);
    if (!rows) return fail(rows.error());
    return first<T>(*rows, read);
  }

  template <class T, class Read>
  Result<std::vector<T>> find_all(std::string_view sql, const Params& params, Read read,
                                  const std::string& doing) {
    auto rows = query(sql, params, doing);
    if (!rows) return fail(rows.error());
    return collect<T>(*rows, read);
  }

  // The parameters an INSERT and an UPDATE share, from $1 on; each adds the rest.
  static Params holder_params(const HolderRecord& h) {
    Params p;
    p.text(h.id).text(h.name).text(h.address).text(h.birth_date).int64(h.sex);
    return p;
  }

  static Params device_params(const DeviceRecord& d) {
    Params p;
    p.text(d.id)
        .text_or_null(d.holder_id)
        .text(d.platform)
        .text(d.model)
        .text(d.status)
        .text(d.token_hash);
    return p;
  }

  static Params application_params(const ApplicationRecord& a) {
    Params p;
    p.text(a.id)
        .text(a.kind)
        .text_or_null(a.holder_id)
        .text_or_null(a.device_id)
        .text(a.status)
        .text_or_null(a.idempotency_key)
        .text(a.request_hash)
        .text(a.payload);
    return p;
  }

  // The writers' lock (pg_store.h), once per transaction.
  Status ordered() {
    if (ordered_) return {};
    auto locked = query(kOrderedWritesLock, Params(), "waiting for the writers' lock");
    if (!locked) return fail(locked.error());
    ordered_ = true;
    return {};
  }

  // One notification per transaction, delivered by PostgreSQL at COMMIT (and
  // dropped with a rollback); listeners re-read the store, so it carries
  // nothing.
  Status notify() {
    if (notified_) return {};
    auto told = query("SELECT pg_notify($1, '')", Params().text(kChannel), "notifying other nodes");
    if (!told) return fail(told.error());
    notified_ = true;
    return {};
  }

  Result<std::int64_t> certificate_change() {
    auto n = next_counter("certificate_change");
    if (!n) return fail(n.error());
    if (auto told = notify(); !told) return fail(told.error());
    return n;
  }

  // The same upsert as SqliteStore's counters, under the writers' lock so
  // that numbers follow commit order.
  Result<std::int64_t> next_counter(const std::string& name) {
    SMACERT_TRY_STATUS(ordered());
    auto rows = query(
        "INSERT INTO counters (name, value) VALUES ($1, 1)"
        " ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value",
        Params().text(name), "drawing the next number of counter " + name);
    if (!rows) return fail(rows.error());
    if (rows->empty()) return fail(Errc::internal, "the counter " + name + " returned no value");
    return rows->int64(0, 0);
  }

  // Rolls back unless committed and gives the connection back; a connection
  // that is broken or whose rollback failed is closed instead.
  void finish() noexcept {
    if (!conn_) return;
    const auto status = conn_->transaction_status();
    if (status == PQTRANS_INTRANS || status == PQTRANS_INERROR) (void)conn_->script("ROLLBACK");
    pool_->release(std::move(conn_));
    conn_.reset();
  }

  std::shared_ptr<PgConnectionPool> pool_;
  std::unique_ptr<pg::Connection> conn_;
  // The audit log's last entry once this transaction has read or written it:
  // ordered() holds the lock that keeps other writers from appending
  // (nullopt inside: the log is empty).
  std::optional<std::optional<AuditTail>> audit_tail_;
  bool ordered_ = false;
  bool notified_ = false;
};

// LISTEN on a connection of its own (a pooled one would be handed to a
// transaction). A broken connection is replaced on the next wait(), which
// then reports a change: notifications sent while it was down are lost.
class PgChangeFeed final : public ChangeFeed {
 public:
  explicit PgChangeFeed(std::string conninfo) : conninfo_(std::move(conninfo)) {}

  Result<bool> wait(std::chrono::milliseconds timeout) override {
    if (!conn_ || !conn_->ok()) {
      conn_.reset();
      auto conn = pg::Connection::open(conninfo_);
      if (!conn) {
        std::this_thread::sleep_for(timeout);
        return fail(conn.error().context("listening for other nodes' changes"));
      }
      if (auto listening = conn->script("LISTEN " + std::string(kChannel)); !listening) {
        std::this_thread::sleep_for(timeout);
        return fail(listening.error().error.context("listening for other nodes' changes"));
      }
      conn_ = std::make_unique<pg::Connection>(std::move(*conn));
      return true;
    }
    auto got = conn_->notifications(timeout);
    if (!got) {
      conn_.reset();
      return fail(got.error().context("listening for other nodes' changes"));
    }
    return !got->empty();
  }

 private:
  std::string conninfo_;
  std::unique_ptr<pg::Connection> conn_;
};

}  // namespace

PgStore::PgStore(std::shared_ptr<PgConnectionPool> pool, int schema_version)
    : pool_(std::move(pool)), schema_version_(schema_version) {}

PgStore::~PgStore() = default;

Result<std::unique_ptr<PgStore>> PgStore::open(const std::string& conninfo) {
  auto conn = pg::Connection::open(conninfo);
  if (!conn) return fail(conn.error().context("opening the PostgreSQL store"));
  auto version = migrate(*conn, schema_migrations());
  if (!version)
    return fail(version.error().context("opening the PostgreSQL store (" +
                                        pg::redact_conninfo(conninfo) + ")"));
  auto pool = std::make_shared<PgConnectionPool>(conninfo);
  pool->release(std::make_unique<pg::Connection>(std::move(*conn)));
  return std::unique_ptr<PgStore>(new PgStore(std::move(pool), *version));
}

Result<std::unique_ptr<Transaction>> PgStore::begin() {
  return start("BEGIN ISOLATION LEVEL READ COMMITTED");
}

Result<std::unique_ptr<Transaction>> PgStore::begin_read() {
  return start("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
}

Result<std::unique_ptr<Transaction>> PgStore::start(const char* begin_sql) {
  Error last{Errc::unavailable, ""};
  for (auto pause : kBackoff) {
    std::this_thread::sleep_for(pause);
    auto conn = pool_->acquire();
    if (!conn) {
      last = conn.error();
      continue;
    }
    auto began = (*conn)->script(begin_sql);
    if (began) {
      return std::unique_ptr<Transaction>(std::make_unique<PgTransaction>(pool_, std::move(*conn)));
    }
    if (!pg::is_connection_loss(began.error().sqlstate) || (*conn)->ok())
      return fail(began.error().error.context("beginning a transaction"));
    // The server went away under an idle connection (restart, failover).
    pool_->drop_idle();
    last = began.error().error;
  }
  return fail(Errc::unavailable, "beginning a transaction: PostgreSQL is unreachable after " +
                                     std::to_string(std::size(kBackoff)) +
                                     " attempts: " + last.message);
}

Result<std::unique_ptr<ChangeFeed>> PgStore::change_feed() {
  return std::unique_ptr<ChangeFeed>(std::make_unique<PgChangeFeed>(pool_->conninfo()));
}

}  // namespace smacert::store

#include "store/migrations.h"

#include <array>
#include <string>

#include "store/pg.h"

namespace smacert::store {
namespace {

// Portability notes for the scripts (SQLite 3.40 and PostgreSQL 15 take them
// as written, after render_sql):
// - BIGINT for every integer: SQLite gives it INTEGER affinity, PostgreSQL
//   needs 64 bits for Unix seconds and sequence numbers.
// - Every PRIMARY KEY says NOT NULL: SQLite, unlike PostgreSQL, otherwise
//   accepts NULL in a non-INTEGER primary key
//   (https://www.sqlite.org/lang_createtable.html#the_primary_key).
// - No AUTOINCREMENT and no rowid aliases. Event seqs and CRL numbers come
//   from the counters table (an upsert with RETURNING inside the writer's
//   transaction), which never hands a number out twice even if the newest
//   events are pruned; MAX(seq)+1 would reuse a pruned seq and a device that
//   had acknowledged it would skip the new event. Audit seqs are MAX(seq)+1:
//   the log is never pruned, the chain needs the previous row anyway and
//   must stay contiguous, and writers are serialised by BEGIN IMMEDIATE.
// - Optional references and the idempotency key are NULL when absent: both
//   databases skip NULL in foreign keys and treat NULLs as distinct in UNIQUE
//   indexes, so no partial index is needed.
// - Each child column of a foreign key has an index, so a check against the
//   parent does not scan (https://www.sqlite.org/foreignkeys.html#fk_indexes),
//   except where the parent is never deleted nor re-keyed and nothing looks
//   rows up by that column (migration 3).
constexpr std::string_view kInitialSchema = R"sql(
CREATE TABLE holders (
  id TEXT NOT NULL PRIMARY KEY,
  name TEXT NOT NULL,
  address TEXT NOT NULL,
  birth_date TEXT NOT NULL,
  sex BIGINT NOT NULL CHECK (sex IN (0, 1, 2, 9)),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE cards (
  id TEXT NOT NULL PRIMARY KEY,
  holder_id TEXT NOT NULL REFERENCES holders (id),
  status TEXT NOT NULL CHECK (status IN ('active', 'lost', 'retired')),
  created_at BIGINT NOT NULL
);
CREATE INDEX cards_by_holder ON cards (holder_id);

CREATE TABLE devices (
  id TEXT NOT NULL PRIMARY KEY,
  holder_id TEXT REFERENCES holders (id),
  platform TEXT NOT NULL,
  model TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'wipe_pending', 'wiped')),
  created_at BIGINT NOT NULL,
  token_hash TEXT NOT NULL DEFAULT ''
);
CREATE INDEX devices_by_holder ON devices (holder_id);

CREATE TABLE applications (
  id TEXT NOT NULL PRIMARY KEY,
  kind TEXT NOT NULL,
  holder_id TEXT REFERENCES holders (id),
  device_id TEXT REFERENCES devices (id),
  status TEXT NOT NULL CHECK (status IN ('waiting', 'issued', 'registered', 'rejected')),
  idempotency_key TEXT UNIQUE,
  request_hash TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  ready_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  -- Order of acceptance: waiting applications are issued in it, so a later
  -- device change supersedes an earlier one even within the same second.
  accepted_seq BIGINT NOT NULL UNIQUE
);
CREATE INDEX applications_by_status_ready_at ON applications (status, ready_at, accepted_seq);
CREATE INDEX applications_by_holder ON applications (holder_id);
CREATE INDEX applications_by_device ON applications (device_id);

CREATE TABLE certificates (
  serial TEXT NOT NULL PRIMARY KEY,
  ca TEXT NOT NULL CHECK (ca IN ('sign', 'auth')),
  kind TEXT NOT NULL,
  holder_id TEXT REFERENCES holders (id),
  card_id TEXT REFERENCES cards (id),
  device_id TEXT REFERENCES devices (id),
  application_id TEXT REFERENCES applications (id),
  status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'suspended', 'revoked')),
  revocation_reason BIGINT NOT NULL CHECK (revocation_reason BETWEEN -1 AND 10),
  revoked_at BIGINT NOT NULL,
  not_before BIGINT NOT NULL,
  not_after BIGINT NOT NULL,
  issued_at BIGINT NOT NULL,
  der {{BLOB}} NOT NULL,
  ocsp_response {{BLOB}} NOT NULL,
  ocsp_next_update BIGINT NOT NULL
);
CREATE INDEX certificates_by_holder ON certificates (holder_id);
CREATE INDEX certificates_by_card ON certificates (card_id);
CREATE INDEX certificates_by_device ON certificates (device_id);
CREATE INDEX certificates_by_application ON certificates (application_id);
CREATE INDEX certificates_by_ca_status ON certificates (ca, status);
CREATE INDEX certificates_by_ocsp_next_update ON certificates (ocsp_next_update);

CREATE TABLE challenges (
  nonce TEXT NOT NULL PRIMARY KEY,
  purpose TEXT NOT NULL,
  subject TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT NOT NULL
);
CREATE INDEX challenges_by_expires_at ON challenges (expires_at);

CREATE TABLE events (
  seq BIGINT NOT NULL PRIMARY KEY,
  device_id TEXT NOT NULL REFERENCES devices (id),
  type TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  acked_at BIGINT NOT NULL
);
CREATE INDEX events_by_device_seq ON events (device_id, seq);

CREATE TABLE audit_log (
  seq BIGINT NOT NULL PRIMARY KEY CHECK (seq >= 1),
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  details TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);

CREATE TABLE counters (
  name TEXT NOT NULL PRIMARY KEY,
  value BIGINT NOT NULL
);
)sql";

// Nodes that share a PostgreSQL store follow each other's certificate
// changes in commit order (Transaction::certificate_changes). change_seq is
// drawn from the counters table like event seqs; 0 for rows written before.
constexpr std::string_view kCertificateChanges = R"sql(
ALTER TABLE certificates ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX certificates_by_change_seq ON certificates (change_seq);
)sql";

// Cards and applications are never deleted and their ids never change, so
// the foreign-key checks these two indexes would serve never run, and no
// query looks certificates up by card or application; every certificate
// written paid two random index pages for them.
constexpr std::string_view kDropUnusedIndexes = R"sql(
DROP INDEX certificates_by_card;
DROP INDEX certificates_by_application;
)sql";

// The same holds for the holder and device columns of applications and
// devices, and the holder column of cards: holders and devices are never
// deleted and keep their ids, and no query looks those rows up by them. A
// device change paid three random index pages for them.
constexpr std::string_view kDropIndexesByHolderAndDevice = R"sql(
DROP INDEX applications_by_holder;
DROP INDEX applications_by_device;
DROP INDEX devices_by_holder;
DROP INDEX cards_by_holder;
)sql";

// In SQLite a key declared BIGINT PRIMARY KEY is a second B-tree beside the
// table's own rowid one; only INTEGER PRIMARY KEY makes the column the rowid
// (https://www.sqlite.org/lang_createtable.html#rowid). Event and audit
// numbers were such keys: every event and audit entry was written twice, and
// a device change paid about 2.2 log pages for it. SQLite cannot change a
// key in place, so both tables are rebuilt; PostgreSQL's are already right.
constexpr std::string_view kSequenceKeysAreRowids = R"sql(
CREATE TABLE events_by_rowid (
  seq INTEGER NOT NULL PRIMARY KEY,
  device_id TEXT NOT NULL REFERENCES devices (id),
  type TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  acked_at BIGINT NOT NULL
);
INSERT INTO events_by_rowid (seq, device_id, type, payload, created_at, acked_at)
  SELECT seq, device_id, type, payload, created_at, acked_at FROM events;
DROP TABLE events;
ALTER TABLE events_by_rowid RENAME TO events;
CREATE INDEX events_by_device_seq ON events (device_id, seq);

CREATE TABLE audit_log_by_rowid (
  seq INTEGER NOT NULL PRIMARY KEY CHECK (seq >= 1),
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  details TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO audit_log_by_rowid (seq, at, actor, action, subject, details, prev_hash, hash)
  SELECT seq, at, actor, action, subject, details, prev_hash, hash FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_by_rowid RENAME TO audit_log;
)sql";

// Certificates by CA and status served one query, the CRL's: the revoked and
// suspended certificates of a CA. Every certificate issued and every one
// revoked moved entries of that index; a device change paid about 4.3 log
// pages for it. An index of the revoked and suspended alone, in the order
// they were revoked, takes no entry for an issued certificate and appends one
// for a revocation.
constexpr std::string_view kIndexOnlyRevoked = R"sql(
DROP INDEX certificates_by_ca_status;
CREATE INDEX certificates_revoked ON certificates (ca, revoked_at)
  WHERE status IN ('revoked', 'suspended');
)sql";

constexpr std::array kMigrations{
    Migration{1, "initial schema", kInitialSchema},
    Migration{2, "certificate change numbers", kCertificateChanges},
    Migration{3, "no certificate indexes by card or application", kDropUnusedIndexes},
    Migration{4, "no indexes by holder or device on applications, devices and cards",
              kDropIndexesByHolderAndDevice},
    Migration{5, "event and audit numbers are SQLite rowids", kSequenceKeysAreRowids,
              SqlDialect::sqlite},
    Migration{6, "certificates indexed by CA only when revoked or suspended", kIndexOnlyRevoked},
};

constexpr std::string_view kCreateVersionTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version BIGINT NOT NULL PRIMARY KEY,"
    " name TEXT NOT NULL)";

Result<int> recorded_version(sqlite::Database& db) {
  auto stmt = db.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!stmt) return fail(stmt.error());
  auto row = stmt->step();
  if (!row) return fail(row.error());
  return static_cast<int>(stmt->column_int64(0));
}

Status refuse_newer(int recorded, int known) {
  if (recorded <= known) return {};
  return fail(Errc::conflict, "the database has schema version " + std::to_string(recorded) +
                                  " but this smacert knows versions up to " +
                                  std::to_string(known) + "; run a newer smacert");
}

Status apply(sqlite::Database& db, const Migration& m, int known) {
  SMACERT_TRY_STATUS(db.exec("BEGIN IMMEDIATE"));
  auto body = [&]() -> Result<bool> {
    // Re-read under the write lock: another process may have migrated since.
    auto recorded = recorded_version(db);
    if (!recorded) return fail(recorded.error());
    SMACERT_TRY_STATUS(refuse_newer(*recorded, known));
    if (*recorded >= m.version) return false;
    if (*recorded != m.version - 1) {
      return fail(Errc::internal, "the database is at version " + std::to_string(*recorded) +
                                      ", expected " + std::to_string(m.version - 1));
    }
    if (!m.only || *m.only == SqlDialect::sqlite)
      SMACERT_TRY_STATUS(db.exec(render_sql(m.sql, SqlDialect::sqlite)));
    auto insert = db.prepare("INSERT INTO schema_migrations (version, name) VALUES (?1, ?2)");
    if (!insert) return fail(insert.error());
    SMACERT_TRY_STATUS(insert->bind_int64(1, m.version).bind_text(2, m.name).run());
    return true;
  };
  auto applied = body();
  if (!applied) {
    if (db.in_transaction()) (void)db.exec("ROLLBACK");
    return fail(applied.error());
  }
  return db.exec("COMMIT");
}

// PostgreSQL: the same steps; a transaction-scoped advisory lock stands in
// for BEGIN IMMEDIATE, so two nodes starting at once migrate one after the
// other (the second finds the work done).
constexpr std::string_view kMigrationLock = "SELECT pg_advisory_xact_lock(1397571907, 1)";

Result<int> recorded_version(pg::Connection& db) {
  auto rows = db.run("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!rows) return fail(rows.error().error);
  return static_cast<int>(rows->int64(0, 0));
}

Status apply(pg::Connection& db, const Migration* m, int known) {
  if (auto began = db.script("BEGIN"); !began) return fail(began.error().error);
  auto body = [&]() -> Result<bool> {
    if (auto locked = db.run(kMigrationLock); !locked) return fail(locked.error().error);
    if (auto created = db.script(kCreateVersionTable); !created)
      return fail(created.error().error.context("creating schema_migrations"));
    if (m == nullptr) return false;
    auto recorded = recorded_version(db);
    if (!recorded) return fail(recorded.error());
    SMACERT_TRY_STATUS(refuse_newer(*recorded, known));
    if (*recorded >= m->version) return false;
    if (*recorded != m->version - 1) {
      return fail(Errc::internal, "the database is at version " + std::to_string(*recorded) +
                                      ", expected " + std::to_string(m->version - 1));
    }
    if (!m->only || *m->only == SqlDialect::postgresql)
      if (auto done = db.script(render_sql(m->sql, SqlDialect::postgresql)); !done)
        return fail(done.error().error);
    auto insert = db.run("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                         pg::Params().int64(m->version).text(m->name));
    if (!insert) return fail(insert.error().error);
    return true;
  };
  auto applied = body();
  if (!applied) {
    (void)db.script("ROLLBACK");
    return fail(applied.error());
  }
  if (auto done = db.script("COMMIT"); !done) return fail(done.error().error);
  return {};
}

}  // namespace

std::string render_sql(std::string_view sql, SqlDialect dialect) {
  static constexpr std::string_view kBlobToken = "{{BLOB}}";
  const std::string_view blob = dialect == SqlDialect::sqlite ? "BLOB" : "BYTEA";
  std::string out;
  out.reserve(sql.size());
  for (std::size_t at = 0;;) {
    const std::size_t found = sql.find(kBlobToken, at);
    out += sql.substr(at, found - at);
    if (found == std::string_view::npos) break;
    out += blob;
    at = found + kBlobToken.size();
  }
  return out;
}

std::span<const Migration> schema_migrations() {
  return kMigrations;
}

Result<int> migrate(sqlite::Database& db, std::span<const Migration> migrations) {
  const int known = migrations.empty() ? 0 : migrations.back().version;
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return fail(Errc::internal,
                  "migration list is not numbered 1, 2, 3, … at position " + std::to_string(i + 1));
    }
  }
  auto created = db.exec(kCreateVersionTable);
  if (!created) return fail(created.error().context("creating schema_migrations"));
  auto recorded = recorded_version(db);
  if (!recorded) return fail(recorded.error().context("reading the schema version"));
  if (auto newer = refuse_newer(*recorded, known); !newer) return fail(newer.error());
  for (const Migration& m : migrations) {
    if (m.version <= *recorded) continue;
    if (auto applied = apply(db, m, known); !applied) {
      return fail(applied.error().context("applying migration " + std::to_string(m.version) + " (" +
                                          std::string(m.name) + ")"));
    }
  }
  auto final_version = recorded_version(db);
  if (!final_version) return fail(final_version.error().context("reading the schema version"));
  return *final_version;
}

Result<int> migrate(pg::Connection& db, std::span<const Migration> migrations) {
  const int known = migrations.empty() ? 0 : migrations.back().version;
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return fail(Errc::internal,
                  "migration list is not numbered 1, 2, 3, … at position " + std::to_string(i + 1));
    }
  }
  // The version table is created under the lock too: two concurrent CREATE
  // TABLE IF NOT EXISTS can both pass the check and one then fails.
  if (auto created = apply(db, nullptr, known); !created)
    return fail(created.error().context("creating schema_migrations"));
  auto recorded = recorded_version(db);
  if (!recorded) return fail(recorded.error().context("reading the schema version"));
  if (auto newer = refuse_newer(*recorded, known); !newer) return fail(newer.error());
  for (const Migration& m : migrations) {
    if (m.version <= *recorded) continue;
    if (auto applied = apply(db, &m, known); !applied) {
      return fail(applied.error().context("applying migration " + std::to_string(m.version) + " (" +
                                          std::string(m.name) + ")"));
    }
  }
  auto final_version = recorded_version(db);
  if (!final_version) return fail(final_version.error().context("reading the schema version"));
  return *final_version;
}

}  // namespace smacert::store

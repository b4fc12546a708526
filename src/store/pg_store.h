// The shared Store: PostgreSQL through libpq, for several stateless service
// nodes on one database (docs/scale-out.md).
//
// Same interface, schema (store/migrations.h, {{BLOB}} = BYTEA), errors and
// test suite as SqliteStore. What differs is how writers are kept apart:
//
// - Isolation is READ COMMITTED. Every statement sees what was committed
//   before it started, and a row lock taken with SELECT … FOR UPDATE makes a
//   later statement see the committed state of whatever the lock holder
//   wrote. SERIALIZABLE would also be correct, but every conflict would cost a
//   whole retried request (including the CA's signatures) and callers would
//   all need retry loops; the conflicts that matter here are few and known,
//   so they are locked explicitly instead:
//   * Transaction::lock_holder(id): FOR UPDATE on the holder's row; the
//     service takes it before it reads or changes a holder's phones, so two
//     device changes of one holder on two nodes run one after the other.
//   * The ordered writes — audit entries (a hash chain needs the previous
//     hash), event seqs, certificate change numbers, CRL numbers and
//     application order — take one transaction-scoped advisory lock
//     (pg_advisory_xact_lock) first, held to COMMIT. Numbers are therefore
//     handed out in commit order, which is what lets a reader that keeps "the
//     last seq I saw" never miss a row (a SEQUENCE would not: a lower number
//     can commit after a higher one has been read).
//   Lock order is always holder row → advisory lock → counter rows, so the
//   store itself cannot deadlock.
// - Each statement that may violate a constraint runs inside a SAVEPOINT, so
//   a refused INSERT (Errc::conflict on a taken serial or idempotency key)
//   leaves the transaction usable, as in SQLite.
// - Certificate changes and new events NOTIFY channel "smacert_changes" in
//   the same transaction; change_feed() LISTENs on it (service::StoreFollower).
//
// Errors: Errc::unavailable when PostgreSQL cannot be reached, and for
// SQLSTATE 40001 (serialization_failure) and 40P01 (deadlock_detected),
// whose sentence says the transaction may be run again. Callers retry by
// dropping the Transaction and running the whole unit of work again in a new
// one from begin(), a bounded number of times — never a single statement.
//
// Connections: a small pool; each Transaction owns one connection until it
// ends. A connection that broke (server restart, failover) is dropped;
// begin() drops the idle ones too and reconnects, retrying for about two
// seconds before it fails with Errc::unavailable. A transaction whose
// connection breaks mid-way fails; it is never silently re-run.
//
// Threads: as SqliteStore — begin() from any thread, one Transaction used by
// one thread at a time, and a Transaction may outlive its PgStore.
#pragma once

#include <memory>
#include <string>

#include "store/store.h"

namespace smacert::store {

class PgConnectionPool;

class PgStore final : public Store {
 public:
  // `conninfo`: a libpq keyword/value string or a postgresql:// URI. Brings
  // the schema up to date like SqliteStore::open.
  static Result<std::unique_ptr<PgStore>> open(const std::string& conninfo);

  ~PgStore() override;
  PgStore(const PgStore&) = delete;
  PgStore& operator=(const PgStore&) = delete;

  Result<std::unique_ptr<Transaction>> begin() override;
  Result<std::unique_ptr<Transaction>> begin_read() override;
  int schema_version() const override { return schema_version_; }
  Result<std::unique_ptr<ChangeFeed>> change_feed() override;
  std::string_view kind() const override { return "postgresql"; }

 private:
  PgStore(std::shared_ptr<PgConnectionPool> pool, int schema_version);
  // BEGIN with `begin_sql`, reconnecting as the class comment says.
  Result<std::unique_ptr<Transaction>> start(const char* begin_sql);

  std::shared_ptr<PgConnectionPool> pool_;
  int schema_version_;
};

}  // namespace smacert::store

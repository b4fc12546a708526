// Shared by the store tests: one fixture, run against every Store
// implementation (value-parameterised: .../sqlite and .../postgresql), a
// fresh store per test, and records that satisfy the schema's constraints.
//
// PostgreSQL: SMACERT_TEST_PG holds the libpq conninfo of a throwaway
// server's superuser (CTest's pg fixture starts one with scripts/pg-test.sh
// and sets it); every test gets a database of its own (CREATE DATABASE …
// TEMPLATE template0), dropped afterwards.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "store/pg.h"
#include "store/pg_store.h"
#include "store/sqlite.h"
#include "store/sqlite_store.h"

namespace smacert::store::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "smacert-store-XXXXXX");
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

enum class Backend { sqlite, postgresql };

inline std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::sqlite ? "sqlite" : "postgresql";
}

// The admin conninfo of the test server, or "" when none was given.
inline std::string pg_admin_conninfo() {
  const char* c = std::getenv("SMACERT_TEST_PG");
  return c ? c : "";
}

// A database of its own on the test server, dropped when this goes away
// (WITH (FORCE): a connection a test leaked must not keep it alive).
class PgTestDatabase {
 public:
  PgTestDatabase() {
    static std::atomic<int> next{0};
    name_ = "smacert_t" + std::to_string(::getpid()) + "_" + std::to_string(next++);
    admin("CREATE DATABASE " + name_ + " TEMPLATE template0");
  }
  ~PgTestDatabase() {
    try {
      admin("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (...) {
    }
  }
  PgTestDatabase(const PgTestDatabase&) = delete;
  PgTestDatabase& operator=(const PgTestDatabase&) = delete;

  // A later keyword wins in a libpq conninfo.
  std::string conninfo() const { return pg_admin_conninfo() + " dbname=" + name_; }
  const std::string& name() const { return name_; }

 private:
  static void admin(const std::string& sql) {
    auto conn = pg::Connection::open(pg_admin_conninfo());
    if (!conn) throw std::runtime_error(conn.error().message);
    if (auto done = conn->script(sql); !done) throw std::runtime_error(done.error().error.message);
  }
  std::string name_;
};

inline HolderRecord holder(std::string id) {
  return {std::move(id), "山田\u3000太郎", "東京都千代田区", "1980-01-02", 1, 100, 100};
}

inline CardRecord card(std::string id, std::string holder_id) {
  return {std::move(id), std::move(holder_id), "active", 100};
}

inline DeviceRecord device(std::string id, std::string holder_id) {
  return {std::move(id), std::move(holder_id), "android", "Pixel 8", "active", 100, "ab12"};
}

inline CertificateRecord certificate(std::string serial, std::string holder_id,
                                     std::string ca = "sign") {
  CertificateRecord c;
  c.serial = std::move(serial);
  c.ca = ca;
  c.kind = "card_" + ca;
  c.holder_id = std::move(holder_id);
  c.status = "pending";
  c.not_before = 1000;
  c.not_after = 2000;
  return c;
}

inline ApplicationRecord application(std::string id, std::string key = {}) {
  ApplicationRecord a;
  a.id = std::move(id);
  a.kind = "new";
  a.status = "waiting";
  a.idempotency_key = std::move(key);
  a.request_hash = std::string(64, 'a');
  a.payload = "{}";
  a.created_at = 100;
  a.ready_at = 200;
  a.updated_at = 100;
  return a;
}

inline AuditEntry audit(std::string action, std::string details = "{}") {
  AuditEntry e;
  e.at = 1700000000;
  e.actor = "counter";
  e.action = std::move(action);
  e.subject = "0a1b";
  e.details = std::move(details);
  return e;
}

// A fresh store of the parameter's kind, holding what seed() writes. A
// fixture that only needs rows to start from overrides seed(); a derived
// SetUp() must return when StoreTest::SetUp() skipped or failed
// (`if (!ready()) return;`).
class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (pg()) {
      if (pg_admin_conninfo().empty())
        GTEST_SKIP() << "SMACERT_TEST_PG is not set; run through ctest (pg fixture)";
      database_ = std::make_unique<PgTestDatabase>();
    }
    reopen();
    if (!ready()) return;
    auto tx = begin();
    ASSERT_TRUE(tx);
    seed(*tx);
    if (HasFatalFailure()) return;
    ASSERT_TRUE(tx->commit());
  }

  // The rows every test of the fixture starts from, committed in one
  // transaction by SetUp(). An override that extends another fixture's seed
  // calls it first.
  virtual void seed(Transaction&) {}

  bool ready() const { return !IsSkipped() && !HasFatalFailure() && store_ != nullptr; }
  bool pg() const { return GetParam() == Backend::postgresql; }

  // Another Store on the same database: another node, or the same node
  // after a restart.
  Result<std::unique_ptr<Store>> open() const {
    if (pg()) {
      auto s = PgStore::open(database_->conninfo());
      if (!s) return fail(s.error());
      return std::unique_ptr<Store>(std::move(*s));
    }
    auto s = SqliteStore::open(file());
    if (!s) return fail(s.error());
    return std::unique_ptr<Store>(std::move(*s));
  }

  void reopen() {
    store_.reset();
    auto opened = open();
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }

  std::unique_ptr<Transaction> begin() {
    auto tx = store_->begin();
    EXPECT_TRUE(tx) << tx.error().message;
    return tx ? std::move(*tx) : nullptr;
  }

  // Checks and tampering the Store cannot do, on a connection of their own.
  void raw_exec(const std::string& sql) {
    if (pg()) {
      auto done = raw_pg().script(sql);
      if (!done) throw std::runtime_error(done.error().error.message);
      return;
    }
    auto db = raw();
    if (auto done = db.exec(sql); !done) throw std::runtime_error(done.error().message);
  }

  std::int64_t count(const std::string& sql) {
    if (pg()) {
      auto rows = raw_pg().run(sql);
      if (!rows || rows->empty()) throw std::runtime_error("no row from " + sql);
      return rows->int64(0, 0);
    }
    auto db = raw();
    auto stmt = db.prepare(sql);
    if (!stmt) throw std::runtime_error(stmt.error().message);
    auto row = stmt->step();
    if (!row || !*row) throw std::runtime_error("no row from " + sql);
    return stmt->column_int64(0);
  }

  sqlite::Database raw() {
    auto db = sqlite::Database::open(file(), SQLITE_OPEN_READWRITE);
    if (!db) throw std::runtime_error(db.error().message);
    return std::move(*db);
  }

  pg::Connection raw_pg() {
    auto conn = pg::Connection::open(database_->conninfo());
    if (!conn) throw std::runtime_error(conn.error().message);
    return std::move(*conn);
  }

  std::filesystem::path file() const { return dir_.path() / "store.db"; }

  TempDir dir_;
  std::unique_ptr<PgTestDatabase> database_;
  std::unique_ptr<Store> store_;
};

// Runs every TEST_P of `fixture` once per Store implementation.
#define SMACERT_STORE_BACKENDS(fixture)                                                       \
  INSTANTIATE_TEST_SUITE_P(Backends, fixture,                                                 \
                           ::testing::Values(::smacert::store::testing::Backend::sqlite,      \
                                             ::smacert::store::testing::Backend::postgresql), \
                           ::smacert::store::testing::backend_name)

}  // namespace smacert::store::testing

// Shared by the store tests: a temporary folder per test, a store in it, and
// records that satisfy the schema's constraints.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

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

// A fresh store in a temporary folder.
class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  void reopen() {
    store_.reset();
    auto opened = SqliteStore::open(file());
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }

  std::unique_ptr<Transaction> begin() {
    auto tx = store_->begin();
    EXPECT_TRUE(tx) << tx.error().message;
    return tx ? std::move(*tx) : nullptr;
  }

  // A second, raw connection for checks and tampering the Store cannot do.
  sqlite::Database raw() {
    auto db = sqlite::Database::open(file(), SQLITE_OPEN_READWRITE);
    if (!db) throw std::runtime_error(db.error().message);
    return std::move(*db);
  }

  std::int64_t count(const std::string& sql) {
    auto db = raw();
    auto stmt = db.prepare(sql);
    if (!stmt) throw std::runtime_error(stmt.error().message);
    auto row = stmt->step();
    if (!row || !*row) throw std::runtime_error("no row from " + sql);
    return stmt->column_int64(0);
  }

  std::filesystem::path file() const { return dir_.path() / "store.db"; }

  TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
};

}  // namespace smacert::store::testing

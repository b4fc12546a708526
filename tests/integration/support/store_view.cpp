#include "integration/support/store_view.h"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <algorithm>
#include <memory>

#include "core/encoding.h"

namespace smacert::integration {
namespace {

struct DbClose {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalize {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Db = std::unique_ptr<sqlite3, DbClose>;
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalize>;

Stmt prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "store dump: " << sqlite3_errmsg(db) << " in " << sql;
    return Stmt();
  }
  return Stmt(s);
}

bool is_sqlite(const std::string& url) {
  return url.rfind("sqlite:", 0) == 0;
}
std::filesystem::path sqlite_path(const std::string& url) {
  return url.substr(7);
}

struct PgFinish {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct PgClear {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgConn = std::unique_ptr<PGconn, PgFinish>;
using PgResult = std::unique_ptr<PGresult, PgClear>;

// One read-only query in text format (bytea as \x…), for the dumps.
PgResult pg_query(PGconn* c, const std::string& sql) {
  PgResult r(PQexec(c, sql.c_str()));
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK && PQresultStatus(r.get()) != PGRES_COMMAND_OK)
    ADD_FAILURE() << "store dump: " << PQerrorMessage(c) << " in " << sql;
  return r;
}

PgConn pg_connect(const std::string& url) {
  PgConn c(PQconnectdb(url.c_str()));
  if (PQstatus(c.get()) != CONNECTION_OK)
    ADD_FAILURE() << "cannot connect: " << PQerrorMessage(c.get());
  return c;
}

std::vector<std::string> pg_rows(const std::string& url) {
  std::vector<std::string> rows;
  auto c = pg_connect(url);
  // One snapshot for every table.
  pg_query(c.get(), "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  auto tables = pg_query(
      c.get(), "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename");
  for (int t = 0; t < PQntuples(tables.get()); ++t) {
    std::string table = PQgetvalue(tables.get(), t, 0);
    auto r = pg_query(c.get(), "SELECT * FROM \"" + table + "\"");
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      std::string row = table;
      for (int j = 0; j < PQnfields(r.get()); ++j) {
        row += std::string("|") + PQfname(r.get(), j) + "=";
        row += PQgetisnull(r.get(), i, j) ? "NULL" : PQgetvalue(r.get(), i, j);
      }
      rows.push_back(std::move(row));
    }
  }
  pg_query(c.get(), "COMMIT");
  std::sort(rows.begin(), rows.end());
  return rows;
}

PhoneMap pg_phone_snapshot(const std::string& url) {
  PhoneMap out;
  auto c = pg_connect(url);
  auto r = pg_query(c.get(),
                    "SELECT holder_id, device_id, status FROM certificates "
                    "WHERE device_id IS NOT NULL AND device_id <> ''");
  for (int i = 0; i < PQntuples(r.get()); ++i)
    out[PQgetvalue(r.get(), i, 0)][PQgetvalue(r.get(), i, 1)].push_back(PQgetvalue(r.get(), i, 2));
  return out;
}

}  // namespace

std::vector<std::string> store_rows(const std::string& store_url) {
  if (!is_sqlite(store_url)) return pg_rows(store_url);
  const std::filesystem::path db_file = sqlite_path(store_url);
  std::vector<std::string> rows;
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(db_file.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << db_file << ": " << (raw ? sqlite3_errmsg(raw) : "");
    sqlite3_close_v2(raw);
    return rows;
  }
  Db db(raw);
  sqlite3_busy_timeout(db.get(), 5000);
  sqlite3_exec(db.get(), "BEGIN", nullptr, nullptr, nullptr);
  std::vector<std::string> tables;
  if (auto s = prepare(db.get(), "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"))
    while (sqlite3_step(s.get()) == SQLITE_ROW)
      tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0)));
  for (const auto& t : tables) {
    auto s = prepare(db.get(), "SELECT * FROM \"" + t + "\"");
    if (!s) continue;
    int n = sqlite3_column_count(s.get());
    while (sqlite3_step(s.get()) == SQLITE_ROW) {
      std::string row = t;
      for (int i = 0; i < n; ++i) {
        row += std::string("|") + sqlite3_column_name(s.get(), i) + "=";
        switch (sqlite3_column_type(s.get(), i)) {
          case SQLITE_NULL:
            row += "NULL";
            break;
          case SQLITE_BLOB: {
            auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s.get(), i));
            Bytes b(p, p + sqlite3_column_bytes(s.get(), i));
            row += "x" + hex_encode(b);
            break;
          }
          default:
            row += reinterpret_cast<const char*>(sqlite3_column_text(s.get(), i));
        }
      }
      rows.push_back(std::move(row));
    }
  }
  sqlite3_exec(db.get(), "COMMIT", nullptr, nullptr, nullptr);
  std::sort(rows.begin(), rows.end());
  return rows;
}

std::vector<std::string> two_phone_violations(const PhoneMap& phones) {
  std::vector<std::string> out;
  for (const auto& [holder, devices] : phones) {
    int active = 0;
    for (const auto& [device, statuses] : devices)
      for (const auto& s : statuses)
        if (s == "active" || s == "suspended") {
          ++active;
          break;
        }
    if (active > 1)
      out.push_back("holder " + holder + " has " + std::to_string(active) +
                    " phones with active certificates");
  }
  return out;
}

PhoneMap phone_certificate_snapshot(const std::string& store_url) {
  if (!is_sqlite(store_url)) return pg_phone_snapshot(store_url);
  const std::filesystem::path db_file = sqlite_path(store_url);
  PhoneMap out;
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(db_file.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << db_file;
    sqlite3_close_v2(raw);
    return out;
  }
  Db db(raw);
  sqlite3_busy_timeout(db.get(), 5000);
  auto s = prepare(db.get(),
                   "SELECT holder_id, device_id, status FROM certificates "
                   "WHERE device_id IS NOT NULL AND device_id <> ''");
  if (!s) return out;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    auto text = [&](int i) {
      auto* p = sqlite3_column_text(s.get(), i);
      return p ? std::string(reinterpret_cast<const char*>(p)) : std::string();
    };
    out[text(0)][text(1)].push_back(text(2));
  }
  if (rc != SQLITE_DONE) ADD_FAILURE() << "snapshot: " << sqlite3_errmsg(db.get());
  return out;
}

::testing::AssertionResult same_rows(const std::vector<std::string>& before,
                                     const std::vector<std::string>& after) {
  std::vector<std::string> added, removed;
  std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                      std::back_inserter(added));
  std::set_difference(before.begin(), before.end(), after.begin(), after.end(),
                      std::back_inserter(removed));
  if (added.empty() && removed.empty()) return ::testing::AssertionSuccess();
  auto f = ::testing::AssertionFailure() << "the store changed:";
  for (const auto& r : added) f << "\n  + " << r.substr(0, 300);
  for (const auto& r : removed) f << "\n  - " << r.substr(0, 300);
  return f;
}

StoreView::StoreView(const std::string& store_url) {
  auto s = store::open_store(store_url);
  EXPECT_TRUE(s) << s.error().message;
  if (s) store_ = std::move(*s);
}

std::unique_ptr<store::Transaction> StoreView::begin() {
  auto tx = store_->begin();
  EXPECT_TRUE(tx) << tx.error().message;
  return tx ? std::move(*tx) : nullptr;
}

#define VIEW_READ(call, fallback)      \
  auto tx = begin();                   \
  if (!tx) return fallback;            \
  auto r = tx->call;                   \
  EXPECT_TRUE(r) << r.error().message; \
  return r ? std::move(*r) : fallback

std::vector<store::CertificateRecord> StoreView::certificates_of_holder(const std::string& id) {
  VIEW_READ(certificates_of_holder(id), std::vector<store::CertificateRecord>{});
}
std::vector<store::CertificateRecord> StoreView::certificates_of_device(const std::string& id) {
  VIEW_READ(certificates_of_device(id), std::vector<store::CertificateRecord>{});
}
std::optional<store::CertificateRecord> StoreView::certificate(const std::string& serial) {
  VIEW_READ(find_certificate(serial), std::optional<store::CertificateRecord>{});
}
std::optional<store::DeviceRecord> StoreView::device(const std::string& id) {
  VIEW_READ(find_device(id), std::optional<store::DeviceRecord>{});
}
std::optional<store::ApplicationRecord> StoreView::application(const std::string& id) {
  VIEW_READ(find_application(id), std::optional<store::ApplicationRecord>{});
}
std::vector<store::EventRecord> StoreView::events(const std::string& device_id) {
  VIEW_READ(events_after(device_id, 0, 100000), std::vector<store::EventRecord>{});
}
std::vector<store::AuditEntry> StoreView::audit() {
  VIEW_READ(audit_entries(0, 1000000), std::vector<store::AuditEntry>{});
}
#undef VIEW_READ

Status StoreView::verify_audit_chain() {
  return store::verify_audit_chain(*store_);
}

}  // namespace smacert::integration

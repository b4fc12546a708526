// Versioned schema migrations. The schema is an ordered list of SQL scripts;
// the table schema_migrations records which versions a database has. Each
// migration runs in its own transaction (DDL is transactional in SQLite and in
// PostgreSQL), so a failed one leaves the previous version intact. A database
// whose schema is newer than this binary knows is refused rather than written
// to by code that does not understand it.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/error.h"
#include "store/sqlite.h"

namespace smacert::store {

// The scripts are written once for both back-ends; the few type names that
// differ are tokens substituted here and nowhere else: {{BLOB}} is BLOB in
// SQLite and BYTEA in PostgreSQL.
enum class SqlDialect { sqlite, postgresql };
std::string render_sql(std::string_view sql, SqlDialect dialect);

struct Migration {
  int version;  // 1, 2, 3, … without gaps
  std::string_view name;
  std::string_view sql;  // may hold several statements; {{…}} tokens allowed
  // A change of how one back-end stores the schema: the other records the
  // version and runs nothing.
  std::optional<SqlDialect> only = std::nullopt;
};

// smacert's schema, oldest first. Append only: a released migration is never
// edited, a change is a new migration.
std::span<const Migration> schema_migrations();

// Brings `db` up to the last version in `migrations` and returns that version.
// Errc::conflict if the database records a version newer than the list knows.
// Safe against another process migrating the same file at the same time: the
// version is re-read inside each migration's BEGIN IMMEDIATE transaction.
Result<int> migrate(sqlite::Database& db, std::span<const Migration> migrations);

namespace pg {
class Connection;
}
// The same on PostgreSQL (outside any transaction on `db`); concurrent
// migrators queue on a transaction-scoped advisory lock.
Result<int> migrate(pg::Connection& db, std::span<const Migration> migrations);

}  // namespace smacert::store

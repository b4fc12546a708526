// A small RAII wrapper over the SQLite C API, written once (Botan's pattern):
// a connection is closed on every failure path, handles live in unique_ptr
// with noexcept deleters, and no sqlite3_* free call appears outside
// sqlite.cpp. Errors are Result values whose sentence carries sqlite3_errmsg.
//
// Only src/store (and its tests) include this header; the rest of the project
// sees the Store interface.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/error.h"

namespace smacert::store::sqlite {

struct DatabaseCloser {
  void operator()(sqlite3* db) const noexcept;
};
struct StatementFinalizer {
  void operator()(sqlite3_stmt* stmt) const noexcept;
};

// The project's code for an (extended) SQLite result code: UNIQUE and PRIMARY
// KEY violations are conflicts, CHECK/NOT NULL/FOREIGN KEY violations are bad
// input, BUSY/LOCKED mean the store is unavailable, I/O failures are io.
Errc errc_for(int extended_code);

class Statement;

class Database {
 public:
  // `flags` are SQLITE_OPEN_*; extended result codes are always switched on so
  // that callers can tell a PRIMARY KEY violation from a UNIQUE one.
  static Result<Database> open(const std::filesystem::path& file, int flags);

  // Runs one or more statements that return no rows (scripts, pragmas, BEGIN).
  Status exec(std::string_view sql);
  Result<Statement> prepare(std::string_view sql);

  // Rows changed by the last INSERT/UPDATE/DELETE on this connection.
  std::int64_t changes() const noexcept;
  // True between BEGIN and COMMIT/ROLLBACK. SQLite may end a transaction by
  // itself after some errors (SQLITE_FULL, SQLITE_IOERR, …), so this is the
  // truth, not a flag the caller keeps.
  bool in_transaction() const noexcept;
  std::string errmsg() const;
  sqlite3* handle() const noexcept { return db_.get(); }

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  std::unique_ptr<sqlite3, DatabaseCloser> db_;
};

// A prepared statement. Binds chain; a failed bind is remembered and reported
// by the next step(), so call sites read as one expression and still cannot
// lose the error. Parameter indexes start at 1, column indexes at 0 (SQLite's
// own convention).
class Statement {
 public:
  Statement& bind_int64(int index, std::int64_t value);
  Statement& bind_text(int index, std::string_view value);
  // An empty value binds a zero-length blob, not NULL (sqlite3_bind_blob with
  // a null pointer would bind NULL and break NOT NULL columns).
  Statement& bind_blob(int index, ByteView value);
  Statement& bind_null(int index);
  // Empty text binds NULL: for optional references (foreign keys) and for
  // keys that are unique only when present.
  Statement& bind_text_or_null(int index, std::string_view value);

  // true: a row is ready for the column getters; false: the statement is done.
  Result<bool> step();
  // Steps to completion, ignoring any rows (INSERT/UPDATE/DELETE).
  Status run();

  std::int64_t column_int64(int index) const noexcept;
  std::string column_text(int index) const;  // NULL reads as ""
  Bytes column_blob(int index) const;        // NULL reads as empty
  bool column_is_null(int index) const noexcept;

  // Ready to run again: resets, clears bindings and any remembered bind error.
  void reset() noexcept;

  // The extended result code of the last step() (SQLITE_OK before any), so a
  // caller can turn a specific constraint into a specific sentence.
  int last_code() const noexcept { return last_code_; }
  std::string_view sql() const noexcept;

 private:
  friend class Database;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement& check_bind(int rc, int index);

  sqlite3* db_;  // not owned; outlives the statement (sqlite3_close_v2 waits)
  std::unique_ptr<sqlite3_stmt, StatementFinalizer> stmt_;
  std::optional<Error> bind_error_;
  int last_code_ = SQLITE_OK;
};

}  // namespace smacert::store::sqlite

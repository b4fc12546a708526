#include "store/sqlite.h"

#include <string>

namespace smacert::store::sqlite {
namespace {

// "UNIQUE constraint failed: certificates.serial (SQLite code 1555)": what
// SQLite said, and the code a person can look up.
std::string describe(sqlite3* db, int rc) {
  std::string text = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  text += " (SQLite code ";
  text += std::to_string(rc);
  text += ")";
  return text;
}

}  // namespace

void DatabaseCloser::operator()(sqlite3* db) const noexcept {
  // close_v2 defers the close until the last statement is finalised, so the
  // order in which a connection and its statements are destroyed cannot leak.
  sqlite3_close_v2(db);
}

void StatementFinalizer::operator()(sqlite3_stmt* stmt) const noexcept {
  sqlite3_finalize(stmt);
}

Errc errc_for(int extended_code) {
  switch (extended_code) {
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_UNIQUE:
      return Errc::conflict;
    case SQLITE_CONSTRAINT_CHECK:
    case SQLITE_CONSTRAINT_NOTNULL:
    case SQLITE_CONSTRAINT_FOREIGNKEY:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
      return Errc::invalid_argument;
    case SQLITE_TOOBIG:
      return Errc::too_large;
    default:
      break;
  }
  switch (extended_code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Errc::unavailable;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_NOTADB:
      return Errc::io;
    case SQLITE_CONSTRAINT:
      return Errc::conflict;
    default:
      return Errc::internal;
  }
}

Result<Database> Database::open(const std::filesystem::path& file, int flags) {
  // Before SQLite initialises (the first open does): no memory statistics.
  // Nothing here reads them, and keeping them takes a process-wide mutex on
  // every allocation of every connection
  // (https://www.sqlite.org/c3ref/c_config_covering_index_scan.html#sqliteconfigmemstatus).
  static const bool configured = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
  (void)configured;
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(file.c_str(), &raw, flags, nullptr);
  // sqlite3_open_v2 hands out a handle even when it fails; the owner closes it
  // on this path too (https://www.sqlite.org/c3ref/open.html).
  Database db(raw);
  if (rc != SQLITE_OK) {
    return fail(errc_for(rc), "opening database " + file.string() + ": " + describe(raw, rc));
  }
  sqlite3_extended_result_codes(raw, 1);
  return db;
}

Status Database::exec(std::string_view sql) {
  const std::string text(sql);
  char* message = nullptr;
  const int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return {};
  std::string sentence = message != nullptr ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  sentence += " (SQLite code " + std::to_string(sqlite3_extended_errcode(db_.get())) + ")";
  return fail(errc_for(sqlite3_extended_errcode(db_.get())), std::move(sentence));
}

Result<Statement> Database::prepare(std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc =
      sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
  Statement stmt(db_.get(), raw);
  if (rc != SQLITE_OK) {
    return fail(errc_for(rc), "preparing \"" + std::string(sql) + "\": " + describe(db_.get(), rc));
  }
  if (raw == nullptr) {
    return fail(Errc::internal, "preparing \"" + std::string(sql) + "\": no statement in the text");
  }
  return stmt;
}

std::int64_t Database::changes() const noexcept {
  return sqlite3_changes64(db_.get());
}

bool Database::in_transaction() const noexcept {
  return sqlite3_get_autocommit(db_.get()) == 0;
}

std::string Database::errmsg() const {
  return sqlite3_errmsg(db_.get());
}

Statement& Statement::check_bind(int rc, int index) {
  if (rc != SQLITE_OK && !bind_error_) {
    bind_error_ = Error{errc_for(rc), "binding parameter " + std::to_string(index) + " of \"" +
                                          std::string(sql()) + "\": " + describe(db_, rc)};
  }
  return *this;
}

Statement& Statement::bind_int64(int index, std::int64_t value) {
  return check_bind(sqlite3_bind_int64(stmt_.get(), index, value), index);
}

Statement& Statement::bind_text(int index, std::string_view value) {
  // A default string_view has a null data pointer, which SQLite would bind as
  // NULL; "" keeps empty text empty.
  const char* data = value.data() != nullptr ? value.data() : "";
  return check_bind(
      sqlite3_bind_text64(stmt_.get(), index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
      index);
}

Statement& Statement::bind_blob(int index, ByteView value) {
  if (value.empty()) return check_bind(sqlite3_bind_zeroblob(stmt_.get(), index, 0), index);
  return check_bind(
      sqlite3_bind_blob64(stmt_.get(), index, value.data(), value.size(), SQLITE_TRANSIENT), index);
}

Statement& Statement::bind_null(int index) {
  return check_bind(sqlite3_bind_null(stmt_.get(), index), index);
}

Statement& Statement::bind_text_or_null(int index, std::string_view value) {
  return value.empty() ? bind_null(index) : bind_text(index, value);
}

Result<bool> Statement::step() {
  if (bind_error_) return fail(*bind_error_);
  const int rc = sqlite3_step(stmt_.get());
  last_code_ = rc == SQLITE_ROW || rc == SQLITE_DONE ? rc : sqlite3_extended_errcode(db_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return fail(errc_for(last_code_), describe(db_, last_code_));
}

Status Statement::run() {
  for (;;) {
    auto row = step();
    if (!row) return fail(row.error());
    if (!*row) return {};
  }
}

std::int64_t Statement::column_int64(int index) const noexcept {
  return sqlite3_column_int64(stmt_.get(), index);
}

std::string Statement::column_text(int index) const {
  const auto* text = sqlite3_column_text(stmt_.get(), index);
  if (text == nullptr) return {};
  const int size = sqlite3_column_bytes(stmt_.get(), index);
  return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}

Bytes Statement::column_blob(int index) const {
  const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_.get(), index));
  if (data == nullptr) return {};
  const int size = sqlite3_column_bytes(stmt_.get(), index);
  return Bytes(data, data + size);
}

bool Statement::column_is_null(int index) const noexcept {
  return sqlite3_column_type(stmt_.get(), index) == SQLITE_NULL;
}

void Statement::reset() noexcept {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
  bind_error_.reset();
  last_code_ = SQLITE_OK;
}

std::string_view Statement::sql() const noexcept {
  const char* text = sqlite3_sql(stmt_.get());
  return text != nullptr ? text : "";
}

}  // namespace smacert::store::sqlite

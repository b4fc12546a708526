#include "store/pg.h"

#include <poll.h>

#include <cstring>

namespace smacert::store::pg {
namespace {

// Type OIDs of the binary results read here (src/include/catalog/pg_type.dat).
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;

std::int64_t big_endian(const char* p, int size) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < size; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  // Sign-extend the narrower integer types.
  if (size < 8 && size > 0 && (static_cast<unsigned char>(p[0]) & 0x80))
    v |= ~std::uint64_t{0} << (8 * size);
  return static_cast<std::int64_t>(v);
}

std::string field(const PGresult* r, int code) {
  const char* f = PQresultErrorField(r, code);
  return f ? f : "";
}

// libpq's messages end in a newline and sometimes carry a second line.
std::string one_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  std::string out;
  for (char c : text) {
    if (c == '\n' || c == '\t') c = ' ';
    if (c == ' ' && !out.empty() && out.back() == ' ') continue;
    out += c;
  }
  return out;
}

}  // namespace

void ConnectionCloser::operator()(PGconn* conn) const noexcept {
  PQfinish(conn);
}

void ResultClearer::operator()(PGresult* result) const noexcept {
  PQclear(result);
}

Errc errc_for(std::string_view s) {
  if (s == "23505") return Errc::conflict;
  if (s.substr(0, 2) == "23" || s.substr(0, 2) == "22") return Errc::invalid_argument;
  if (is_retryable(s) || is_connection_loss(s)) return Errc::unavailable;
  if (s.substr(0, 2) == "53" || s == "55P03" || s == "57014") return Errc::unavailable;
  return Errc::internal;
}

bool is_retryable(std::string_view s) {
  return s == "40001" || s == "40P01";
}

bool is_connection_loss(std::string_view s) {
  return s.empty() || s.substr(0, 2) == "08" || s == "57P01" || s == "57P02" || s == "57P03";
}

// --- Params -------------------------------------------------------------------

Params& Params::text(std::string_view value) {
  values_.emplace_back(std::string(value));
  lengths_.push_back(0);
  formats_.push_back(0);
  return *this;
}

Params& Params::text_or_null(std::string_view value) {
  return value.empty() ? null() : text(value);
}

Params& Params::int64(std::int64_t value) {
  return text(std::to_string(value));
}

Params& Params::bytes(ByteView value) {
  values_.emplace_back(std::string(reinterpret_cast<const char*>(value.data()), value.size()));
  lengths_.push_back(static_cast<int>(value.size()));
  formats_.push_back(1);
  return *this;
}

Params& Params::null() {
  values_.emplace_back(std::nullopt);
  lengths_.push_back(0);
  formats_.push_back(0);
  return *this;
}

std::vector<const char*> Params::pointers() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  // A zero-length binary value still needs a non-null pointer, or libpq
  // sends NULL and a NOT NULL column refuses the empty bytea.
  for (const auto& v : values_) out.push_back(v ? v->c_str() : nullptr);
  return out;
}

// --- Rows ---------------------------------------------------------------------

int Rows::size() const noexcept {
  return PQntuples(result_.get());
}

std::int64_t Rows::affected() const noexcept {
  const char* n = PQcmdTuples(result_.get());
  return (n && *n) ? std::strtoll(n, nullptr, 10) : 0;
}

std::int64_t Rows::int64(int row, int column) const noexcept {
  if (PQgetisnull(result_.get(), row, column)) return 0;
  const char* p = PQgetvalue(result_.get(), row, column);
  const int size = PQgetlength(result_.get(), row, column);
  switch (PQftype(result_.get(), column)) {
    case kInt8Oid:
    case kInt4Oid:
    case kInt2Oid:
    case kBoolOid:
      return big_endian(p, size);
    default:  // numeric text in binary format is its digits
      return std::strtoll(std::string(p, static_cast<std::size_t>(size)).c_str(), nullptr, 10);
  }
}

std::string Rows::text(int row, int column) const {
  if (PQgetisnull(result_.get(), row, column)) return {};
  return std::string(PQgetvalue(result_.get(), row, column),
                     static_cast<std::size_t>(PQgetlength(result_.get(), row, column)));
}

Bytes Rows::bytes(int row, int column) const {
  if (PQgetisnull(result_.get(), row, column)) return {};
  const auto* p = reinterpret_cast<const std::uint8_t*>(PQgetvalue(result_.get(), row, column));
  return Bytes(p, p + PQgetlength(result_.get(), row, column));
}

bool Rows::is_null(int row, int column) const noexcept {
  return PQgetisnull(result_.get(), row, column) != 0;
}

// --- Connection -----------------------------------------------------------------

Result<Connection> Connection::open(const std::string& conninfo) {
  // Defaults first: with expand_dbname the conninfo is expanded in place of
  // "dbname", and a keyword given later wins, so the caller's own
  // connect_timeout or application_name overrides these.
  const char* keywords[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {"5", "smacert", conninfo.c_str(), nullptr};
  PGconn* raw = PQconnectdbParams(keywords, values, 1);
  if (raw == nullptr) return fail(Errc::internal, "libpq could not allocate a connection");
  Connection conn(raw);
  // NOTICEs ("relation … already exists, skipping") are not errors; libpq
  // would print them on stderr.
  PQsetNoticeProcessor(
      raw, [](void*, const char*) {}, nullptr);
  if (PQstatus(raw) != CONNECTION_OK) {
    return fail(Errc::unavailable, "connecting to PostgreSQL (" + redact_conninfo(conninfo) +
                                       "): " + one_line(PQerrorMessage(raw)));
  }
  // A role or database default must not change what the store relies on.
  if (auto set = conn.script("SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC';"); !set)
    return fail(set.error().error);
  return conn;
}

Failure Connection::failure_of(const PGresult* r, std::string_view sql) const {
  Failure f;
  f.sqlstate = r ? field(r, PG_DIAG_SQLSTATE) : "";
  f.constraint = r ? field(r, PG_DIAG_CONSTRAINT_NAME) : "";
  std::string primary = r ? field(r, PG_DIAG_MESSAGE_PRIMARY) : "";
  if (primary.empty()) primary = one_line(PQerrorMessage(conn_.get()));
  std::string text;
  // The same words as SQLite for the same violations, so that both stores
  // read alike; PostgreSQL's own sentence follows.
  if (f.sqlstate == "23505")
    text = "UNIQUE constraint failed: " + f.constraint + " (" + primary + ")";
  else if (f.sqlstate == "23514")
    text = "CHECK constraint failed: " + f.constraint + " (" + primary + ")";
  else if (f.sqlstate == "23503")
    text = "FOREIGN KEY constraint failed: " + f.constraint + " (" + primary + ")";
  else if (f.sqlstate == "23502")
    text = "NOT NULL constraint failed: " + field(r, PG_DIAG_COLUMN_NAME);
  else if (is_retryable(f.sqlstate))
    text = primary + "; the transaction lost a race with another one and may be run again";
  else if (f.sqlstate.empty())
    text = "the connection to PostgreSQL failed: " + primary;
  else
    text = primary;
  text += f.sqlstate.empty() ? "" : " (SQLSTATE " + f.sqlstate + ")";
  (void)sql;
  f.error = Error{errc_for(f.sqlstate), std::move(text)};
  return f;
}

tl::expected<Rows, Failure> Connection::run(std::string_view sql, const Params& params) {
  auto it = prepared_.find(std::string(sql));
  if (it == prepared_.end()) {
    std::string name = "s" + std::to_string(prepared_.size() + 1);
    std::unique_ptr<PGresult, ResultClearer> prep(
        PQprepare(conn_.get(), name.c_str(), std::string(sql).c_str(), params.size(), nullptr));
    if (!prep || PQresultStatus(prep.get()) != PGRES_COMMAND_OK)
      return tl::unexpected(failure_of(prep.get(), sql));
    it = prepared_.emplace(std::string(sql), std::move(name)).first;
  }
  auto pointers = params.pointers();
  PGresult* r = PQexecPrepared(conn_.get(), it->second.c_str(), params.size(), pointers.data(),
                               params.lengths().data(), params.formats().data(), 1);
  Rows rows(r);
  const auto status = PQresultStatus(r);
  if (r == nullptr || (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)) {
    return tl::unexpected(failure_of(r, sql));
  }
  return rows;
}

tl::expected<void, Failure> Connection::script(std::string_view sql) {
  std::unique_ptr<PGresult, ResultClearer> r(PQexec(conn_.get(), std::string(sql).c_str()));
  const auto status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
    return tl::unexpected(failure_of(r.get(), sql));
  return {};
}

bool Connection::ok() const noexcept {
  return conn_ && PQstatus(conn_.get()) == CONNECTION_OK;
}

PGTransactionStatusType Connection::transaction_status() const noexcept {
  return PQtransactionStatus(conn_.get());
}

Result<std::vector<std::string>> Connection::notifications(std::chrono::milliseconds timeout) {
  std::vector<std::string> out;
  auto drain = [&] {
    while (PGnotify* n = PQnotifies(conn_.get())) {
      out.emplace_back(n->extra ? n->extra : "");
      PQfreemem(n);
    }
  };
  drain();
  if (!out.empty()) return out;
  pollfd p{PQsocket(conn_.get()), POLLIN, 0};
  if (p.fd < 0) return fail(Errc::unavailable, "the PostgreSQL connection is closed");
  const int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (n < 0) return out;  // EINTR: the caller waits again
  if (n > 0 && (PQconsumeInput(conn_.get()) == 0 || PQstatus(conn_.get()) != CONNECTION_OK))
    return fail(Errc::unavailable,
                "the PostgreSQL connection broke: " + one_line(PQerrorMessage(conn_.get())));
  drain();
  return out;
}

std::string redact_conninfo(std::string_view conninfo) {
  char* err = nullptr;
  PQconninfoOption* options = PQconninfoParse(std::string(conninfo).c_str(), &err);
  if (options == nullptr) {
    PQfreemem(err);
    return "an unreadable connection string";
  }
  std::string out;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || std::strcmp(o->keyword, "password") == 0) continue;
    if (!out.empty()) out += ' ';
    out += o->keyword;
    out += '=';
    out += o->val;
  }
  PQconninfoFree(options);
  return out;
}

}  // namespace smacert::store::pg

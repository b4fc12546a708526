// A small RAII wrapper over libpq, written once like store/sqlite.h: a
// connection and every result live in unique_ptr with noexcept deleters, no
// PQfinish/PQclear appears outside pg.cpp, and errors are Result values whose
// sentence carries the server's message and SQLSTATE.
//
// Values always travel as parameters (PQexecPrepared), never inside SQL text:
// integers and text as text, bytea in binary. Results come back in binary
// format, so bytea needs no hex decoding and integers no parsing.
//
// Only src/store (and its tests) include this header.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/bytes.h"
#include "core/error.h"

namespace smacert::store::pg {

struct ConnectionCloser {
  void operator()(PGconn* conn) const noexcept;
};
struct ResultClearer {
  void operator()(PGresult* result) const noexcept;
};

// The project's code for a SQLSTATE: unique violations are conflicts, other
// integrity and data errors bad input, connection loss, shutdown, resource
// exhaustion and the two retryable states (40001 serialization_failure,
// 40P01 deadlock_detected) mean the store is unavailable.
Errc errc_for(std::string_view sqlstate);
// 40001 and 40P01: the transaction lost a race and may simply be run again.
bool is_retryable(std::string_view sqlstate);
// Class 08 (connection exception), 57P01-57P03 (shutdown), or no SQLSTATE at
// all (the client lost the server): the connection is no longer usable.
bool is_connection_loss(std::string_view sqlstate);

// Parameters for one statement. Empty text can be sent as NULL
// (text_or_null) for optional references and keys unique only when present.
class Params {
 public:
  Params& text(std::string_view value);
  Params& text_or_null(std::string_view value);
  Params& int64(std::int64_t value);
  Params& bytes(ByteView value);
  Params& null();

  int size() const { return static_cast<int>(values_.size()); }
  // Pointers into the stored values; valid until the next add.
  std::vector<const char*> pointers() const;
  const std::vector<int>& lengths() const { return lengths_; }
  const std::vector<int>& formats() const { return formats_; }

 private:
  std::vector<std::optional<std::string>> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

// The rows of a statement (binary format). Column getters read NULL as 0,
// "" or empty bytes.
class Rows {
 public:
  explicit Rows(PGresult* result) : result_(result) {}
  int size() const noexcept;
  bool empty() const noexcept { return size() == 0; }
  // Rows changed by an INSERT/UPDATE/DELETE.
  std::int64_t affected() const noexcept;
  std::int64_t int64(int row, int column) const noexcept;
  std::string text(int row, int column) const;
  Bytes bytes(int row, int column) const;
  bool is_null(int row, int column) const noexcept;

 private:
  std::unique_ptr<PGresult, ResultClearer> result_;
};

// A failed statement: what the server said and its SQLSTATE ("" when the
// client itself failed, e.g. the connection is gone).
struct Failure {
  Error error;
  std::string sqlstate;
  std::string constraint;  // the violated constraint's name, when there is one
};

class Connection {
 public:
  // `conninfo` is a libpq keyword/value string or a postgresql:// URI. A
  // connect_timeout of 5 s applies unless the conninfo sets its own.
  static Result<Connection> open(const std::string& conninfo);

  // One statement with parameters, prepared once per connection and SQL text.
  tl::expected<Rows, Failure> run(std::string_view sql, const Params& params = {});
  // One or more statements without parameters (BEGIN, SAVEPOINT, DDL scripts).
  tl::expected<void, Failure> script(std::string_view sql);

  bool ok() const noexcept;  // the connection is up
  PGTransactionStatusType transaction_status() const noexcept;
  PGconn* handle() const noexcept { return conn_.get(); }

  // Notifications (LISTEN): reads what has arrived, waiting up to `timeout`
  // for the socket; the channels' payloads in order. Errc::unavailable when
  // the connection broke.
  Result<std::vector<std::string>> notifications(std::chrono::milliseconds timeout);

 private:
  explicit Connection(PGconn* conn) : conn_(conn) {}
  Failure failure_of(const PGresult* result, std::string_view sql) const;

  std::unique_ptr<PGconn, ConnectionCloser> conn_;
  std::unordered_map<std::string, std::string> prepared_;  // SQL text → statement name
};

// What the user may see of a conninfo or URI: everything but a password.
std::string redact_conninfo(std::string_view conninfo);

}  // namespace smacert::store::pg

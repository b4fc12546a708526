// The embedded Store: one SQLite file in WAL mode.
//
// Threads: begin() may be called from any number of threads at once. Each
// Transaction owns its own connection, taken from a small pool (or opened
// when the pool is empty) and given back when the transaction ends, so no
// connection is ever used by two threads at a time. A single Transaction is
// not itself thread-safe: use it from one thread at a time.
//
// Writers serialise: begin() takes the database's write lock (BEGIN
// IMMEDIATE) and waits up to 5 s for it, then fails with Errc::unavailable.
// Group commit: writers that queue behind each other share one SQLite
// transaction, each in a savepoint, and one COMMIT (one fsync); commit()
// returns when that COMMIT is on disk, with its result. The fsync runs while
// the next group writes (SqliteWriter), so a reader may find a commit that
// is not yet on disk: begin_read() waits for it first.
// Corollary: a thread that holds a Transaction and calls begin() again waits
// for itself and gets Errc::unavailable after 5 s. begin_read() takes no
// write lock: in WAL mode a reader sees the last commit, and waits at most
// for that commit's fsync.
//
// A Transaction may outlive its SqliteStore; the pool stays alive until the
// last one ends.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>

#include "store/store.h"

namespace smacert::store {

class SqliteConnectionPool;
class SqliteWriter;

class SqliteStore final : public Store {
 public:
  // Creates the file if needed, switches it to WAL and brings the schema up
  // to date (store/migrations.h). Errc::conflict if the file's schema is newer
  // than this binary knows.
  //
  // `sync_log` puts the write-ahead log (db_file + "-wal") on disk after
  // each group commit; the default is sync_file_data (fdatasync). Tests pass
  // a slow or failing one.
  using SyncLog = std::function<Status(const std::filesystem::path& log)>;
  static Result<std::unique_ptr<SqliteStore>> open(const std::filesystem::path& db_file,
                                                   SyncLog sync_log = {});

  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  Result<std::unique_ptr<Transaction>> begin() override;
  Result<std::unique_ptr<Transaction>> begin_read() override;
  // Transactions committed, and the SQLite COMMITs (log syncs) that carried them.
  struct WriteStats {
    std::uint64_t transactions = 0, commits = 0;
  };
  WriteStats write_stats() const;
  int schema_version() const override { return schema_version_; }
  std::string_view kind() const override { return "sqlite"; }

 private:
  SqliteStore(std::shared_ptr<SqliteConnectionPool> pool, std::filesystem::path log,
              SyncLog sync_log, int schema_version);

  std::shared_ptr<SqliteConnectionPool> pool_;
  std::shared_ptr<SqliteWriter> writer_;
  int schema_version_;
};

}  // namespace smacert::store

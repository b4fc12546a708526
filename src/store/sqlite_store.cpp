#include "store/sqlite_store.h"

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/files.h"
#include "store/columns.h"
#include "store/migrations.h"
#include "store/rules.h"
#include "store/sqlite.h"

namespace smacert::store {

namespace {

// SQLITE_OPEN_NOMUTEX ("multi-thread" mode) is enough: a connection belongs
// to one Transaction at a time, and a Transaction to one thread at a time.
constexpr int kOpenFlags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;

// Per-connection settings (none of them is stored in the file):
// - busy_timeout: a writer waits up to 5 s for another's BEGIN IMMEDIATE to
//   finish instead of failing at once (https://www.sqlite.org/pragma.html#pragma_busy_timeout).
// - foreign_keys: off by default in SQLite, for compatibility with old
//   schemas (https://www.sqlite.org/foreignkeys.html#fk_enable).
// - synchronous=FULL: in WAL mode, NORMAL does not sync the WAL at commit, so
//   a commit acknowledged just before a power loss can roll back
//   (https://www.sqlite.org/pragma.html#pragma_synchronous). A reserved
//   serial, a revocation or an audit entry that someone was told about must
//   survive, so every commit syncs the WAL. The group commit's connection
//   alone runs at NORMAL and syncs the log itself, after letting the next
//   group in (SqliteWriter).
// - temp_store=MEMORY: statement and savepoint journals stay in memory. Every
//   member of a group commit is a SAVEPOINT, and each page it changes that an
//   earlier member had changed is first copied to the savepoint journal; as a
//   temporary file that was about 50 page writes per device change
//   (https://www.sqlite.org/tempfiles.html#stmtjrnl). They are undo records
//   for this connection only, never needed after a crash.
// - wal_autocheckpoint: the log is copied into the database after 8,000
//   pages (32 MiB) instead of 1,000. A checkpoint reads and writes each page
//   once however often it changed since the last one; with the default, a
//   device change cost 11 of those reads and writes, with 8,000 about 5.
constexpr std::string_view kConnectionPragmas =
    "PRAGMA busy_timeout = 5000;"
    "PRAGMA foreign_keys = ON;"
    "PRAGMA synchronous = FULL;"
    "PRAGMA temp_store = MEMORY;"
    "PRAGMA wal_autocheckpoint = 8000;";

struct SqlHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

Result<std::string> single_text(sqlite::Database& db, std::string_view sql) {
  auto stmt = db.prepare(sql);
  if (!stmt) return fail(stmt.error());
  auto row = stmt->step();
  if (!row) return fail(row.error());
  if (!*row) return fail(Errc::internal, "\"" + std::string(sql) + "\" returned no row");
  return stmt->column_text(0);
}

// The sentence for a violated PRIMARY KEY or UNIQUE constraint; SQLite's own
// words name columns, not what the caller did wrong.
Error on_duplicate(const Error& e, const sqlite::Statement& s, std::string_view primary_key,
                   std::string_view unique = {}) {
  if (s.last_code() == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return Error{Errc::conflict, std::string(primary_key)};
  }
  if (s.last_code() == SQLITE_CONSTRAINT_UNIQUE && !unique.empty()) {
    return Error{Errc::conflict, std::string(unique)};
  }
  return e;
}

// The current row of a stepped statement, as the readers of store/columns.h read it.
struct SqliteRow {
  const sqlite::Statement& s;
  std::string text(int column) const { return s.column_text(column); }
  std::int64_t int64(int column) const { return s.column_int64(column); }
  Bytes bytes(int column) const { return s.column_blob(column); }
};

template <class T, class Read>
Result<std::vector<T>> collect(sqlite::Statement& s, Read read) {
  std::vector<T> out;
  for (;;) {
    auto row = s.step();
    if (!row) return fail(row.error());
    if (!*row) return out;
    out.push_back(read(SqliteRow{s}));
  }
}

template <class T, class Read>
Result<std::optional<T>> first(sqlite::Statement& s, Read read) {
  auto row = s.step();
  if (!row) return fail(row.error());
  if (!*row) return std::optional<T>();
  return std::optional<T>(read(SqliteRow{s}));
}

}  // namespace

// A connection and the statements prepared on it; both are reused across
// transactions, so each SQL text is compiled once per connection.
class SqliteConnection {
 public:
  SqliteConnection(sqlite::Database db, bool reader) : db_(std::move(db)), reader_(reader) {}

  sqlite::Database& db() { return db_; }
  // A reader's connection is query_only for its whole life: toggling the
  // pragma would expire every statement prepared on it.
  bool reader() const { return reader_; }

  // The prepared statement for `sql`, reset and ready to bind. The pointer
  // stays valid for the connection's life (the map's nodes do not move).
  Result<sqlite::Statement*> statement(std::string_view sql) {
    if (auto it = statements_.find(sql); it != statements_.end()) {
      it->second.reset();
      return &it->second;
    }
    auto prepared = db_.prepare(sql);
    if (!prepared) return fail(prepared.error());
    auto [it, inserted] = statements_.emplace(std::string(sql), std::move(*prepared));
    return &it->second;
  }

  // Runs `sql` (one statement, no rows wanted: BEGIN, SAVEPOINT, COMMIT…),
  // compiled once like the others.
  Status run(std::string_view sql) {
    auto s = statement(sql);
    if (!s) return fail(s.error());
    return (*s)->run();
  }

  // Before COMMIT or ROLLBACK: no statement is left half-stepped, holding a
  // read cursor into the transaction that is ending.
  void reset_statements() noexcept {
    for (auto& [sql, stmt] : statements_) stmt.reset();
  }

 private:
  sqlite::Database db_;  // declared first: destroyed after the statements
  bool reader_;
  std::unordered_map<std::string, sqlite::Statement, SqlHash, std::equal_to<>> statements_;
};

class SqliteConnectionPool {
 public:
  explicit SqliteConnectionPool(std::filesystem::path file) : file_(std::move(file)) {
    idle_.reserve(kMaxIdle);  // so that release() never allocates
    idle_readers_.reserve(kMaxIdle);
  }

  static Result<std::unique_ptr<SqliteConnection>> connect(const std::filesystem::path& file,
                                                           bool reader = false) {
    auto db = sqlite::Database::open(file, kOpenFlags);
    if (!db) return fail(db.error());
    SMACERT_TRY_STATUS(db->exec(kConnectionPragmas));
    if (reader) SMACERT_TRY_STATUS(db->exec("PRAGMA query_only = 1"));
    // A build without foreign-key support ignores the pragma silently.
    auto fk = single_text(*db, "PRAGMA foreign_keys");
    if (!fk) return fail(fk.error());
    if (*fk != "1") {
      return fail(Errc::internal, "opening database " + file.string() +
                                      ": this SQLite does not enforce foreign keys");
    }
    return std::make_unique<SqliteConnection>(std::move(*db), reader);
  }

  Result<std::unique_ptr<SqliteConnection>> acquire(bool reader = false) {
    {
      std::lock_guard lock(mutex_);
      auto& idle = reader ? idle_readers_ : idle_;
      if (!idle.empty()) {
        auto conn = std::move(idle.back());
        idle.pop_back();
        return conn;
      }
    }
    // Opened outside the lock: opening touches the file and may wait.
    return connect(file_, reader);
  }

  // Takes back a connection that is not inside a transaction. Beyond
  // kMaxIdle idle connections, the extra one is closed.
  void release(std::unique_ptr<SqliteConnection> conn) noexcept {
    {
      std::lock_guard lock(mutex_);
      auto& idle = conn->reader() ? idle_readers_ : idle_;
      if (idle.size() < kMaxIdle) {
        idle.push_back(std::move(conn));
        return;
      }
    }
    // Closed outside the lock: the last close checkpoints the WAL.
    conn.reset();
  }

 private:
  static constexpr std::size_t kMaxIdle = 4;
  std::filesystem::path file_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<SqliteConnection>> idle_, idle_readers_;
};

// The writers of this process, and their group commit. Writers queue here
// before BEGIN IMMEDIATE: a waiting thread is woken the moment the writer
// before it is done, where SQLite's busy handler would poll with sleeps of
// 1-100 ms. Other processes still meet busy_timeout.
//
// Group commit: each writer's transaction is a SAVEPOINT ("member") inside
// one SQLite transaction on one connection. A member that commits while
// others wait releases its savepoint and hands the connection to the next;
// the last member of the group (no one waiting, or kMaxGroup reached)
// COMMITs for all, and every member's commit() returns that COMMIT's result
// once it is on disk; if the COMMIT fails, all of them fail. A member that
// rolls back undoes its savepoint only.
//
// The sync runs outside the writers' lock. The writer's connection runs at
// synchronous=NORMAL, so its COMMIT writes the log without syncing it; the
// committer then lets the next group in and syncs the log itself
// (fdatasync), while the next group runs its statements. That next group
// commits once the sync before it is done, so one sync is in flight at a
// time and the writers that arrive meanwhile share the next one. Nothing that
// was not on disk leaves: commit() returns after its group's sync; a member
// that rolls back, and every reader (begin_read), first waits for the syncs
// of every commit it might have read. A sync that fails stops this writer:
// what SQLite shows may then be lost, and only a restart (SQLite's recovery
// of the log) tells what is on disk.
class SqliteWriter {
 public:
  SqliteWriter(std::shared_ptr<SqliteConnectionPool> pool, std::filesystem::path log,
               SqliteStore::SyncLog sync)
      : pool_(std::move(pool)), log_(std::move(log)), sync_(std::move(sync)) {
    if (!sync_) sync_ = sync_file_data;
  }

  // Waits up to 5 s (as long as busy_timeout) for the connection, then
  // returns it inside the group's transaction, past this member's SAVEPOINT.
  Result<SqliteConnection*> enter() {
    std::unique_lock lock(mutex_);
    ++waiting_;
    const bool free = turn_.wait_for(lock, std::chrono::seconds(5), [&] { return !busy_; });
    --waiting_;
    if (!free)
      return fail(Errc::unavailable,
                  "beginning a transaction: the store stayed busy with another writer for 5 s");
    if (!stopped_.has_value()) return fail(stopped_.error());
    busy_ = true;
    lock.unlock();
    auto fail_entry = [&](Error e) -> Result<SqliteConnection*> {
      std::unique_lock again(mutex_);
      leave(again);
      return fail(std::move(e));
    };
    if (!group_) {
      if (!conn_) {
        auto conn = pool_->acquire();
        if (!conn) return fail_entry(conn.error().context("beginning a transaction"));
        // This connection's COMMITs leave the log unsynced: the group syncs
        // it after letting the next one in (commit_group). Never given back
        // to the pool, whose connections sync at every commit.
        if (auto normal = (*conn)->db().exec("PRAGMA synchronous = NORMAL"); !normal)
          return fail_entry(normal.error().context("beginning a transaction"));
        conn_ = std::move(*conn);
      }
      // IMMEDIATE takes the write lock now. A deferred transaction that reads
      // and then writes must upgrade its lock later, and in WAL mode that
      // upgrade fails at once with SQLITE_BUSY_SNAPSHOT if another writer
      // committed in between; busy_timeout cannot help
      // (https://www.sqlite.org/lang_transaction.html#deferred_immediate_and_exclusive_transactions).
      // Taking the lock first makes writers queue under busy_timeout instead,
      // and makes each read-then-write here (the audit chain's last hash,
      // consume_challenge, counters) atomic.
      if (auto began = conn_->run("BEGIN IMMEDIATE"); !began) {
        conn_.reset();  // in an unknown state: a fresh one next time
        return fail_entry(began.error().context("beginning a transaction"));
      }
      group_ = std::make_shared<Group>();
    }
    if (auto saved = conn_->run("SAVEPOINT member"); !saved) {
      lose_group(saved.error());
      return fail_entry(saved.error().context("beginning a transaction"));
    }
    // What this member may read: the earlier members of its group, and
    // every commit up to now.
    std::lock_guard again(mutex_);
    member_group_ = group_;
    member_saw_ = committed_;
    return conn_.get();
  }

  // This member's work joins the group; returns once the group is on disk.
  Status commit() {
    conn_->reset_statements();
    if (!conn_->db().in_transaction()) {
      Error e{Errc::internal,
              "committing: SQLite rolled the transaction back after an earlier error"};
      lose_group(e);
      std::unique_lock lock(mutex_);
      leave(lock);
      return fail(e);
    }
    if (auto released = conn_->run("RELEASE member"); !released) {
      lose_group(released.error());
      std::unique_lock lock(mutex_);
      leave(lock);
      return fail(released.error().context("committing"));
    }
    std::unique_lock lock(mutex_);
    auto group = group_;
    ++group->members;
    leave(lock);
    wait_for_commit(lock, group);
    return group->result;
  }

  // This member's work is undone; the group (earlier members) goes on. Returns
  // once whatever the member may have read is on disk, so that nothing it
  // answers from can vanish in a crash.
  void roll_back() noexcept {
    conn_->reset_statements();
    if (conn_->db().in_transaction()) {
      auto undone = conn_->run("ROLLBACK TO member");
      if (undone) undone = conn_->run("RELEASE member");
      if (!undone) lose_group(undone.error());
    } else {
      lose_group(Error{Errc::internal, "SQLite rolled the transaction back after an error"});
    }
    std::unique_lock lock(mutex_);
    auto group = std::move(member_group_);
    const std::uint64_t saw = member_saw_;
    leave(lock);
    if (group && group->members > 0) wait_for_commit(lock, group);
    wait_until_durable(lock, saw);
  }

  // For a reader whose snapshot is taken: returns once every commit it may
  // see is on disk (or the writer stopped).
  void wait_until_durable() {
    std::unique_lock lock(mutex_);
    wait_until_durable(lock, committed_);
  }

  // The counters as the open group's earlier members left them; for the
  // member that is busy_ only.
  std::unordered_map<std::string, std::int64_t>& group_counters() {
    return member_group_->counters;
  }

  // Transactions committed, and the COMMITs (syncs) that carried them.
  SqliteStore::WriteStats stats() const {
    return {stats_.transactions.load(), stats_.commits.load()};
  }

 private:
  struct Group {
    int members = 0;  // committed savepoints waiting for the COMMIT
    // The counters as the members so far left them (next_counter).
    std::unordered_map<std::string, std::int64_t> counters;
    bool done = false;
    Status result;
  };
  static constexpr int kMaxGroup = 16;

  // The member holding the connection is done with it: hand it to a waiting
  // writer while the group may grow, else commit the group, unless a sync is
  // in flight (the group then commits when it is done, wait_for_commit).
  // Called with busy_ set and the lock held; returns with busy_ clear.
  void leave(std::unique_lock<std::mutex>& lock) {
    member_group_.reset();
    if (group_ && !syncing_ && (waiting_ == 0 || group_->members >= kMaxGroup)) {
      commit_group(lock);
      return;
    }
    busy_ = false;
    turn_.notify_all();
  }

  // Returns once commit `number` and every one before it is on disk, or the
  // writer stopped (lock held).
  void wait_until_durable(std::unique_lock<std::mutex>& lock, std::uint64_t number) {
    turn_.wait(lock, [&] { return durable_ >= number || !stopped_.has_value(); });
  }

  // Waits for `group` to be done, committing it when its turn comes and
  // nobody else does: the sync before it ended while no writer held the
  // connection.
  void wait_for_commit(std::unique_lock<std::mutex>& lock, const std::shared_ptr<Group>& group) {
    for (;;) {
      turn_.wait(lock, [&] { return group->done || (group_ == group && !busy_ && !syncing_); });
      if (group->done) return;
      busy_ = true;
      commit_group(lock);
    }
  }

  // COMMIT the open group (busy_ held, lock held), let the next group in,
  // sync the log, then tell the members. Returns with busy_ clear.
  void commit_group(std::unique_lock<std::mutex>& lock) {
    auto group = std::move(group_);
    const std::uint64_t number = ++committed_;  // before anyone can see it
    lock.unlock();
    Status result;
    if (conn_ && conn_->db().in_transaction()) {
      if (group->members > 0) {
        result = conn_->run("COMMIT");
        if (!result) result = fail(result.error().context("committing"));
      }
      if (conn_->db().in_transaction() && !conn_->db().exec("ROLLBACK")) conn_.reset();
    } else if (group->members > 0) {
      result = fail(Errc::internal, "committing: SQLite rolled the transaction back");
    }
    lock.lock();
    busy_ = false;
    if (result.has_value() && group->members > 0) {
      syncing_ = true;
      turn_.notify_all();  // the next group may run its statements now
      lock.unlock();
      Status synced = sync_(log_);
      lock.lock();
      syncing_ = false;
      stats_.commits.fetch_add(1, std::memory_order_relaxed);
      stats_.transactions.fetch_add(static_cast<std::uint64_t>(group->members),
                                    std::memory_order_relaxed);
      if (!synced) {
        result = fail(synced.error().context("committing: syncing the log"));
        stopped_ =
            fail(Errc::io, "the store could not put a commit on disk (" + synced.error().message +
                               "); restart smacert so that SQLite recovers what is on disk");
      }
    }
    durable_ = number;
    group->result = std::move(result);
    group->done = true;
    turn_.notify_all();
    // A group whose members all rolled back during the sync holds SQLite's
    // write lock with nobody to end it: end it now.
    if (group_ && group_->members == 0 && !busy_) {
      busy_ = true;
      commit_group(lock);
    }
  }

  // The SQLite transaction is lost (an error ended it or left it unusable):
  // the members already in it fail with `e`, and a new group starts next.
  void lose_group(const Error& e) noexcept {
    if (!group_) return;
    if (conn_ && conn_->db().in_transaction() && !conn_->db().exec("ROLLBACK")) conn_.reset();
    std::lock_guard lock(mutex_);
    group_->result = fail(e.context("committing"));
    group_->done = true;
    group_.reset();
    turn_.notify_all();
  }

  std::shared_ptr<SqliteConnectionPool> pool_;
  const std::filesystem::path log_;  // the write-ahead log
  SqliteStore::SyncLog sync_;
  std::mutex mutex_;
  std::condition_variable turn_;
  int waiting_ = 0;
  bool busy_ = false;                       // a member (or a committer) uses conn_
  bool syncing_ = false;                    // a committed group's sync is in flight
  std::unique_ptr<SqliteConnection> conn_;  // used by whoever is busy_
  std::shared_ptr<Group> group_;            // the open SQLite transaction, if any
  // The member that is busy_: its group, and the commits it may have read.
  std::shared_ptr<Group> member_group_;
  std::uint64_t member_saw_ = 0;
  // COMMITs begun, and the last whose sync ended: every commit up to
  // durable_ is on disk (or stopped_ says why not).
  std::uint64_t committed_ = 0, durable_ = 0;
  Status stopped_;
  struct {
    std::atomic<std::uint64_t> transactions{0}, commits{0};
  } stats_;
};

namespace {

class SqliteTransaction final : public Transaction {
 public:
  // A writer's: a member of the writer's group, on its connection.
  SqliteTransaction(std::shared_ptr<SqliteWriter> writer, SqliteConnection* conn)
      : writer_(std::move(writer)), conn_(conn) {}
  // A reader's: a connection of its own, given back to the pool at the end.
  SqliteTransaction(std::shared_ptr<SqliteConnectionPool> pool,
                    std::unique_ptr<SqliteConnection> conn)
      : pool_(std::move(pool)), owned_(std::move(conn)), conn_(owned_.get()) {}

  ~SqliteTransaction() override { finish(); }

  Status commit() override {
    if (!conn_) return fail(Errc::internal, "committing: the transaction has already ended");
    if (writer_) {
      if (auto written = write_counters(); !written) {
        finish();
        return fail(written.error().context("committing"));
      }
      conn_ = nullptr;
      return writer_->commit();
    }
    sqlite::Database& db = conn_->db();
    if (!db.in_transaction()) {
      finish();
      return fail(Errc::internal,
                  "committing: SQLite rolled the transaction back after an earlier error");
    }
    conn_->reset_statements();
    if (auto done = conn_->run("COMMIT"); !done) {
      finish();  // rolls back if SQLite kept the transaction open
      return fail(done.error().context("committing"));
    }
    finish();
    return {};
  }

  // Holders and cards

  // BEGIN IMMEDIATE already made this transaction the only writer.
  Status lock_holder(const std::string&) override { return {}; }

  Status insert_holder(const HolderRecord& h) override {
    const std::string doing = "inserting holder " + h.id;
    auto s = statement(
        "INSERT INTO holders (id, name, address, birth_date, sex, created_at, updated_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!s) return fail(s.error().context(doing));
    auto done = (*s)->bind_text(1, h.id)
                    .bind_text(2, h.name)
                    .bind_text(3, h.address)
                    .bind_text(4, h.birth_date)
                    .bind_int64(5, h.sex)
                    .bind_int64(6, h.created_at)
                    .bind_int64(7, h.updated_at)
                    .run();
    if (!done) return fail(on_duplicate(done.error(), **s, "holder already exists").context(doing));
    return {};
  }

  Status update_holder(const HolderRecord& h) override {
    auto s = statement(
        "UPDATE holders SET name = ?2, address = ?3, birth_date = ?4, sex = ?5, updated_at = ?6"
        " WHERE id = ?1");
    return changed_one(
        s,
        [&](sqlite::Statement& st) -> sqlite::Statement& {
          return st.bind_text(1, h.id)
              .bind_text(2, h.name)
              .bind_text(3, h.address)
              .bind_text(4, h.birth_date)
              .bind_int64(5, h.sex)
              .bind_int64(6, h.updated_at);
        },
        "updating holder " + h.id, "no such holder");
  }

  Result<std::optional<HolderRecord>> find_holder(const std::string& id) override {
    static const std::string sql =
        "SELECT " + std::string(kHolderColumns) + " FROM holders WHERE id = ?1";
    return find_one<HolderRecord>(sql, id, read_holder, "reading holder " + id);
  }

  Status insert_card(const CardRecord& c) override {
    const std::string doing = "inserting card " + c.id;
    auto s =
        statement("INSERT INTO cards (id, holder_id, status, created_at) VALUES (?1, ?2, ?3, ?4)");
    if (!s) return fail(s.error().context(doing));
    auto done = (*s)->bind_text(1, c.id)
                    .bind_text_or_null(2, c.holder_id)
                    .bind_text(3, c.status)
                    .bind_int64(4, c.created_at)
                    .run();
    if (!done) return fail(on_duplicate(done.error(), **s, "card already exists").context(doing));
    return {};
  }

  Status set_card_status(const std::string& id, const std::string& status) override {
    auto s = statement("UPDATE cards SET status = ?2 WHERE id = ?1");
    return changed_one(
        s,
        [&](sqlite::Statement& st) -> sqlite::Statement& {
          return st.bind_text(1, id).bind_text(2, status);
        },
        "setting the status of card " + id, "no such card");
  }

  Result<std::optional<CardRecord>> find_card(const std::string& id) override {
    static const std::string sql =
        "SELECT " + std::string(kCardColumns) + " FROM cards WHERE id = ?1";
    return find_one<CardRecord>(sql, id, read_card, "reading card " + id);
  }

  // Devices

  Status insert_device(const DeviceRecord& d) override {
    const std::string doing = "inserting device " + d.id;
    auto s = statement(
        "INSERT INTO devices (id, holder_id, platform, model, status, created_at, token_hash)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!s) return fail(s.error().context(doing));
    auto done = (*s)->bind_text(1, d.id)
                    .bind_text_or_null(2, d.holder_id)
                    .bind_text(3, d.platform)
                    .bind_text(4, d.model)
                    .bind_text(5, d.status)
                    .bind_int64(6, d.created_at)
                    .bind_text(7, d.token_hash)
                    .run();
    if (!done) return fail(on_duplicate(done.error(), **s, "device already exists").context(doing));
    return {};
  }

  Status update_device(const DeviceRecord& d) override {
    auto s = statement(
        "UPDATE devices SET holder_id = ?2, platform = ?3, model = ?4, status = ?5,"
        " token_hash = ?6 WHERE id = ?1");
    return changed_one(
        s,
        [&](sqlite::Statement& st) -> sqlite::Statement& {
          return st.bind_text(1, d.id)
              .bind_text_or_null(2, d.holder_id)
              .bind_text(3, d.platform)
              .bind_text(4, d.model)
              .bind_text(5, d.status)
              .bind_text(6, d.token_hash);
        },
        "updating device " + d.id, "no such device");
  }

  Result<std::optional<DeviceRecord>> find_device(const std::string& id) override {
    static const std::string sql =
        "SELECT " + std::string(kDeviceColumns) + " FROM devices WHERE id = ?1";
    return find_one<DeviceRecord>(sql, id, read_device, "reading device " + id);
  }

  // Certificates

  // The row starts "pending" with no DER and no OCSP response whatever the
  // record says: those exist only once the certificate has been signed. A
  // reserved serial is no change (change_seq 0) until store_issued().
  Status reserve_serial(const CertificateRecord& c) override {
    return insert_certificate(reservation(c), 0, "inserting certificate " + c.serial);
  }

  Status store_issued(const CertificateRecord& c) override {
    const std::string doing = "storing issued certificate " + c.serial;
    SMACERT_TRY_STATUS(check_issued(c, doing));
    auto s = statement(
        "UPDATE certificates SET der = ?2, not_before = ?3, not_after = ?4, issued_at = ?5,"
        " ocsp_response = ?6, ocsp_next_update = ?7, status = ?8, change_seq = ?9"
        " WHERE serial = ?1 AND length(der) = 0");
    if (!s) return fail(s.error().context(doing));
    auto change = next_counter("certificate_change");
    if (!change) return fail(change.error().context(doing));
    auto done = (*s)->bind_text(1, c.serial)
                    .bind_blob(2, c.der)
                    .bind_int64(3, c.not_before)
                    .bind_int64(4, c.not_after)
                    .bind_int64(5, c.issued_at)
                    .bind_blob(6, c.ocsp_response)
                    .bind_int64(7, c.ocsp_next_update)
                    .bind_text(8, c.status)
                    .bind_int64(9, *change)
                    .run();
    if (!done) return fail(done.error().context(doing));
    if (conn_->db().changes() == 1) return {};
    // Nothing changed: either never reserved, or signed once already.
    return explain_not_issued(find_certificate(c.serial), doing);
  }

  Status insert_issued(const CertificateRecord& c) override {
    const std::string doing = "inserting issued certificate " + c.serial;
    SMACERT_TRY_STATUS(check_issued(c, doing));
    auto change = next_counter("certificate_change");
    if (!change) return fail(change.error().context(doing));
    return insert_certificate(c, *change, doing);
  }

  Status set_certificate_status(const std::string& serial, const std::string& from,
                                const std::string& status, int reason, long long at,
                                const Bytes& ocsp_response, long long ocsp_next_update) override {
    const std::string doing = "setting the status of certificate " + serial;
    auto s = statement(
        "UPDATE certificates SET status = ?2, revocation_reason = ?3, revoked_at = ?4,"
        " ocsp_response = ?5, ocsp_next_update = ?6, change_seq = ?7"
        " WHERE serial = ?1 AND status = ?8");
    if (!s) return fail(s.error().context(doing));
    auto change = next_counter("certificate_change");
    if (!change) return fail(change.error().context(doing));
    auto done = (*s)->bind_text(1, serial)
                    .bind_text(2, status)
                    .bind_int64(3, reason)
                    .bind_int64(4, at)
                    .bind_blob(5, ocsp_response)
                    .bind_int64(6, ocsp_next_update)
                    .bind_int64(7, *change)
                    .bind_text(8, from)
                    .run();
    if (!done) return fail(done.error().context(doing));
    if (conn_->db().changes() == 1) return {};
    return status_moved(find_certificate(serial), from, doing);
  }

  Status set_ocsp_response(const std::string& serial, const Bytes& ocsp_response,
                           long long ocsp_next_update) override {
    auto s = statement(
        "UPDATE certificates SET ocsp_response = ?2, ocsp_next_update = ?3, change_seq = ?4"
        " WHERE serial = ?1");
    auto change = next_counter("certificate_change");
    if (!change)
      return fail(change.error().context("storing the OCSP response of certificate " + serial));
    return changed_one(
        s,
        [&](sqlite::Statement& st) -> sqlite::Statement& {
          return st.bind_text(1, serial)
              .bind_blob(2, ocsp_response)
              .bind_int64(3, ocsp_next_update)
              .bind_int64(4, *change);
        },
        "storing the OCSP response of certificate " + serial, "no such certificate");
  }

  Result<std::optional<CertificateRecord>> find_certificate(const std::string& serial) override {
    static const std::string sql = select_certificates("WHERE serial = ?1", true);
    return find_one<CertificateRecord>(sql, serial, read_full_certificate,
                                       "reading certificate " + serial);
  }

  Result<std::vector<CertificateRecord>> certificates_of_holder(
      const std::string& holder_id) override {
    static const std::string sql =
        select_certificates("WHERE holder_id = ?1 ORDER BY issued_at, serial", true);
    return find_all<CertificateRecord>(sql, holder_id, read_full_certificate,
                                       "reading the certificates of holder " + holder_id);
  }

  Result<std::vector<CertificateRecord>> certificates_of_device(
      const std::string& device_id) override {
    static const std::string sql =
        select_certificates("WHERE device_id = ?1 ORDER BY issued_at, serial", true);
    return find_all<CertificateRecord>(sql, device_id, read_full_certificate,
                                       "reading the certificates of device " + device_id);
  }

  // The condition on status is the partial index's own (migration 6), word
  // for word, so that the index serves it
  // (https://www.sqlite.org/partialindex.html#queries_using_partial_indexes).
  Result<std::vector<CertificateRecord>> revoked_certificates(const std::string& ca) override {
    static const std::string sql = select_certificates(
        "WHERE ca = ?1 AND status IN ('revoked', 'suspended') ORDER BY serial", true);
    return find_all<CertificateRecord>(sql, ca, read_full_certificate,
                                       "reading the revoked certificates of CA " + ca);
  }

  // Every column but der (the bulk load stays light; the status and
  // revocation fields are small and saved a second query).
  Result<std::vector<CertificateRecord>> ocsp_responses(const std::string& ca) override {
    static const std::string sql =
        select_certificates("WHERE ca = ?1 AND length(ocsp_response) > 0", false);
    return find_all<CertificateRecord>(sql, ca, read_light_certificate,
                                       "reading the OCSP responses of CA " + ca);
  }

  Result<std::vector<CertificateRecord>> ocsp_responses_expiring(long long before,
                                                                 int limit) override {
    const std::string doing = "reading the OCSP responses to refresh";
    if (auto ok = check_limit(limit); !ok) return fail(ok.error().context(doing));
    static const std::string sql = select_certificates(
        "WHERE ocsp_next_update < ?1 AND length(ocsp_response) > 0"
        " ORDER BY ocsp_next_update, serial LIMIT ?2",
        false);
    auto s = statement(sql);
    if (!s) return fail(s.error().context(doing));
    (*s)->bind_int64(1, before).bind_int64(2, limit);
    auto rows = collect<CertificateRecord>(**s, read_light_certificate);
    if (!rows) return fail(rows.error().context(doing));
    return rows;
  }

  Result<std::vector<CertificateRecord>> certificate_changes(std::int64_t after,
                                                             int limit) override {
    const std::string doing = "reading certificate changes";
    if (auto ok = check_limit(limit); !ok) return fail(ok.error().context(doing));
    static const std::string sql =
        select_certificates("WHERE change_seq > ?1 ORDER BY change_seq LIMIT ?2", false);
    auto s = statement(sql);
    if (!s) return fail(s.error().context(doing));
    (*s)->bind_int64(1, after).bind_int64(2, limit);
    auto rows = collect<CertificateRecord>(**s, read_light_certificate);
    if (!rows) return fail(rows.error().context(doing));
    return rows;
  }

  // Applications

  Status insert_application(const ApplicationRecord& a) override {
    const std::string doing = "inserting application " + a.id;
    auto s = statement(
        "INSERT INTO applications (id, kind, holder_id, device_id, status, idempotency_key,"
        " request_hash, payload, created_at, ready_at, updated_at, accepted_seq)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
    if (!s) return fail(s.error().context(doing));
    auto seq = next_counter("application");
    if (!seq) return fail(seq.error().context(doing));
    auto done = bind_application(**s, a).bind_int64(12, *seq).run();
    if (!done) {
      return fail(on_duplicate(done.error(), **s, "application already exists",
                               "the idempotency key belongs to another application")
                      .context(doing));
    }
    return {};
  }

  // created_at (?9) is bound by the shared binder but never rewritten;
  // SQLite accepts an unused numbered parameter.
  Status update_application(const ApplicationRecord& a) override {
    auto s = statement(
        "UPDATE applications SET kind = ?2, holder_id = ?3, device_id = ?4, status = ?5,"
        " idempotency_key = ?6, request_hash = ?7, payload = ?8, ready_at = ?10,"
        " updated_at = ?11 WHERE id = ?1");
    const std::string doing = "updating application " + a.id;
    if (!s) return fail(s.error().context(doing));
    auto done = bind_application(**s, a).run();
    if (!done) {
      return fail(on_duplicate(done.error(), **s, "application already exists",
                               "the idempotency key belongs to another application")
                      .context(doing));
    }
    if (conn_->db().changes() == 0) return fail(Errc::not_found, doing + ": no such application");
    return {};
  }

  Result<std::optional<ApplicationRecord>> find_application(const std::string& id) override {
    static const std::string sql = select_applications("WHERE id = ?1");
    return find_one<ApplicationRecord>(sql, id, read_application, "reading application " + id);
  }

  Result<std::optional<ApplicationRecord>> find_application_by_idempotency_key(
      const std::string& key) override {
    // An empty key is stored as NULL, which matches nothing.
    if (key.empty()) return std::optional<ApplicationRecord>();
    static const std::string sql = select_applications("WHERE idempotency_key = ?1");
    return find_one<ApplicationRecord>(sql, key, read_application,
                                       "reading the application with an idempotency key");
  }

  Result<std::vector<ApplicationRecord>> applications_waiting(long long ready_before) override {
    const std::string doing = "reading the waiting applications";
    static const std::string sql = select_applications(
        "WHERE status = 'waiting' AND ready_at <= ?1 ORDER BY ready_at, accepted_seq");
    auto s = statement(sql);
    if (!s) return fail(s.error().context(doing));
    (*s)->bind_int64(1, ready_before);
    auto rows = collect<ApplicationRecord>(**s, read_application);
    if (!rows) return fail(rows.error().context(doing));
    return rows;
  }

  // Challenges

  Status insert_challenge(const ChallengeRecord& c) override {
    const std::string doing = "inserting a challenge";
    auto s = statement(
        "INSERT INTO challenges (nonce, purpose, subject, expires_at, used_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!s) return fail(s.error().context(doing));
    auto done = (*s)->bind_text(1, c.nonce)
                    .bind_text(2, c.purpose)
                    .bind_text(3, c.subject)
                    .bind_int64(4, c.expires_at)
                    .bind_int64(5, c.used_at)
                    .run();
    if (!done) return fail(on_duplicate(done.error(), **s, "nonce already exists").context(doing));
    return {};
  }

  // Marked in one statement when it may be used; otherwise read again to
  // say why not (judge_challenge).
  Result<ChallengeRecord> consume_challenge(const std::string& nonce, const std::string& purpose,
                                            long long now) override {
    const std::string doing = "consuming a challenge";
    static const std::string mark =
        "UPDATE challenges SET used_at = ?2 WHERE nonce = ?1"
        " AND purpose = ?3 AND used_at = 0 AND expires_at > ?2"
        " RETURNING " +
        std::string(kChallengeColumns);
    auto s = statement(mark);
    if (!s) return fail(s.error().context(doing));
    (*s)->bind_text(1, nonce).bind_int64(2, now).bind_text(3, purpose);
    auto marked = first<ChallengeRecord>(**s, read_challenge);
    if (!marked) return fail(marked.error().context(doing));
    if (auto done = (*s)->run(); !done) return fail(done.error().context(doing));
    if (*marked) return std::move(**marked);
    static const std::string sql =
        "SELECT " + std::string(kChallengeColumns) + " FROM challenges WHERE nonce = ?1";
    auto found = find_one<ChallengeRecord>(sql, nonce, read_challenge, doing);
    if (!found) return fail(found.error());
    auto judged = judge_challenge(std::move(*found), purpose, now);
    if (!judged) return fail(judged.error());
    return fail(Errc::internal, doing + ": it could be used but was not marked");
  }

  // Used challenges stay until they expire, so that a replay is told
  // "already used" rather than "unknown".
  Status delete_expired_challenges(long long now) override {
    auto s = statement("DELETE FROM challenges WHERE expires_at <= ?1");
    if (!s) return fail(s.error().context("deleting expired challenges"));
    if (auto done = (*s)->bind_int64(1, now).run(); !done) {
      return fail(done.error().context("deleting expired challenges"));
    }
    return {};
  }

  // Event outbox

  Result<std::int64_t> enqueue_event(const EventRecord& e) override {
    const std::string doing = "enqueueing a " + e.type + " event for device " + e.device_id;
    auto seq = next_counter("event");
    if (!seq) return fail(seq.error().context(doing));
    auto s = statement(
        "INSERT INTO events (seq, device_id, type, payload, created_at, acked_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, 0)");
    if (!s) return fail(s.error().context(doing));
    auto done = (*s)->bind_int64(1, *seq)
                    .bind_text(2, e.device_id)
                    .bind_text(3, e.type)
                    .bind_text(4, e.payload)
                    .bind_int64(5, e.created_at)
                    .run();
    if (!done) return fail(done.error().context(doing));
    return *seq;
  }

  Result<std::vector<EventRecord>> events_after(const std::string& device_id,
                                                std::int64_t after_seq, int limit) override {
    const std::string doing = "reading the events of device " + device_id;
    if (auto ok = check_limit(limit); !ok) return fail(ok.error().context(doing));
    static const std::string sql = "SELECT " + std::string(kEventColumns) +
                                   " FROM events WHERE device_id = ?1 AND seq > ?2"
                                   " ORDER BY seq LIMIT ?3";
    auto s = statement(sql);
    if (!s) return fail(s.error().context(doing));
    (*s)->bind_text(1, device_id).bind_int64(2, after_seq).bind_int64(3, limit);
    auto rows = collect<EventRecord>(**s, read_event);
    if (!rows) return fail(rows.error().context(doing));
    return rows;
  }

  Status ack_events(const std::string& device_id, std::int64_t up_to_seq, long long at) override {
    const std::string doing = "acknowledging the events of device " + device_id;
    auto s = statement(
        "UPDATE events SET acked_at = ?3 WHERE device_id = ?1 AND seq <= ?2 AND acked_at = 0");
    if (!s) return fail(s.error().context(doing));
    if (auto done = (*s)->bind_text(1, device_id).bind_int64(2, up_to_seq).bind_int64(3, at).run();
        !done) {
      return fail(done.error().context(doing));
    }
    return {};
  }

  Result<std::vector<EventRecord>> events_since(std::int64_t after_seq, int limit) override {
    const std::string doing = "reading the events of every device";
    if (auto ok = check_limit(limit); !ok) return fail(ok.error().context(doing));
    static const std::string sql = "SELECT " + std::string(kEventColumns) +
                                   " FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2";
    auto s = statement(sql);
    if (!s) return fail(s.error().context(doing));
    (*s)->bind_int64(1, after_seq).bind_int64(2, limit);
    auto rows = collect<EventRecord>(**s, read_event);
    if (!rows) return fail(rows.error().context(doing));
    return rows;
  }

  // Audit log

  Result<AuditEntry> append_audit(const AuditEntry& e) override {
    const std::string doing = "appending audit entry " + e.action;
    if (!audit_tail_) {
      auto last = statement("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
      if (!last) return fail(last.error().context(doing));
      auto tail = first<AuditTail>(**last, read_audit_tail);
      if (!tail) return fail(tail.error().context(doing));
      audit_tail_ = std::move(*tail);  // an empty log: nullopt inside
    }
    auto chained = chain_audit(e, *audit_tail_, doing);
    if (!chained) return fail(chained.error());
    const AuditEntry& out = *chained;
    auto s = statement(
        "INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!s) return fail(s.error().context(doing));
    auto done = (*s)->bind_int64(1, out.seq)
                    .bind_int64(2, out.at)
                    .bind_text(3, out.actor)
                    .bind_text(4, out.action)
                    .bind_text(5, out.subject)
                    .bind_text(6, out.details)
                    .bind_text(7, out.prev_hash)
                    .bind_text(8, out.hash)
                    .run();
    if (!done) return fail(done.error().context(doing));
    audit_tail_ = std::optional<AuditTail>(AuditTail{out.seq, out.hash});
    return out;
  }

  Result<std::vector<AuditEntry>> audit_entries(std::int64_t after_seq, int limit) override {
    const std::string doing = "reading audit entries";
    if (auto ok = check_limit(limit); !ok) return fail(ok.error().context(doing));
    static const std::string sql = "SELECT " + std::string(kAuditColumns) +
                                   " FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2";
    auto s = statement(sql);
    if (!s) return fail(s.error().context(doing));
    (*s)->bind_int64(1, after_seq).bind_int64(2, limit);
    auto rows = collect<AuditEntry>(**s, read_audit);
    if (!rows) return fail(rows.error().context(doing));
    return rows;
  }

  Result<std::int64_t> next_crl_number(const std::string& ca) override {
    auto n = next_counter("crl:" + ca);
    if (!n) return fail(n.error().context("drawing the next CRL number of CA " + ca));
    return n;
  }

 private:
  // Every statement goes through here, which is also where a finished
  // transaction refuses further work (its connection is back in the pool).
  Result<sqlite::Statement*> statement(std::string_view sql) {
    if (!conn_) return fail(Errc::internal, "the transaction has already ended");
    return conn_->statement(sql);
  }

  // One certificate row as `c` says (revocation fields cleared); a taken
  // serial is Errc::conflict.
  Status insert_certificate(const CertificateRecord& c, std::int64_t change_seq,
                            const std::string& doing) {
    auto s = statement(
        "INSERT INTO certificates (serial, ca, kind, holder_id, card_id, device_id,"
        " application_id, status, revocation_reason, revoked_at, not_before, not_after,"
        " issued_at, der, ocsp_response, ocsp_next_update, change_seq)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, -1, 0, ?9, ?10, ?11, ?12, ?13, ?14, ?15)");
    if (!s) return fail(s.error().context(doing));
    auto done = (*s)->bind_text(1, c.serial)
                    .bind_text(2, c.ca)
                    .bind_text(3, c.kind)
                    .bind_text_or_null(4, c.holder_id)
                    .bind_text_or_null(5, c.card_id)
                    .bind_text_or_null(6, c.device_id)
                    .bind_text_or_null(7, c.application_id)
                    .bind_text(8, c.status)
                    .bind_int64(9, c.not_before)
                    .bind_int64(10, c.not_after)
                    .bind_int64(11, c.issued_at)
                    .bind_blob(12, c.der)
                    .bind_blob(13, c.ocsp_response)
                    .bind_int64(14, c.ocsp_next_update)
                    .bind_int64(15, change_seq)
                    .run();
    if (!done) return fail(on_duplicate(done.error(), **s, "serial already exists").context(doing));
    return {};
  }

  // UPDATE of one row by key: Errc::not_found when the key matches nothing.
  template <class Bind>
  Status changed_one(Result<sqlite::Statement*>& s, Bind bind, const std::string& doing,
                     std::string_view missing) {
    if (!s) return fail(s.error().context(doing));
    if (auto done = bind(**s).run(); !done) return fail(done.error().context(doing));
    if (conn_->db().changes() == 0)
      return fail(Errc::not_found, doing + ": " + std::string(missing));
    return {};
  }

  template <class T, class Read>
  Result<std::optional<T>> find_one(std::string_view sql, const std::string& key, Read read,
                                    const std::string& doing) {
    auto s = statement(sql);
    if (!s) return fail(s.error().context(doing));
    (*s)->bind_text(1, key);
    auto found = first<T>(**s, read);
    if (!found) return fail(found.error().context(doing));
    return found;
  }

  template <class T, class Read>
  Result<std::vector<T>> find_all(std::string_view sql, const std::string& key, Read read,
                                  const std::string& doing) {
    auto s = statement(sql);
    if (!s) return fail(s.error().context(doing));
    (*s)->bind_text(1, key);
    auto rows = collect<T>(**s, read);
    if (!rows) return fail(rows.error().context(doing));
    return rows;
  }

  static sqlite::Statement& bind_application(sqlite::Statement& s, const ApplicationRecord& a) {
    return s.bind_text(1, a.id)
        .bind_text(2, a.kind)
        .bind_text_or_null(3, a.holder_id)
        .bind_text_or_null(4, a.device_id)
        .bind_text(5, a.status)
        .bind_text_or_null(6, a.idempotency_key)
        .bind_text(7, a.request_hash)
        .bind_text(8, a.payload)
        .bind_int64(9, a.created_at)
        .bind_int64(10, a.ready_at)
        .bind_int64(11, a.updated_at);
  }

  // A counter that never hands out a number twice (see migrations.cpp for
  // why not MAX(seq)+1). A member draws from the value the group's earlier
  // members left (read once per group) and writes each counter it drew from
  // once, when it commits (write_counters): a rolled-back member leaves no
  // trace, as before.
  Result<std::int64_t> next_counter(const std::string& name) {
    if (!writer_) return fail(Errc::internal, "a read transaction draws no numbers");
    if (auto it = drawn_.find(name); it != drawn_.end()) return ++it->second;
    std::int64_t value = 0;
    auto& group = writer_->group_counters();
    if (auto it = group.find(name); it != group.end()) {
      value = it->second;
    } else {
      auto s = statement("SELECT value FROM counters WHERE name = ?1");
      if (!s) return fail(s.error());
      (*s)->bind_text(1, name);
      auto row = (*s)->step();
      if (!row) return fail(row.error());
      if (*row) value = (*s)->column_int64(0);
    }
    drawn_.emplace(name, value + 1);
    return value + 1;
  }

  // The counters this member drew from, as it leaves them; then the group
  // goes on from there.
  Status write_counters() {
    if (drawn_.empty()) return {};
    auto s = statement(
        "INSERT INTO counters (name, value) VALUES (?1, ?2)"
        " ON CONFLICT (name) DO UPDATE SET value = excluded.value");
    if (!s) return fail(s.error());
    for (const auto& [name, value] : drawn_) {
      (*s)->reset();
      (*s)->bind_text(1, name).bind_int64(2, value);
      SMACERT_TRY_STATUS((*s)->run());
    }
    auto& group = writer_->group_counters();
    for (const auto& [name, value] : drawn_) group[name] = value;
    return {};
  }

  // Rolls back unless committed and gives the connection back. A connection
  // whose rollback failed is in an unknown state and is closed instead.
  void finish() noexcept {
    if (!conn_) return;
    conn_ = nullptr;
    if (writer_) {
      writer_->roll_back();
      return;
    }
    owned_->reset_statements();
    bool reusable = true;
    if (owned_->db().in_transaction()) reusable = owned_->run("ROLLBACK").has_value();
    if (reusable) pool_->release(std::move(owned_));
    owned_.reset();
  }

  std::shared_ptr<SqliteWriter> writer_;        // a writer's
  std::shared_ptr<SqliteConnectionPool> pool_;  // a reader's
  std::unique_ptr<SqliteConnection> owned_;     // a reader's
  SqliteConnection* conn_;                      // null once ended
  // The audit log's last entry once this transaction has read or written it:
  // under the write lock nobody else can append meanwhile.
  // (nullopt inside: the log is empty).
  std::optional<std::optional<AuditTail>> audit_tail_;
  // A writer's: the last number drawn from each counter (next_counter).
  std::unordered_map<std::string, std::int64_t> drawn_;
};

}  // namespace

SqliteStore::SqliteStore(std::shared_ptr<SqliteConnectionPool> pool, std::filesystem::path log,
                         SyncLog sync_log, int schema_version)
    : pool_(std::move(pool)),
      writer_(std::make_shared<SqliteWriter>(pool_, std::move(log), std::move(sync_log))),
      schema_version_(schema_version) {}

SqliteStore::~SqliteStore() = default;

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::filesystem::path& db_file,
                                                       SyncLog sync_log) {
  const std::string doing = "opening store " + db_file.string();
  auto conn = SqliteConnectionPool::connect(db_file);
  if (!conn) return fail(conn.error().context(doing));
  sqlite::Database& db = (*conn)->db();
  // WAL: readers do not block the writer and a commit is one append to the
  // log (https://www.sqlite.org/wal.html). The mode is stored in the file, so
  // later connections inherit it; it is refused where shared memory cannot
  // be used (some network file systems), which is worth failing loudly on.
  //
  // Switching an empty file to WAL needs its exclusive lock. Two processes
  // doing it at once can each hold the shared lock the other must wait for,
  // and SQLite then answers SQLITE_BUSY at once instead of calling the busy
  // handler (https://www.sqlite.org/c3ref/busy_handler.html): so retry, for
  // as long as busy_timeout would have waited.
  auto mode = single_text(db, "PRAGMA journal_mode = WAL");
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
       !mode && mode.error().code == Errc::unavailable && std::chrono::steady_clock::now() < until;
       mode = single_text(db, "PRAGMA journal_mode = WAL"))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (!mode) return fail(mode.error().context(doing + ": switching to WAL"));
  if (*mode != "wal") {
    return fail(Errc::io, doing + ": the file system does not allow WAL mode (journal mode is " +
                              *mode + ")");
  }
  auto version = migrate(db, schema_migrations());
  if (!version) return fail(version.error().context(doing));
  auto pool = std::make_shared<SqliteConnectionPool>(db_file);
  pool->release(std::move(*conn));
  auto log = db_file;
  log += "-wal";
  return std::unique_ptr<SqliteStore>(
      new SqliteStore(std::move(pool), std::move(log), std::move(sync_log), *version));
}

SqliteStore::WriteStats SqliteStore::write_stats() const {
  return writer_->stats();
}

Result<std::unique_ptr<Transaction>> SqliteStore::begin() {
  auto conn = writer_->enter();
  if (!conn) return fail(conn.error());
  return std::unique_ptr<Transaction>(std::make_unique<SqliteTransaction>(writer_, *conn));
}

Result<std::unique_ptr<Transaction>> SqliteStore::begin_read() {
  // A reader's connection (query_only: a write in it fails instead of
  // taking the write lock).
  auto conn = pool_->acquire(true);
  if (!conn) return fail(conn.error().context("beginning a read transaction"));
  // The snapshot is taken at the first read, and may hold commits whose
  // fsync is still running: take it now, then wait for them.
  auto began = (*conn)->run("BEGIN DEFERRED");
  if (began) began = (*conn)->run("SELECT 1 FROM schema_migrations LIMIT 1");
  if (!began) {
    pool_->release(std::move(*conn));
    return fail(began.error().context("beginning a read transaction"));
  }
  writer_->wait_until_durable();
  return std::unique_ptr<Transaction>(std::make_unique<SqliteTransaction>(pool_, std::move(*conn)));
}

}  // namespace smacert::store

// SqliteStore's group commit (SqliteWriter): writers that queue share one
// SQLite transaction and one COMMIT, and none hears "committed" before it is.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/files.h"
#include "store/sqlite_store.h"
#include "store_test_support.h"

namespace smacert::store {
namespace {

using namespace testing;  // record builders, TempDir

std::unique_ptr<SqliteStore> open_store(const TempDir& dir) {
  auto s = SqliteStore::open(dir.path() / "store.db");
  EXPECT_TRUE(s) << s.error().message;
  return s ? std::move(*s) : nullptr;
}

// Eight writers at once: every commit() that returned is visible to a reader
// at once (readers see only what SQLite committed), nothing is lost, and the
// transactions shared COMMITs.
TEST(GroupCommit, EveryCommitIsOnDiskWhenItReturnsAndWritersShareCommits) {
  TempDir dir;
  auto store = open_store(dir);
  ASSERT_TRUE(store);
  constexpr int kThreads = 8, kEach = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string id = "h-" + std::to_string(t) + "-" + std::to_string(i);
        auto tx = store->begin();
        if (!tx || !(*tx)->insert_holder(holder(id)) || !(*tx)->commit()) {
          ++failures;
          continue;
        }
        auto reader = store->begin_read();
        if (!reader || !*(*reader)->find_holder(id)) ++failures;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  const auto stats = store->write_stats();
  EXPECT_EQ(stats.transactions, static_cast<std::uint64_t>(kThreads * kEach));
  EXPECT_LT(stats.commits, stats.transactions);
  // And after a restart.
  store.reset();
  store = open_store(dir);
  auto tx = store->begin_read();
  ASSERT_TRUE(tx);
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kEach; ++i)
      EXPECT_TRUE(*(*tx)->find_holder("h-" + std::to_string(t) + "-" + std::to_string(i)));
}

// A writer that rolls back undoes only its own work; the writers before and
// after it in the same group commit theirs.
TEST(GroupCommit, AMemberThatRollsBackLeavesTheOthersCommitted) {
  TempDir dir;
  auto store = open_store(dir);
  ASSERT_TRUE(store);
  constexpr int kThreads = 6, kEach = 30;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string id = "h-" + std::to_string(t) + "-" + std::to_string(i);
        auto tx = store->begin();
        if (!tx || !(*tx)->insert_holder(holder(id))) {
          ++failures;
          continue;
        }
        if (i % 3 == 0) continue;  // dropped: rolled back
        // A constraint violation inside a member fails that statement only.
        if (i % 3 == 1 && (*tx)->insert_holder(holder(id))) ++failures;
        if (!(*tx)->commit()) ++failures;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto tx = store->begin_read();
  ASSERT_TRUE(tx);
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kEach; ++i) {
      auto found = (*tx)->find_holder("h-" + std::to_string(t) + "-" + std::to_string(i));
      ASSERT_TRUE(found);
      EXPECT_EQ(found->has_value(), i % 3 != 0) << t << "/" << i;
    }
}

// Numbers drawn by the members of groups (event seqs here) are unique and
// increasing in commit order, a member that rolls back leaves no gap that a
// later one skips, and after a restart numbering goes on from the last.
TEST(GroupCommit, MembersDrawNumbersInCommitOrderAndRolledBackOnesAreReused) {
  TempDir dir;
  auto store = open_store(dir);
  ASSERT_TRUE(store);
  {
    auto tx = store->begin();
    ASSERT_TRUE(tx && (*tx)->insert_holder(holder("h")) &&
                (*tx)->insert_device(device("d-1", "h")));
    ASSERT_TRUE((*tx)->commit());
  }
  constexpr int kThreads = 6, kEach = 30;
  std::mutex mutex;
  std::vector<std::int64_t> committed;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto tx = store->begin();
        if (!tx) {
          ++failures;
          continue;
        }
        EventRecord e{0, "d-1", "test", "{}", 100, 0};
        auto first = (*tx)->enqueue_event(e);
        auto second = (*tx)->enqueue_event(e);
        if (!first || !second || *second != *first + 1) ++failures;
        if ((t + i) % 4 == 0) continue;  // rolled back
        if (!(*tx)->commit()) {
          ++failures;
          continue;
        }
        std::lock_guard lock(mutex);
        committed.push_back(*first);
        committed.push_back(*second);
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  std::sort(committed.begin(), committed.end());
  // Every number from 1 up, once: rolled-back draws were handed out again.
  for (std::size_t i = 0; i < committed.size(); ++i)
    ASSERT_EQ(committed[i], static_cast<std::int64_t>(i + 1));
  EXPECT_LT(store->write_stats().commits, store->write_stats().transactions);
  store.reset();
  store = open_store(dir);
  auto tx = store->begin();
  ASSERT_TRUE(tx);
  auto next = (*tx)->enqueue_event(EventRecord{0, "d-1", "test", "{}", 100, 0});
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, static_cast<std::int64_t>(committed.size() + 1));
}

// A log sync that the test holds shut until it opens it, and counts.
class HeldSync {
 public:
  SqliteStore::SyncLog hook() {
    return [this](const std::filesystem::path& log) -> Status {
      EXPECT_EQ(log.filename().string(), "store.db-wal");
      std::unique_lock lock(mutex_);
      ++entered_;
      changed_.notify_all();
      changed_.wait(lock, [&] { return open_; });
      return sync_file_data(log);
    };
  }
  void wait_entered(int n) {
    std::unique_lock lock(mutex_);
    ASSERT_TRUE(changed_.wait_for(lock, std::chrono::seconds(10), [&] { return entered_ >= n; }));
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  int entered() {
    std::lock_guard lock(mutex_);
    return entered_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int entered_ = 0;
  bool open_ = false;
};

// The log's sync runs outside the writers' lock: while one group's sync
// hangs, the next writer gets in and writes, but no commit() returns, no
// reader starts and no rolled-back writer returns until every commit they
// may have seen is synced.
TEST(GroupCommit, TheNextWriterWritesDuringASyncButNothingReturnsBeforeIt) {
  TempDir dir;
  HeldSync sync;
  auto opened = SqliteStore::open(dir.path() / "store.db", sync.hook());
  ASSERT_TRUE(opened) << opened.error().message;
  auto& store = **opened;
  std::atomic<bool> first_done{false}, second_done{false}, reader_done{false}, rolled_back{false};
  std::thread first([&] {
    auto tx = store.begin();
    ASSERT_TRUE(tx);
    ASSERT_TRUE((*tx)->insert_holder(holder("h-1")));
    EXPECT_TRUE((*tx)->commit());
    first_done = true;
  });
  sync.wait_entered(1);
  // The writers' lock is free while the sync runs.
  auto second_tx = store.begin();
  ASSERT_TRUE(second_tx) << second_tx.error().message;
  ASSERT_TRUE((*second_tx)->insert_holder(holder("h-2")));
  auto seen = (*second_tx)->find_holder("h-1");
  ASSERT_TRUE(seen);
  EXPECT_TRUE(seen->has_value());  // committed, though not yet on disk
  std::thread second([&] {
    EXPECT_TRUE((*second_tx)->commit());
    second_done = true;
  });
  std::thread reader([&] {
    auto tx = store.begin_read();
    ASSERT_TRUE(tx);
    auto h = (*tx)->find_holder("h-1");
    EXPECT_TRUE(h && h->has_value());
    reader_done = true;
  });
  std::thread rolling_back([&] {
    {
      auto tx = store.begin();
      ASSERT_TRUE(tx);
      auto h = (*tx)->find_holder("h-1");
      EXPECT_TRUE(h && h->has_value());
    }  // rolled back
    rolled_back = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(first_done);
  EXPECT_FALSE(second_done);
  EXPECT_FALSE(reader_done);
  EXPECT_FALSE(rolled_back);
  EXPECT_EQ(sync.entered(), 1);  // one sync in flight at a time
  sync.open();
  for (auto* t : {&first, &second, &reader, &rolling_back}) t->join();
  EXPECT_TRUE(first_done && second_done && reader_done && rolled_back);
  EXPECT_EQ(sync.entered(), 2);
  EXPECT_EQ(store.write_stats().commits, 2u);
  EXPECT_EQ(store.write_stats().transactions, 2u);
}

// A writer that begins and rolls back while a sync runs leaves SQLite's
// write lock free afterwards: another process can write.
TEST(GroupCommit, AWriterThatRollsBackDuringASyncLeavesTheLockFree) {
  TempDir dir;
  HeldSync sync;
  auto opened = SqliteStore::open(dir.path() / "store.db", sync.hook());
  ASSERT_TRUE(opened) << opened.error().message;
  auto& store = **opened;
  std::thread first([&] {
    auto tx = store.begin();
    ASSERT_TRUE(tx);
    ASSERT_TRUE((*tx)->insert_holder(holder("h-1")));
    EXPECT_TRUE((*tx)->commit());
  });
  sync.wait_entered(1);
  auto dropped = store.begin();
  ASSERT_TRUE(dropped);
  ASSERT_TRUE((*dropped)->insert_holder(holder("h-2")));
  std::thread rolling_back([&] { dropped->reset(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  sync.open();
  first.join();
  rolling_back.join();
  auto other = SqliteStore::open(dir.path() / "store.db");  // as another process would
  ASSERT_TRUE(other);
  auto tx = (*other)->begin();
  ASSERT_TRUE(tx) << tx.error().message;
  ASSERT_TRUE((*tx)->insert_holder(holder("h-3")));
  EXPECT_TRUE((*tx)->commit());
  auto reader = (*other)->begin_read();
  ASSERT_TRUE(reader);
  EXPECT_TRUE(*(*reader)->find_holder("h-1"));
  EXPECT_FALSE(*(*reader)->find_holder("h-2"));
}

// A sync that fails fails its group, and the writer stops: what SQLite
// shows may not be on disk, and only a restart tells.
TEST(GroupCommit, AFailedSyncFailsItsCommitAndStopsTheWriter) {
  TempDir dir;
  std::atomic<int> syncs{0};
  auto opened =
      SqliteStore::open(dir.path() / "store.db", [&](const std::filesystem::path&) -> Status {
        ++syncs;
        return fail(Errc::io, "the disk is gone");
      });
  ASSERT_TRUE(opened) << opened.error().message;
  auto& store = **opened;
  auto tx = store.begin();
  ASSERT_TRUE(tx);
  ASSERT_TRUE((*tx)->insert_holder(holder("h-1")));
  auto committed = (*tx)->commit();
  ASSERT_FALSE(committed);
  EXPECT_EQ(committed.error().code, Errc::io);
  EXPECT_NE(committed.error().message.find("syncing the log: the disk is gone"), std::string::npos)
      << committed.error().message;
  auto next = store.begin();
  ASSERT_FALSE(next);
  EXPECT_EQ(next.error().code, Errc::io);
  EXPECT_NE(next.error().message.find("restart"), std::string::npos) << next.error().message;
  EXPECT_EQ(syncs.load(), 1);
  EXPECT_TRUE(store.begin_read());  // readers still read
  // After a restart, SQLite's recovery decides; here the file system kept it.
  opened->reset();
  auto again = SqliteStore::open(dir.path() / "store.db");
  ASSERT_TRUE(again);
  auto tx2 = (*again)->begin();
  ASSERT_TRUE(tx2) << tx2.error().message;
  ASSERT_TRUE((*tx2)->insert_holder(holder("h-2")));
  EXPECT_TRUE((*tx2)->commit());
}

}  // namespace
}  // namespace smacert::store

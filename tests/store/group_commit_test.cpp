// SqliteStore's group commit (SqliteWriter): writers that queue share one
// SQLite transaction and one COMMIT, and none hears "committed" before it is.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

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

}  // namespace
}  // namespace smacert::store

// What only the PostgreSQL store has: reconnecting after the server dropped
// its connections, a clear error when the server is down, the retryable
// error of a deadlock, the change feed, and the store URLs.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "store_test_support.h"

namespace smacert::store {
namespace {

using namespace testing;  // record builders
using Clock = std::chrono::steady_clock;

class PgStoreTest : public StoreTest {
 protected:
  void seed(Transaction& tx) override {
    ASSERT_TRUE(tx.insert_holder(holder("h-1")));
    ASSERT_TRUE(tx.insert_holder(holder("h-2")));
    ASSERT_TRUE(tx.reserve_serial(certificate("01", "h-1")));
  }
  // Ends every other session on the test database, as a server restart or
  // a failover would.
  void kill_sessions() {
    auto rows = raw_pg().run(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()");
    ASSERT_TRUE(rows) << rows.error().error.message;
    ASSERT_GE(rows->int64(0, 0), 1);
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, PgStoreTest, ::testing::Values(Backend::postgresql),
                         backend_name);

TEST_P(PgStoreTest, BeginReconnectsAfterTheServerEndedEveryConnection) {
  {
    // Two pooled connections, both idle when the sessions are killed.
    auto a = begin();
    auto b = begin();
  }
  kill_sessions();
  auto tx = store_->begin();
  ASSERT_TRUE(tx) << tx.error().message;
  auto found = (*tx)->find_holder("h-1");
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_TRUE(*found);
}

TEST_P(PgStoreTest, ConnectionLostInsideATransactionFailsItAndTheNextOneWorks) {
  auto tx = begin();
  ASSERT_TRUE(tx->insert_holder(holder("h-lost")));
  kill_sessions();
  auto more = tx->insert_holder(holder("h-lost-2"));
  ASSERT_FALSE(more);
  EXPECT_EQ(more.error().code, Errc::unavailable) << more.error().message;
  EXPECT_FALSE(tx->commit());
  tx.reset();
  auto next = begin();
  ASSERT_TRUE(next);
  EXPECT_FALSE(*next->find_holder("h-lost"));
}

TEST_P(PgStoreTest, UnreachableServerIsUnavailableWithASentenceAndNoPassword) {
  // Nothing listens on port 1 of the loopback address.
  auto start = Clock::now();
  auto opened = open_store("postgresql://smacert:s3cret-pw@127.0.0.1:1/nowhere");
  ASSERT_FALSE(opened);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(opened.error().code, Errc::unavailable);
  EXPECT_NE(opened.error().message.find("connecting to PostgreSQL"), std::string::npos)
      << opened.error().message;
  EXPECT_NE(opened.error().message.find("127.0.0.1"), std::string::npos);
  EXPECT_EQ(opened.error().message.find("s3cret-pw"), std::string::npos) << "a password leaked";
}

TEST_P(PgStoreTest, BeginGivesUpWithUnavailableWhenTheDatabaseIsGone) {
  auto other = PgStore::open(database_->conninfo());
  ASSERT_TRUE(other);
  store_.reset();
  database_.reset();  // DROP DATABASE … WITH (FORCE) ends the pool's sessions
  auto start = Clock::now();
  auto tx = (*other)->begin();
  ASSERT_FALSE(tx);
  EXPECT_EQ(tx.error().code, Errc::unavailable) << tx.error().message;
  EXPECT_NE(tx.error().message.find("unreachable after"), std::string::npos) << tx.error().message;
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(15));
}

TEST_P(PgStoreTest, DeadlockIsAnUnavailableErrorThatSaysToRunAgain) {
  auto other = open();
  ASSERT_TRUE(other);
  auto first = begin();
  auto second = (*other)->begin();
  ASSERT_TRUE(second);
  ASSERT_TRUE(first->lock_holder("h-1"));
  ASSERT_TRUE((*second)->lock_holder("h-2"));
  Status first_result;
  std::thread t([&] {
    first_result = first->lock_holder("h-2");
    if (!first_result) first.reset();  // a failed transaction keeps its locks until it ends
  });
  // PostgreSQL checks for a deadlock after deadlock_timeout (1 s) and fails
  // one of the two; the other then gets its lock.
  auto second_result = (*second)->lock_holder("h-1");
  if (!second_result) second->reset();  // lets the first go on
  t.join();
  ASSERT_NE(first_result.has_value(), second_result.has_value())
      << "exactly one of the two must lose";
  const Error& lost = first_result ? second_result.error() : first_result.error();
  EXPECT_EQ(lost.code, Errc::unavailable);
  EXPECT_NE(lost.message.find("40P01"), std::string::npos) << lost.message;
  EXPECT_NE(lost.message.find("may be run again"), std::string::npos) << lost.message;
  EXPECT_TRUE(pg::is_retryable("40P01"));
  EXPECT_TRUE(pg::is_retryable("40001"));
  EXPECT_EQ(pg::errc_for("40001"), Errc::unavailable);
}

TEST_P(PgStoreTest, LockHolderOfAnUnknownHolderIsNotFound) {
  auto tx = begin();
  auto locked = tx->lock_holder("h-none");
  ASSERT_FALSE(locked);
  EXPECT_EQ(locked.error().code, Errc::not_found);
}

TEST_P(PgStoreTest, ChangeFeedHearsCommitsOfAnotherNodeButNotRollbacks) {
  auto feed = store_->change_feed();
  ASSERT_TRUE(feed && *feed);
  auto first = (**feed).wait(std::chrono::milliseconds(100));
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_TRUE(*first) << "the first wait connects and reports a possible change";
  EXPECT_FALSE(*(**feed).wait(std::chrono::milliseconds(100)));

  auto other = open();
  ASSERT_TRUE(other);
  {
    auto tx = (*other)->begin();
    ASSERT_TRUE((*tx)->set_certificate_status("01", "pending", "revoked", 1, 5, Bytes{1}, 6));
    // rolled back: nothing to hear
  }
  EXPECT_FALSE(*(**feed).wait(std::chrono::milliseconds(200)));
  {
    auto tx = (*other)->begin();
    ASSERT_TRUE((*tx)->set_certificate_status("01", "pending", "revoked", 1, 5, Bytes{1}, 6));
    ASSERT_TRUE((*tx)->commit());
  }
  auto heard = (**feed).wait(std::chrono::seconds(5));
  ASSERT_TRUE(heard);
  EXPECT_TRUE(*heard);
  {
    auto tx = (*other)->begin();
    ASSERT_TRUE((*tx)->insert_device(device("d-1", "h-1")));
    ASSERT_TRUE((*tx)->enqueue_event({0, "d-1", "wipe", "{}", 1, 0}));
    ASSERT_TRUE((*tx)->commit());
  }
  EXPECT_TRUE(*(**feed).wait(std::chrono::seconds(5)));
  // After its connection is killed the feed notices (an error or a quiet
  // wait first, while libpq reads the server's goodbye), reconnects and
  // says "maybe".
  kill_sessions();
  bool reconnected = false;
  for (int i = 0; i < 5 && !reconnected; ++i) {
    auto r = (**feed).wait(std::chrono::milliseconds(500));
    reconnected = r && *r;
  }
  EXPECT_TRUE(reconnected);
}

TEST(StoreUrl, SqliteUrlsOpenSqliteAndOthersAreRefused) {
  TempDir dir;
  auto s = open_store("sqlite:" + (dir.path() / "a.db").string());
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ((*s)->kind(), "sqlite");
  auto feed = (*s)->change_feed();
  ASSERT_TRUE(feed);
  EXPECT_EQ(*feed, nullptr) << "a single-node store has nothing to follow";
  auto plain = open_store((dir.path() / "b.db").string());
  ASSERT_TRUE(plain);
  for (const char* bad : {"mysql://localhost/x", "postgresq://localhost/x", "sqlite:", ""}) {
    auto refused = open_store(bad);
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error().code, Errc::invalid_argument) << bad;
  }
}

}  // namespace
}  // namespace smacert::store

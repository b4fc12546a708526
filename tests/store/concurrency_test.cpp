// Writers on several connections — two Store objects on one database, as two
// service nodes would have — keep one audit chain, unique event seqs in
// commit order, and queue on lock_holder(). SQLite serialises them with
// BEGIN IMMEDIATE; PostgreSQL with the holder row lock and the writers'
// advisory lock (store/pg_store.h).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "store_test_support.h"

namespace smacert::store {
namespace {

using testing::audit;
using testing::StoreTest;

class ConcurrencyTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (!ready()) return;
    auto other = open();
    ASSERT_TRUE(other) << other.error().message;
    other_ = std::move(*other);
  }
  // The store of writer `who`: 0 this node, 1 the other one.
  Store& node(int who) { return who == 0 ? *store_ : *other_; }
  std::unique_ptr<Store> other_;
};

SMACERT_STORE_BACKENDS(ConcurrencyTest);

TEST_P(ConcurrencyTest, TwoNodesAppendingAuditEntriesKeepOneChain) {
  constexpr int kPerThread = 40;
  std::vector<std::string> errors[2];
  auto writer = [&](int who) {
    for (int i = 0; i < kPerThread; ++i) {
      auto tx = node(who).begin();
      if (!tx) {
        errors[who].push_back(tx.error().message);
        continue;
      }
      auto e = audit("thread." + std::to_string(who), "{\"i\":" + std::to_string(i) + "}");
      auto appended = (*tx)->append_audit(e);
      if (!appended) errors[who].push_back(appended.error().message);
      if (auto done = (*tx)->commit(); !done) errors[who].push_back(done.error().message);
    }
  };
  std::thread a(writer, 0);
  std::thread b(writer, 1);
  a.join();
  b.join();
  EXPECT_TRUE(errors[0].empty()) << errors[0].front();
  EXPECT_TRUE(errors[1].empty()) << errors[1].front();

  auto ok = verify_audit_chain(*store_);
  EXPECT_TRUE(ok) << ok.error().message;
  auto entries = *begin()->audit_entries(0, 1000);
  ASSERT_EQ(entries.size(), 2u * kPerThread);
  int by_thread[2] = {0, 0};
  for (std::size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].seq, static_cast<std::int64_t>(i) + 1);
    ++by_thread[entries[i].action == "thread.1"];
  }
  EXPECT_EQ(by_thread[0], kPerThread);
  EXPECT_EQ(by_thread[1], kPerThread);
}

TEST_P(ConcurrencyTest, EventSeqsFromTwoNodesAreUniqueAndNeverSkipped) {
  {
    auto tx = begin();
    ASSERT_TRUE(tx->insert_device(testing::device("d-1", "")));
    ASSERT_TRUE(tx->commit());
  }
  constexpr int kPerThread = 30;
  std::vector<std::int64_t> seqs[2];
  std::atomic<bool> done{false};
  // A reader that remembers the last seq it saw, as a push stream does: it
  // must end up with every event, which holds only if seqs are handed out
  // in commit order.
  std::vector<std::int64_t> followed;
  std::thread reader([&] {
    std::int64_t last = 0;
    for (bool final_round = false;; final_round = done.load()) {
      if (auto tx = store_->begin()) {  // ends before the pause: SQLite's write lock
        auto got = (*tx)->events_since(last, 1000);
        if (got)
          for (const auto& e : *got) {
            followed.push_back(e.seq);
            last = e.seq;
          }
      }
      if (final_round) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  std::string errors[2];
  auto writer = [&](int who) {
    for (int i = 0; i < kPerThread; ++i) {
      auto tx = node(who).begin();
      if (!tx) {
        errors[who] = tx.error().message;
        return;
      }
      auto seq = (*tx)->enqueue_event({0, "d-1", "wipe", "{}", 1, 0});
      if (!seq) errors[who] = seq.error().message;
      if (seq && (*tx)->commit()) seqs[who].push_back(*seq);
    }
  };
  std::thread a(writer, 0);
  std::thread b(writer, 1);
  a.join();
  b.join();
  done = true;
  reader.join();
  ASSERT_EQ(seqs[0].size() + seqs[1].size(), 2u * kPerThread) << errors[0] << " " << errors[1];
  auto stored = *begin()->events_after("d-1", 0, 1000);
  ASSERT_EQ(stored.size(), 2u * kPerThread);
  for (std::size_t i = 1; i < stored.size(); ++i) EXPECT_GT(stored[i].seq, stored[i - 1].seq);
  ASSERT_EQ(followed.size(), stored.size()) << "the follower missed an event";
}

TEST_P(ConcurrencyTest, LockHolderMakesASecondNodeWait) {
  {
    auto tx = begin();
    ASSERT_TRUE(tx->insert_holder(testing::holder("h-1")));
    ASSERT_TRUE(tx->commit());
  }
  auto first = begin();
  ASSERT_TRUE(first->lock_holder("h-1"));
  ASSERT_TRUE(first->append_audit(audit("first")));
  std::atomic<bool> second_locked{false};
  std::string second_error;
  std::thread second([&] {
    auto tx = other_->begin();  // SQLite waits here (BEGIN IMMEDIATE), PostgreSQL below
    if (!tx) {
      second_error = tx.error().message;
      return;
    }
    if (auto locked = (*tx)->lock_holder("h-1"); !locked) {
      second_error = locked.error().message;
      return;
    }
    second_locked = true;
    // It sees what the first committed: its entry is the predecessor.
    auto appended = (*tx)->append_audit(audit("second"));
    if (!appended || appended->seq != 2) second_error = "the second entry is not seq 2";
    if (auto done = (*tx)->commit(); !done) second_error = done.error().message;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(second_locked) << "the second transaction got the holder while the first held it";
  ASSERT_TRUE(first->commit());
  second.join();
  EXPECT_TRUE(second_locked);
  EXPECT_EQ(second_error, "");
  EXPECT_TRUE(verify_audit_chain(*store_));
}

}  // namespace
}  // namespace smacert::store

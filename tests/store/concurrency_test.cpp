// begin() from several threads: writers serialise on BEGIN IMMEDIATE and the
// audit chain stays one contiguous chain.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "store_test_support.h"

namespace smacert::store {
namespace {

using testing::audit;
using testing::StoreTest;

using ConcurrencyTest = StoreTest;

TEST_F(ConcurrencyTest, TwoThreadsAppendingAuditEntriesKeepOneChain) {
  constexpr int kPerThread = 40;
  std::vector<std::string> errors[2];
  auto writer = [&](int who) {
    for (int i = 0; i < kPerThread; ++i) {
      auto tx = store_->begin();
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

TEST_F(ConcurrencyTest, EventSeqsFromTwoThreadsAreUnique) {
  {
    auto tx = begin();
    ASSERT_TRUE(tx->insert_device(testing::device("d-1", "")));
    ASSERT_TRUE(tx->commit());
  }
  constexpr int kPerThread = 30;
  std::vector<std::int64_t> seqs[2];
  auto writer = [&](int who) {
    for (int i = 0; i < kPerThread; ++i) {
      auto tx = store_->begin();
      if (!tx) return;
      auto seq = (*tx)->enqueue_event({0, "d-1", "wipe", "{}", 1, 0});
      if (seq && (*tx)->commit()) seqs[who].push_back(*seq);
    }
  };
  std::thread a(writer, 0);
  std::thread b(writer, 1);
  a.join();
  b.join();
  ASSERT_EQ(seqs[0].size() + seqs[1].size(), 2u * kPerThread);
  auto stored = *begin()->events_after("d-1", 0, 1000);
  ASSERT_EQ(stored.size(), 2u * kPerThread);
  for (std::size_t i = 1; i < stored.size(); ++i) EXPECT_GT(stored[i].seq, stored[i - 1].seq);
}

}  // namespace
}  // namespace smacert::store

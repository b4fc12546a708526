#include "core/worker_pool.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

namespace smacert {
namespace {

TEST(WorkerPool, RunsTheJobOnAPoolThreadAndReturnsItsResult) {
  WorkerPool pool(2);
  EXPECT_EQ(pool.threads(), 2u);
  const auto caller = std::this_thread::get_id();
  int local = 20;
  auto [on, value] = pool.run([&] { return std::pair{std::this_thread::get_id(), local + 1}; });
  EXPECT_NE(on, caller);
  EXPECT_EQ(value, 21);
}

TEST(WorkerPool, WithoutThreadsTheCallerRunsTheJob) {
  WorkerPool pool(0);
  EXPECT_EQ(pool.run([] { return std::this_thread::get_id(); }), std::this_thread::get_id());
}

TEST(WorkerPool, EveryCallerGetsItsOwnResult) {
  WorkerPool pool(3);
  std::atomic<int> wrong{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 8; ++c)
    callers.emplace_back([&, c] {
      for (int i = 0; i < 500; ++i) {
        const int want = c * 1000 + i;
        if (pool.run([want] { return want; }) != want) ++wrong;
      }
    });
  for (auto& t : callers) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(WorkerPool, AnExceptionReachesTheCaller) {
  WorkerPool pool(1);
  EXPECT_THROW(pool.run([]() -> int { throw std::runtime_error("no"); }), std::runtime_error);
  EXPECT_EQ(pool.run([] { return 7; }), 7);  // the thread survived it
}

TEST(WorkerPool, UsableCoresFollowsTheAffinity) {
  cpu_set_t saved;
  ASSERT_EQ(sched_getaffinity(0, sizeof saved, &saved), 0);
  EXPECT_EQ(usable_cores(), static_cast<unsigned>(CPU_COUNT(&saved)));
  int first = 0;
  while (!CPU_ISSET(first, &saved)) ++first;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
  EXPECT_EQ(usable_cores(), 1u);
  ASSERT_EQ(sched_setaffinity(0, sizeof saved, &saved), 0);
}

}  // namespace
}  // namespace smacert

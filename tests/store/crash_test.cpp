// A writer killed with SIGKILL leaves the store as it was before its
// transaction (or after it, if it committed): SQLite's WAL recovery, and
// PostgreSQL's rollback of a transaction whose client vanished (its locks,
// the audit chain's included, are released). Checked with a real process and
// a real kill rather than a simulated failure.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "store_test_support.h"

namespace smacert::store {
namespace {

using namespace testing;  // record builders

// Large enough to overflow SQLite's default 2 MB page cache, so that some of
// the uncommitted transaction is already in the WAL file when the kill lands.
const std::string kBigPayload(3 << 20, 'x');

// Runs in the child: writes a holder, a certificate, an application and an
// audit entry, optionally commits, reports 'R' on the pipe and waits to be
// killed. Any failure reports 'E'. Never returns into the test framework.
[[noreturn]] void report_and_wait(int fd, char c) {
  (void)!::write(fd, &c, 1);
  for (;;) ::pause();
}

template <class Open>
[[noreturn]] void child_writer(Open open, int ready_fd, bool commit) {
  auto store = open();
  if (!store) report_and_wait(ready_fd, 'E');
  auto tx = (*store)->begin();
  if (!tx) report_and_wait(ready_fd, 'E');
  auto& t = **tx;
  auto app = application("a-child");
  app.payload = kBigPayload;
  if (!t.insert_holder(holder("h-child")) || !t.reserve_serial(certificate("0c01", "h-child")) ||
      !t.insert_application(app) || !t.append_audit(audit("child.write"))) {
    report_and_wait(ready_fd, 'E');
  }
  if (commit && !t.commit()) report_and_wait(ready_fd, 'E');
  report_and_wait(ready_fd, 'R');
}

class CrashTest : public StoreTest {
 protected:
  void seed(Transaction& tx) override {
    ASSERT_TRUE(tx.insert_holder(holder("h-1")));
    ASSERT_TRUE(tx.reserve_serial(certificate("0a01", "h-1")));
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(tx.append_audit(audit("parent.write")));
  }

  // Forks the writer, waits until it has written (and maybe committed), then
  // kills it with SIGKILL.
  void run_and_kill_writer(bool commit) {
    // SQLite connections must not cross fork()
    // (https://www.sqlite.org/howtocorrupt.html#_carrying_an_open_database_connection_across_a_fork_),
    // nor may libpq's (both ends would speak on one socket): close every one
    // of ours before the child opens its own.
    store_.reset();
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      child_writer([this] { return open(); }, fds[1], commit);
    }
    ::close(fds[1]);
    char c = 0;
    const ssize_t got = ::read(fds[0], &c, 1);
    ::close(fds[0]);
    if (!commit && !pg()) {
      // The premise of the test: part of the open transaction is on disk.
      std::error_code ec;
      const auto wal_size = std::filesystem::file_size(file().string() + "-wal", ec);
      EXPECT_GT(wal_size, 1u << 20) << "the writer's transaction did not reach the WAL";
    }
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_EQ(got, 1);
    ASSERT_EQ(c, 'R') << "the writer failed before it was killed";
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  }

  void expect_intact() {
    if (!pg()) {
      auto db = raw();
      auto check = db.prepare("PRAGMA integrity_check");
      ASSERT_TRUE(check && *check->step());
      EXPECT_EQ(check->column_text(0), "ok");
    }
    auto ok = verify_audit_chain(*store_);
    EXPECT_TRUE(ok) << ok.error().message;
  }
};

SMACERT_STORE_BACKENDS(CrashTest);

TEST_P(CrashTest, WriterKilledBeforeCommitLeavesNoTrace) {
  run_and_kill_writer(false);
  reopen();
  expect_intact();
  auto tx = begin();
  ASSERT_TRUE(tx);
  EXPECT_FALSE(*tx->find_holder("h-child"));
  EXPECT_FALSE(*tx->find_certificate("0c01"));
  EXPECT_FALSE(*tx->find_application("a-child"));
  EXPECT_TRUE(*tx->find_holder("h-1"));
  EXPECT_TRUE(*tx->find_certificate("0a01"));
  EXPECT_EQ(tx->audit_entries(0, 100)->size(), 3u);
  // The dead writer's lock is gone: the next entry continues the chain.
  auto next = tx->append_audit(audit("after.crash"));
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(next->seq, 4);
  ASSERT_TRUE(tx->commit());
  expect_intact();
}

TEST_P(CrashTest, WriterKilledAfterCommitKeepsItsRows) {
  run_and_kill_writer(true);
  reopen();
  expect_intact();
  auto tx = begin();
  ASSERT_TRUE(tx);
  EXPECT_TRUE(*tx->find_holder("h-child"));
  EXPECT_TRUE(*tx->find_certificate("0c01"));
  auto app = *tx->find_application("a-child");
  ASSERT_TRUE(app);
  EXPECT_EQ(app->payload.size(), kBigPayload.size());
  EXPECT_TRUE(*tx->find_holder("h-1"));
  auto entries = *tx->audit_entries(0, 100);
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[3].action, "child.write");
}

}  // namespace
}  // namespace smacert::store

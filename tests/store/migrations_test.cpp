#include "store/migrations.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <thread>
#include <vector>

#include "store_test_support.h"

namespace smacert::store {
namespace {

using testing::StoreTest;
using testing::TempDir;

constexpr int kCreate = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;

std::int64_t scalar(sqlite::Database& db, const char* sql) {
  auto stmt = db.prepare(sql);
  EXPECT_TRUE(stmt) << stmt.error().message;
  auto row = stmt->step();
  EXPECT_TRUE(row && *row);
  return stmt->column_int64(0);
}

constexpr std::array kTwoSteps{
    Migration{1, "create t", "CREATE TABLE t (id BIGINT NOT NULL PRIMARY KEY, data {{BLOB}})"},
    Migration{2, "seed t", "INSERT INTO t (id) VALUES (1)"},
};

class MigrationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = sqlite::Database::open(dir_.path() / "m.db", kCreate);
    ASSERT_TRUE(opened) << opened.error().message;
    db_.emplace(std::move(*opened));
  }
  TempDir dir_;
  std::optional<sqlite::Database> db_;
};

TEST(RenderSql, SubstitutesTheBlobTypePerDialect) {
  EXPECT_EQ(render_sql("a {{BLOB}}, b {{BLOB}} NOT NULL", SqlDialect::sqlite),
            "a BLOB, b BLOB NOT NULL");
  EXPECT_EQ(render_sql("a {{BLOB}}, b {{BLOB}} NOT NULL", SqlDialect::postgresql),
            "a BYTEA, b BYTEA NOT NULL");
  EXPECT_EQ(render_sql("no tokens", SqlDialect::postgresql), "no tokens");
}

TEST(SchemaMigrations, AreNumberedFromOneWithoutGapsAndLeaveNoToken) {
  const auto list = schema_migrations();
  ASSERT_FALSE(list.empty());
  for (std::size_t i = 0; i < list.size(); ++i) {
    EXPECT_EQ(list[i].version, static_cast<int>(i) + 1);
    EXPECT_EQ(render_sql(list[i].sql, SqlDialect::sqlite).find("{{"), std::string::npos);
    EXPECT_EQ(list[i].sql.find("AUTOINCREMENT"), std::string::npos);
  }
}

TEST_F(MigrationsTest, SecondRunDoesNotRerunMigrations) {
  auto first = migrate(*db_, kTwoSteps);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(*first, 2);
  // Re-running v1 would fail (table exists) and v2 would add a second row.
  auto second = migrate(*db_, kTwoSteps);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(*second, 2);
  EXPECT_EQ(scalar(*db_, "SELECT COUNT(*) FROM t"), 1);
  EXPECT_EQ(scalar(*db_, "SELECT COUNT(*) FROM schema_migrations"), 2);
}

TEST_F(MigrationsTest, UpgradeRunsOnlyTheNewMigrations) {
  ASSERT_EQ(*migrate(*db_, std::span(kTwoSteps).first(1)), 1);
  EXPECT_EQ(scalar(*db_, "SELECT COUNT(*) FROM t"), 0);
  ASSERT_EQ(*migrate(*db_, kTwoSteps), 2);
  EXPECT_EQ(scalar(*db_, "SELECT COUNT(*) FROM t"), 1);
}

TEST_F(MigrationsTest, FailedMigrationRollsBackAndKeepsThePreviousVersion) {
  constexpr std::array broken{
      kTwoSteps[0],
      Migration{2, "half done", "CREATE TABLE u (id BIGINT); INSERT INTO nowhere VALUES (1)"},
  };
  auto result = migrate(*db_, broken);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("applying migration 2 (half done)"), std::string::npos)
      << result.error().message;
  EXPECT_NE(result.error().message.find("no such table: nowhere"), std::string::npos);
  EXPECT_FALSE(db_->in_transaction());
  EXPECT_EQ(scalar(*db_, "SELECT MAX(version) FROM schema_migrations"), 1);
  EXPECT_EQ(scalar(*db_, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'u'"), 0);
}

TEST_F(MigrationsTest, NewerDatabaseIsRefused) {
  ASSERT_TRUE(migrate(*db_, kTwoSteps));
  auto older_code = migrate(*db_, std::span(kTwoSteps).first(1));
  ASSERT_FALSE(older_code);
  EXPECT_EQ(older_code.error().code, Errc::conflict);
  EXPECT_NE(older_code.error().message.find("schema version 2"), std::string::npos)
      << older_code.error().message;
}

TEST_F(MigrationsTest, MisnumberedListIsRefused) {
  constexpr std::array gap{kTwoSteps[0], Migration{3, "gap", "SELECT 1"}};
  auto result = migrate(*db_, gap);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::internal);
}

TEST_F(MigrationsTest, AMigrationForTheOtherBackEndIsRecordedButNotRun) {
  constexpr std::array pg_only{
      kTwoSteps[0],
      Migration{2, "postgresql only", "INSERT INTO nowhere VALUES (1)", SqlDialect::postgresql},
  };
  auto result = migrate(*db_, pg_only);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(*result, 2);
  EXPECT_EQ(scalar(*db_, "SELECT MAX(version) FROM schema_migrations"), 2);
}

// Migration 5 rebuilds the events and audit tables of a store made before it:
// every row and number kept, and no second B-tree for the numbers.
TEST_F(MigrationsTest, EventAndAuditNumbersBecomeRowidsAndKeepEveryRow) {
  ASSERT_EQ(*migrate(*db_, schema_migrations().first(4)), 4);
  ASSERT_TRUE(db_->exec(
      "INSERT INTO devices (id, platform, model, status, created_at) "
      "VALUES ('d-1', 'ios', 'x', 'active', 1);"
      "INSERT INTO events VALUES (7, 'd-1', 'wipe', '{}', 1, 0), (9, 'd-1', 'revoked', '{}', 2, 3);"
      "INSERT INTO audit_log VALUES (1, 1, 'a', 'x', 's', '{}', '', 'h1'), "
      "(2, 2, 'a', 'y', 's', '{}', 'h1', 'h2');"));
  ASSERT_EQ(*migrate(*db_, schema_migrations()), static_cast<int>(schema_migrations().size()));
  EXPECT_EQ(scalar(*db_,
                   "SELECT COUNT(*) FROM sqlite_master WHERE name IN "
                   "('sqlite_autoindex_events_1', 'sqlite_autoindex_audit_log_1')"),
            0);
  EXPECT_EQ(scalar(*db_, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'events_by_device_seq'"),
            1);
  auto events = db_->prepare("SELECT group_concat(rowid || type, ',') FROM events");
  ASSERT_TRUE(events && *events->step());
  EXPECT_EQ(events->column_text(0), "7wipe,9revoked");
  auto audit =
      db_->prepare("SELECT group_concat(rowid || prev_hash || '>' || hash, ',') FROM audit_log");
  ASSERT_TRUE(audit && *audit->step());
  EXPECT_EQ(audit->column_text(0), "1>h1,2h1>h2");
  EXPECT_EQ(scalar(*db_, "SELECT COUNT(*) FROM pragma_foreign_key_check"), 0);
  // A number is still unique.
  EXPECT_FALSE(db_->exec("INSERT INTO audit_log VALUES (2, 3, 'a', 'z', 's', '{}', 'h2', 'h3')"));
}

using StoreSchemaTest = StoreTest;
SMACERT_STORE_BACKENDS(StoreSchemaTest);

TEST_P(StoreSchemaTest, NewStoreIsAtTheLatestVersion) {
  EXPECT_EQ(store_->schema_version(), static_cast<int>(schema_migrations().size()));
  EXPECT_EQ(count("SELECT MAX(version) FROM schema_migrations"),
            static_cast<int>(schema_migrations().size()));
  if (pg()) return;
  // SQLite only: the file is in WAL mode.
  auto db = raw();
  auto mode = db.prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode && *mode->step());
  EXPECT_EQ(mode->column_text(0), "wal");
}

TEST_P(StoreSchemaTest, ReopeningKeepsDataAndDoesNotRerunMigrations) {
  {
    auto tx = begin();
    ASSERT_TRUE(tx->insert_holder(testing::holder("h-1")));
    ASSERT_TRUE(tx->commit());
  }
  const auto migrations_before = count("SELECT COUNT(*) FROM schema_migrations");
  reopen();
  reopen();
  EXPECT_EQ(count("SELECT COUNT(*) FROM schema_migrations"), migrations_before);
  EXPECT_EQ(store_->schema_version(), static_cast<int>(schema_migrations().size()));
  auto tx = begin();
  auto found = tx->find_holder("h-1");
  ASSERT_TRUE(found && *found);
}

TEST_P(StoreSchemaTest, StoreWithNewerSchemaFailsToOpen) {
  store_.reset();
  raw_exec("INSERT INTO schema_migrations (version, name) VALUES (99, 'future')");
  auto opened = open();
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, Errc::conflict);
  EXPECT_NE(opened.error().message.find("schema version 99"), std::string::npos)
      << opened.error().message;
  // The message names the store (never a password).
  EXPECT_NE(opened.error().message.find(pg() ? database_->name() : file().string()),
            std::string::npos)
      << opened.error().message;
}

TEST_P(StoreSchemaTest, NodesStartingTogetherMigrateOnce) {
  // A second, empty database for the race (the fixture's is migrated).
  store_.reset();
  if (pg()) {
    database_ = std::make_unique<testing::PgTestDatabase>();
  } else {
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(file().string() + suffix);
  }
  std::vector<std::thread> nodes;
  std::atomic<int> opened{0};
  std::vector<std::string> errors(4);
  for (int i = 0; i < 4; ++i)
    nodes.emplace_back([&, i] {
      auto s = open();
      if (s)
        ++opened;
      else
        errors[i] = s.error().message;
    });
  for (auto& t : nodes) t.join();
  EXPECT_EQ(opened, 4) << errors[0] << errors[1] << errors[2] << errors[3];
  EXPECT_EQ(count("SELECT COUNT(*) FROM schema_migrations"),
            static_cast<int>(schema_migrations().size()));
}

TEST(SqliteStoreOpen, UnwritableLocationFailsWithSentence) {
  TempDir dir;
  auto opened = SqliteStore::open(dir.path() / "missing-folder" / "store.db");
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, Errc::io);
  EXPECT_NE(opened.error().message.find("opening store"), std::string::npos);
}

}  // namespace
}  // namespace smacert::store

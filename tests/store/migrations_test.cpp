#include "store/migrations.h"

#include <gtest/gtest.h>

#include <array>

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

using SqliteStoreSchemaTest = StoreTest;

TEST_F(SqliteStoreSchemaTest, NewStoreIsAtTheLatestVersionInWalMode) {
  EXPECT_EQ(store_->schema_version(), static_cast<int>(schema_migrations().size()));
  auto db = raw();
  auto mode = db.prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode && *mode->step());
  EXPECT_EQ(mode->column_text(0), "wal");
}

TEST_F(SqliteStoreSchemaTest, ReopeningKeepsDataAndDoesNotRerunMigrations) {
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

TEST_F(SqliteStoreSchemaTest, StoreWithNewerSchemaFailsToOpen) {
  store_.reset();
  {
    auto db = raw();
    ASSERT_TRUE(db.exec("INSERT INTO schema_migrations (version, name) VALUES (99, 'future')"));
  }
  auto opened = SqliteStore::open(file());
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, Errc::conflict);
  EXPECT_NE(opened.error().message.find("schema version 99"), std::string::npos)
      << opened.error().message;
  EXPECT_NE(opened.error().message.find(file().string()), std::string::npos);
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

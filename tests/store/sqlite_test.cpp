#include "store/sqlite.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "store_test_support.h"

namespace smacert::store::sqlite {
namespace {

using store::testing::TempDir;

constexpr int kCreate = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;

class SqliteWrapperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Database::open(dir_.path() / "t.db", kCreate);
    ASSERT_TRUE(opened) << opened.error().message;
    db_.emplace(std::move(*opened));
    ASSERT_TRUE(
        db_->exec("CREATE TABLE t (id BIGINT NOT NULL PRIMARY KEY, name TEXT UNIQUE,"
                  " data BLOB, CHECK (id > 0))"));
  }
  TempDir dir_;
  std::optional<Database> db_;
};

TEST(SqliteOpen, MissingFolderFailsWithSentenceNamingTheFile) {
  TempDir dir;
  const auto file = dir.path() / "no" / "such" / "t.db";
  auto db = Database::open(file, kCreate);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().code, Errc::io);
  EXPECT_NE(db.error().message.find(file.string()), std::string::npos) << db.error().message;
  EXPECT_NE(db.error().message.find("unable to open"), std::string::npos) << db.error().message;
}

TEST_F(SqliteWrapperTest, BindsAndReadsEveryType) {
  auto insert = db_->prepare("INSERT INTO t (id, name, data) VALUES (?1, ?2, ?3)");
  ASSERT_TRUE(insert);
  const Bytes blob{0x00, 0xff, 0x10};
  ASSERT_TRUE(insert->bind_int64(1, 1).bind_text(2, "名前").bind_blob(3, blob).run());
  EXPECT_EQ(db_->changes(), 1);
  insert->reset();
  ASSERT_TRUE(insert->bind_int64(1, 2).bind_null(2).bind_blob(3, ByteView()).run());
  insert->reset();
  ASSERT_TRUE(insert->bind_int64(1, 3).bind_text_or_null(2, "").bind_null(3).run());

  auto select = db_->prepare("SELECT id, name, data FROM t ORDER BY id");
  ASSERT_TRUE(select);
  ASSERT_TRUE(*select->step());
  EXPECT_EQ(select->column_int64(0), 1);
  EXPECT_EQ(select->column_text(1), "名前");
  EXPECT_EQ(select->column_blob(2), blob);
  ASSERT_TRUE(*select->step());
  EXPECT_TRUE(select->column_is_null(1));
  EXPECT_EQ(select->column_text(1), "");
  // An empty blob stays an empty blob, not NULL.
  EXPECT_FALSE(select->column_is_null(2));
  EXPECT_TRUE(select->column_blob(2).empty());
  ASSERT_TRUE(*select->step());
  EXPECT_TRUE(select->column_is_null(1)) << "empty text with bind_text_or_null is NULL";
  EXPECT_TRUE(select->column_is_null(2));
  EXPECT_FALSE(*select->step());

  auto echo = db_->prepare("SELECT ?1");
  ASSERT_TRUE(echo);
  ASSERT_TRUE(*echo->bind_int64(1, INT64_MIN).step());
  EXPECT_EQ(echo->column_int64(0), INT64_MIN);
}

TEST_F(SqliteWrapperTest, ConstraintViolationsCarrySqliteMessageAndCode) {
  auto insert = db_->prepare("INSERT INTO t (id, name) VALUES (?1, ?2)");
  ASSERT_TRUE(insert);
  ASSERT_TRUE(insert->bind_int64(1, 1).bind_text(2, "a").run());

  insert->reset();
  auto duplicate_key = insert->bind_int64(1, 1).bind_text(2, "b").run();
  ASSERT_FALSE(duplicate_key);
  EXPECT_EQ(duplicate_key.error().code, Errc::conflict);
  EXPECT_EQ(insert->last_code(), SQLITE_CONSTRAINT_PRIMARYKEY);
  EXPECT_NE(duplicate_key.error().message.find("UNIQUE constraint failed: t.id"), std::string::npos)
      << duplicate_key.error().message;

  insert->reset();
  auto duplicate_name = insert->bind_int64(1, 2).bind_text(2, "a").run();
  ASSERT_FALSE(duplicate_name);
  EXPECT_EQ(insert->last_code(), SQLITE_CONSTRAINT_UNIQUE);

  insert->reset();
  auto check = insert->bind_int64(1, -1).bind_text(2, "c").run();
  ASSERT_FALSE(check);
  EXPECT_EQ(check.error().code, Errc::invalid_argument);
  EXPECT_NE(check.error().message.find("CHECK constraint failed"), std::string::npos);
}

TEST_F(SqliteWrapperTest, BindErrorIsReportedByStep) {
  auto insert = db_->prepare("INSERT INTO t (id) VALUES (?1)");
  ASSERT_TRUE(insert);
  auto done = insert->bind_int64(1, 1).bind_int64(2, 5).run();
  ASSERT_FALSE(done);
  EXPECT_NE(done.error().message.find("binding parameter 2"), std::string::npos)
      << done.error().message;
  // reset() forgets the error; the statement is usable again.
  insert->reset();
  EXPECT_TRUE(insert->bind_int64(1, 1).run());
}

TEST_F(SqliteWrapperTest, PrepareErrorNamesTheSql) {
  auto bad = db_->prepare("SELEC id FROM t");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("SELEC id FROM t"), std::string::npos);
  EXPECT_NE(bad.error().message.find("syntax error"), std::string::npos) << bad.error().message;
  auto exec = db_->exec("DROP TABLE nothing_here");
  ASSERT_FALSE(exec);
  EXPECT_NE(exec.error().message.find("no such table"), std::string::npos);
}

TEST_F(SqliteWrapperTest, InTransactionFollowsBeginCommitAndRollback) {
  EXPECT_FALSE(db_->in_transaction());
  ASSERT_TRUE(db_->exec("BEGIN IMMEDIATE"));
  EXPECT_TRUE(db_->in_transaction());
  ASSERT_TRUE(db_->exec("INSERT INTO t (id) VALUES (7)"));
  ASSERT_TRUE(db_->exec("ROLLBACK"));
  EXPECT_FALSE(db_->in_transaction());
  auto n = db_->prepare("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(n && *n->step());
  EXPECT_EQ(n->column_int64(0), 0);
}

TEST(SqliteErrc, MapsResultCodesToProjectCodes) {
  EXPECT_EQ(errc_for(SQLITE_CONSTRAINT_PRIMARYKEY), Errc::conflict);
  EXPECT_EQ(errc_for(SQLITE_CONSTRAINT_FOREIGNKEY), Errc::invalid_argument);
  EXPECT_EQ(errc_for(SQLITE_BUSY), Errc::unavailable);
  EXPECT_EQ(errc_for(SQLITE_BUSY_SNAPSHOT), Errc::unavailable);
  EXPECT_EQ(errc_for(SQLITE_IOERR_FSYNC), Errc::io);
  EXPECT_EQ(errc_for(SQLITE_CORRUPT), Errc::internal);
}

}  // namespace
}  // namespace smacert::store::sqlite

#include "core/files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

namespace smacert {
namespace {

namespace fs = std::filesystem;

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("smacert-files-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    ASSERT_TRUE(ensure_directory(dir_, 0700));
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(FilesTest, AtomicWriteSetsModeAndReplaces) {
  auto p = dir_ / "key.pem";
  ASSERT_TRUE(write_file_atomic(p, as_bytes("one"), 0600));
  ASSERT_TRUE(write_file_atomic(p, as_bytes("two"), 0600));
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(as_chars(*read_file(p)), "two");
  // No temporary files are left beside it.
  int count = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir_)) ++count;
  EXPECT_EQ(count, 1);
}

TEST_F(FilesTest, ReadRefusesOversizedAndMissingFiles) {
  auto p = dir_ / "big";
  ASSERT_TRUE(write_file_atomic(p, Bytes(100, 'x')));
  EXPECT_EQ(read_file(p, 99).error().code, Errc::too_large);
  EXPECT_EQ(read_file(dir_ / "absent").error().code, Errc::not_found);
}

}  // namespace
}  // namespace smacert

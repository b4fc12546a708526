#include "service/window.h"

#include <gtest/gtest.h>

namespace smacert::service {
namespace {

// 2026-11-25 00:00 JST
const long long kMidnightJst = 1795575600 - 12 * 3600;
TimePoint jst(int h, int m) {
  return from_unix(kMidnightJst + h * 3600 + m * 60);
}

TEST(Window, AlwaysIsTheDefault) {
  IssuanceWindow w;
  EXPECT_TRUE(w.always());
  EXPECT_TRUE(w.is_open(jst(3, 0)));
  EXPECT_EQ(w.to_string(), "always");
}

TEST(Window, TheSeedsHours) {
  auto w = IssuanceWindow::parse("07:00-19:30");
  ASSERT_TRUE(w);
  EXPECT_FALSE(w->is_open(jst(6, 59)));
  EXPECT_TRUE(w->is_open(jst(7, 0)));
  EXPECT_TRUE(w->is_open(jst(19, 29)));
  EXPECT_FALSE(w->is_open(jst(19, 30)));
  EXPECT_EQ(w->next_open(jst(19, 45)), jst(24 + 7, 0));
  EXPECT_EQ(w->next_open(jst(3, 0)), jst(7, 0));
  EXPECT_EQ(w->next_open(jst(12, 0)), jst(12, 0));
  EXPECT_EQ(w->to_string(), "07:00-19:30");
}

TEST(Window, SpanningMidnight) {
  auto w = IssuanceWindow::parse("22:00-02:00");
  ASSERT_TRUE(w);
  EXPECT_TRUE(w->is_open(jst(23, 0)));
  EXPECT_TRUE(w->is_open(jst(1, 0)));
  EXPECT_FALSE(w->is_open(jst(12, 0)));
}

TEST(Window, BadTextIsRefused) {
  for (auto bad : {"7-19", "07:00", "25:00-19:30", "07:00-07:00", "07:60-08:00", "ab:cd-ef:gh"})
    EXPECT_FALSE(IssuanceWindow::parse(bad)) << bad;
}

}  // namespace
}  // namespace smacert::service

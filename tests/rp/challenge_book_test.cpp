// Login challenges: single use, short-lived, bounded.
#include "rp/challenge_book.h"

#include <gtest/gtest.h>

namespace smacert::rp {
namespace {

struct Book : ::testing::Test {
  ManualClock clock{std::chrono::system_clock::now()};
  OsRandom random;
  ChallengeBook book{clock, random, Seconds(120), 3};
};

TEST_F(Book, ANonceIsSpentOnceAndAReplayIsNamed) {
  auto c = book.issue("bank.example");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->audience, "bank.example");
  EXPECT_GE(c->nonce.size(), 40u);
  auto first = book.consume(c->nonce);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->audience, "bank.example");
  auto again = book.consume(c->nonce);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::conflict);
}

TEST_F(Book, NoncesAreFreshAndUnguessable) {
  auto a = book.issue("x");
  auto b = book.issue("x");
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->nonce, b->nonce);
  auto unknown = book.consume("made-up");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::verification);
}

TEST_F(Book, AnExpiredNonceIsRefused) {
  auto c = book.issue("x");
  ASSERT_TRUE(c);
  clock.advance(Seconds(121));
  auto late = book.consume(c->nonce);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, Errc::expired);
}

TEST_F(Book, CapacityBoundsMemoryUntilChallengesExpire) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(book.issue("x"));
  auto full = book.issue("x");
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, Errc::unavailable);
  clock.advance(Seconds(121));
  EXPECT_TRUE(book.issue("x"));
  EXPECT_EQ(book.size(), 1u);
}

}  // namespace
}  // namespace smacert::rp

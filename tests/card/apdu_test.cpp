#include "card/apdu.h"

#include <gtest/gtest.h>

#include <random>

namespace smacert::card {
namespace {

TEST(Apdu, ParsesTheFourShortCases) {
  auto c1 = parse_command(Bytes{0x00, 0x20, 0x00, 0x80});
  ASSERT_TRUE(c1);
  EXPECT_TRUE(c1->data.empty());
  EXPECT_FALSE(c1->ne);

  auto c2 = parse_command(Bytes{0x00, 0xB0, 0x01, 0x02, 0x00});
  ASSERT_TRUE(c2);
  EXPECT_EQ(c2->ne, 256u) << "Le = 00 means 256 in a short APDU";
  EXPECT_EQ(c2->p1p2(), 0x0102);

  auto c3 = parse_command(Bytes{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x0A});
  ASSERT_TRUE(c3);
  EXPECT_EQ(c3->data, (Bytes{0x00, 0x0A}));
  EXPECT_FALSE(c3->ne);

  auto c4 = parse_command(Bytes{0x80, 0x2A, 0x00, 0x80, 0x01, 0xAA, 0x10});
  ASSERT_TRUE(c4);
  EXPECT_EQ(c4->data, (Bytes{0xAA}));
  EXPECT_EQ(c4->ne, 16u);
}

TEST(Apdu, ParsesTheExtendedCases) {
  auto c2 = parse_command(Bytes{0x00, 0xB0, 0x00, 0x00, 0x00, 0x00, 0x00});
  ASSERT_TRUE(c2);
  EXPECT_EQ(c2->ne, 65536u) << "Le = 0000 means 65536 in an extended APDU";
  EXPECT_TRUE(c2->extended);

  Bytes data(300, 0x5A);
  CommandApdu c{0x80, 0xD6, 0x00, 0x0A, data, std::nullopt, false};
  Bytes enc = c.encode();
  ASSERT_EQ(enc.size(), 4u + 3u + 300u);
  auto c3 = parse_command(enc);
  ASSERT_TRUE(c3);
  EXPECT_EQ(c3->data, data);
  EXPECT_FALSE(c3->ne);

  c.ne = 65536;
  auto c4 = parse_command(c.encode());
  ASSERT_TRUE(c4);
  EXPECT_EQ(c4->data, data);
  EXPECT_EQ(c4->ne, 65536u);
}

TEST(Apdu, EncodeAndParseRoundTrip) {
  for (std::size_t nc : {0u, 1u, 255u, 256u, 1000u})
    for (std::optional<std::size_t> ne :
         {std::optional<std::size_t>{}, std::optional<std::size_t>{1},
          std::optional<std::size_t>{256}, std::optional<std::size_t>{257},
          std::optional<std::size_t>{65536}}) {
      CommandApdu c{0x00, 0xB0, 0x12, 0x34, Bytes(nc, 0x42), ne, false};
      auto p = parse_command(c.encode());
      ASSERT_TRUE(p) << nc;
      EXPECT_EQ(p->data, c.data);
      EXPECT_EQ(p->ne, c.ne);
    }
}

TEST(Apdu, RejectsTruncatedAndInconsistentLengths) {
  EXPECT_FALSE(parse_command(Bytes{}));
  EXPECT_FALSE(parse_command(Bytes{0x00, 0xA4, 0x04}));
  EXPECT_FALSE(parse_command(Bytes{0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3}))
      << "Lc says 10 bytes, 1 follows";
  EXPECT_FALSE(parse_command(Bytes{0x00, 0xA4, 0x04, 0x0C, 0x01, 0xD3, 0x00, 0x00}))
      << "two bytes after the data";
  EXPECT_FALSE(parse_command(Bytes{0x00, 0xA4, 0x04, 0x0C, 0x00, 0x00}))
      << "a truncated extended length";
  EXPECT_FALSE(parse_command(Bytes{0x00, 0xA4, 0x04, 0x0C, 0x00, 0x00, 0x00, 0x01}))
      << "an extended Lc of zero";
  EXPECT_FALSE(parse_command(Bytes{0x00, 0xA4, 0x04, 0x0C, 0x00, 0x00, 0x02, 0x01}))
      << "an extended Lc longer than the data";
  EXPECT_FALSE(parse_command(Bytes(kMaxCommandSize + 1, 0x01)));
}

TEST(Apdu, ParsingRandomBytesIsTotal) {
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    Bytes b(rng() % 300);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    if (b.size() > 4 && (i & 1)) b[4] = 0;  // exercise the extended branch
    auto c = parse_command(b);
    if (c) {
      EXPECT_LE(c->data.size(), b.size());
      EXPECT_EQ(c->encode().size() <= b.size() + 2, true);
    }
  }
}

TEST(Apdu, ResponsesCarryTheirStatusWord) {
  auto r = parse_response(Bytes{0x01, 0x02, 0x90, 0x00});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->data, (Bytes{0x01, 0x02}));
  EXPECT_FALSE(parse_response(Bytes{0x90}));
  EXPECT_EQ((ResponseApdu{{0xAB}, 0x63C2}.encode()), (Bytes{0xAB, 0x63, 0xC2}));
}

TEST(Apdu, StatusWordsHaveTheirIsoText) {
  EXPECT_EQ(status_text(0x9000), "9000 normal processing");
  EXPECT_EQ(status_text(0x6982), "6982 security status not satisfied");
  EXPECT_EQ(status_text(0x6A82), "6A82 file or application not found");
  EXPECT_EQ(status_text(0x63C2), "63C2 verification failed, 2 tries left");
  EXPECT_EQ(status_text(0x6D00), "6D00 instruction code not supported or invalid");
  EXPECT_EQ(status_text(0x1234), "1234 unknown status");
}

}  // namespace
}  // namespace smacert::card

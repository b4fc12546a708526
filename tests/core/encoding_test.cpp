#include "core/encoding.h"

#include <gtest/gtest.h>

namespace smacert {
namespace {

TEST(Hex, RoundTrips) {
  Bytes data{0x00, 0x7f, 0x80, 0xff};
  EXPECT_EQ(hex_encode(data), "007f80ff");
  EXPECT_EQ(hex_encode(data, true), "007F80FF");
  EXPECT_EQ(*hex_decode("007F80ff"), data);
}

TEST(Hex, RejectsOddLengthAndNonDigits) {
  EXPECT_EQ(hex_decode("abc").error().code, Errc::malformed);
  EXPECT_EQ(hex_decode("zz").error().code, Errc::malformed);
}

TEST(Base64, MatchesRfc4648Vectors) {
  // RFC 4648 section 10.
  EXPECT_EQ(base64_encode(as_bytes("")), "");
  EXPECT_EQ(base64_encode(as_bytes("f")), "Zg==");
  EXPECT_EQ(base64_encode(as_bytes("fo")), "Zm8=");
  EXPECT_EQ(base64_encode(as_bytes("foo")), "Zm9v");
  EXPECT_EQ(base64_encode(as_bytes("foobar")), "Zm9vYmFy");
  EXPECT_EQ(as_chars(*base64_decode("Zm9vYmE=")), "fooba");
}

TEST(Base64Url, UsesTheUrlAlphabetWithoutPadding) {
  Bytes data{0xfb, 0xff, 0xfe};
  EXPECT_EQ(base64url_encode(data), "-__-");
  EXPECT_EQ(base64_encode(data), "+//+");
  EXPECT_EQ(*base64url_decode("-__-"), data);
  EXPECT_EQ(*base64url_decode("+//+"), data);  // standard alphabet accepted too
  EXPECT_EQ(base64url_encode(Bytes{0xff}), "_w");
  EXPECT_EQ(*base64url_decode("_w"), Bytes{0xff});
  EXPECT_EQ(*base64url_decode("_w=="), Bytes{0xff});
}

TEST(Base64, RejectsGarbage) {
  EXPECT_EQ(base64_decode("Zm9v!").error().code, Errc::malformed);
  EXPECT_EQ(base64_decode("Z").error().code, Errc::malformed);
  EXPECT_EQ(base64_decode("-_").error().code, Errc::malformed);  // URL alphabet not in standard
  EXPECT_EQ(base64url_decode("Zm 9v").error().code, Errc::malformed);
}

}  // namespace
}  // namespace smacert

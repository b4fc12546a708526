#include "pki/profile.h"

#include <gtest/gtest.h>

namespace smacert::pki {
namespace {

TimePoint jst(int y, int m, int d, int h = 12) {
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = m - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  return from_unix(static_cast<long long>(timegm(&tm)) - 9 * 3600);
}

TEST(BirthDate, CarriesTheEraDigit) {
  EXPECT_EQ(*jpki_birth_date("1980-01-01"), "319800101");  // Showa
  EXPECT_EQ(*jpki_birth_date("1989-01-07"), "319890107");  // last day of Showa
  EXPECT_EQ(*jpki_birth_date("1989-01-08"), "419890108");  // Heisei
  EXPECT_EQ(*jpki_birth_date("2019-05-01"), "520190501");  // Reiwa
  EXPECT_EQ(*jpki_birth_date("1920-06-01"), "219200601");  // Taisho
  EXPECT_EQ(*jpki_birth_date("1900-06-01"), "119000601");  // Meiji
  EXPECT_FALSE(jpki_birth_date("1980-02-30"));
  EXPECT_FALSE(jpki_birth_date("1981-02-29"));
  EXPECT_TRUE(jpki_birth_date("1980-02-29"));
  EXPECT_FALSE(jpki_birth_date("19800101"));
  EXPECT_FALSE(jpki_birth_date("1980-1-01"));
}

TEST(Address, SplitsPrefectureAndMunicipality) {
  auto a = split_address("東京都千代田区霞が関１－２－３");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->prefecture, "東京都");
  EXPECT_EQ(a->municipality, "千代田区");
  a = split_address("北海道札幌市中央区北１条西２丁目");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->prefecture, "北海道");
  EXPECT_EQ(a->municipality, "札幌市");
  a = split_address("京都府京都市上京区");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->prefecture, "京都府");
  a = split_address("神奈川県足柄下郡箱根町湯本");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->prefecture, "神奈川県");
  EXPECT_EQ(a->municipality, "足柄下郡箱根町");
  EXPECT_FALSE(split_address("千代田区霞が関"));
  EXPECT_FALSE(split_address(""));
}

TEST(CardExpiry, IsTheFifthBirthdayAfterIssuanceAtTheEndOfTheJapaneseDay) {
  // Issued 2026-11-25, born 01-01: birthdays 2027..2031, the 5th is 2031-01-01.
  auto e = card_certificate_expiry("1980-01-01", jst(2026, 11, 25));
  ASSERT_TRUE(e);
  EXPECT_EQ(to_rfc3339(*e), "2031-01-01T14:59:59Z");  // 23:59:59 JST
  // Issued on the birthday itself: that day does not count.
  e = card_certificate_expiry("1980-11-25", jst(2026, 11, 25));
  EXPECT_EQ(to_rfc3339(*e), "2031-11-25T14:59:59Z");
  // 29 February falls on 28 February in common years.
  e = card_certificate_expiry("2000-02-29", jst(2026, 3, 1));
  EXPECT_EQ(to_rfc3339(*e), "2031-02-28T14:59:59Z");
  // Just after midnight JST is already the next Japanese day.
  e = card_certificate_expiry("1980-11-25", jst(2026, 11, 25, 0));
  EXPECT_EQ(to_rfc3339(*e), "2031-11-25T14:59:59Z");
}

TEST(Age, SignatureCertificatesNeedFifteenYears) {
  EXPECT_TRUE(*is_at_least_15("2011-11-25", jst(2026, 11, 25)));
  EXPECT_FALSE(*is_at_least_15("2011-11-26", jst(2026, 11, 25)));
}

TEST(Facts, AreChecked) {
  HolderFacts f{"見本　花子", "", "1980-01-01", 2, "東京都千代田区霞が関１－２－３", ""};
  EXPECT_TRUE(check_facts(f));
  auto bad = f;
  bad.name = "";
  EXPECT_FALSE(check_facts(bad));
  bad = f;
  bad.name = "\xff\xfe";
  EXPECT_FALSE(check_facts(bad));
  bad = f;
  bad.sex = 9;
  EXPECT_FALSE(check_facts(bad));
  bad = f;
  bad.name_substitution = "00";  // 5 characters need 5 digits
  EXPECT_FALSE(check_facts(bad));
  bad.name_substitution = "00100";
  EXPECT_TRUE(check_facts(bad));
  bad = f;
  bad.address = "東京都千代田区" + std::string(600, 'a');
  EXPECT_FALSE(check_facts(bad));
  EXPECT_EQ(jpki_sex_code(9), 3);
}

}  // namespace
}  // namespace smacert::pki

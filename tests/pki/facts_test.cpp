// Reading back the four basic facts the CA wrote (spec/jpki-card.md §5).
#include "pki/facts.h"

#include <gtest/gtest.h>

#include "support/test_pki.h"

namespace smacert::pki {
namespace {

using testing::TestPki;

X509Ptr issue_sign_with(TestPki& pki, const HolderFacts& facts) {
  auto key = generate_key(KeyAlgorithm::rsa2048);
  EXPECT_TRUE(key);
  SoftwareSigner signer(PkeyPtr(EVP_PKEY_dup(key->get())));
  auto made = make_csr(signer, "csr");
  EXPECT_TRUE(made);
  auto csr = CertificateRequest::parse(to_der(made->get()));
  EXPECT_TRUE(csr);
  IssueRequest r{.kind = CertificateKind::card_sign,
                 .csr = &*csr,
                 .subject_id = "FACTS1",
                 .facts = facts,
                 .serial = random_serial(pki.random()),
                 .not_before = pki.clock().now(),
                 .not_after = pki.clock().now() + std::chrono::hours(24 * 365),
                 .not_after_limit = std::nullopt};
  auto der = pki.ca(CaKind::sign).issue(r);
  EXPECT_TRUE(der) << der.error().message;
  if (!der) return nullptr;
  auto cert = parse_certificate(*der);
  return cert ? std::move(*cert) : nullptr;
}

TEST(Facts, RoundTripTheFactsTheCaWrote) {
  TestPki pki;
  auto issued = pki.issue(CertificateKind::card_sign);
  auto f = facts_of_certificate(issued.cert.get());
  ASSERT_TRUE(f) << f.error().message;
  auto want = testing::sample_facts();
  EXPECT_EQ(f->name, want.name);
  EXPECT_EQ(f->address, want.address);
  EXPECT_EQ(f->birth_date, "1980-01-01");
  EXPECT_EQ(f->birth_era, Era::showa);
  EXPECT_EQ(f->sex, 2);
  // No substitute characters given: one '0' per character (見本　花子 is 5).
  EXPECT_EQ(f->name_substitution, "00000");
}

TEST(Facts, KeepTheEraAndSubstitutionsAsCertified) {
  TestPki pki;
  HolderFacts facts;
  facts.name = "髙橋　一郎";
  facts.name_substitution = "10000";
  facts.birth_date = "1989-01-08";  // the first day of Heisei
  facts.sex = 1;
  facts.address = "大阪府大阪市北区中之島１－３－２０";
  auto cert = issue_sign_with(pki, facts);
  ASSERT_TRUE(cert);
  auto f = facts_of_certificate(cert.get());
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->name, facts.name);
  EXPECT_EQ(f->name_substitution, "10000");
  EXPECT_EQ(f->birth_date, "1989-01-08");
  EXPECT_EQ(f->birth_era, Era::heisei);
  EXPECT_EQ(f->sex, 1);
  EXPECT_EQ(f->address, facts.address);
}

TEST(Facts, AnAuthenticationCertificateCarriesNone) {
  TestPki pki;
  for (auto kind : {CertificateKind::card_auth, CertificateKind::phone_auth}) {
    auto issued = pki.issue(kind);
    auto f = facts_of_certificate(issued.cert.get());
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error().code, Errc::not_found);
  }
}

TEST(Facts, PhoneSignatureCertificatesCarryThemToo) {
  TestPki pki;
  auto issued = pki.issue(CertificateKind::phone_sign);
  auto f = facts_of_certificate(issued.cert.get());
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->name, testing::sample_facts().name);
}

TEST(Facts, JpkiBirthDates) {
  auto reiwa = parse_jpki_birth_date("520190501");
  ASSERT_TRUE(reiwa);
  EXPECT_EQ(reiwa->date, "2019-05-01");
  EXPECT_EQ(reiwa->era, Era::reiwa);
  auto unknown = parse_jpki_birth_date("018500101");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->era, Era::unknown);
  EXPECT_EQ(era_name(Era::meiji), "Meiji");
  EXPECT_EQ(era_name_ja(Era::showa), "昭和");
  for (const char* bad : {"", "31980010", "3198001011", "619800101", "319801301", "319800230",
                          "3198O0101", "3-1980-01"}) {
    auto b = parse_jpki_birth_date(bad);
    EXPECT_FALSE(b) << "accepted '" << bad << "'";
    if (!b) {
      EXPECT_EQ(b.error().code, Errc::malformed);
    }
  }
}

}  // namespace
}  // namespace smacert::pki

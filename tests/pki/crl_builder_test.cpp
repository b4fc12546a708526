// The CRL builder writes DER itself; these tests hold it to what OpenSSL's
// X509_CRL code (the reference below, the builder's former implementation)
// makes of the same entries: byte for byte with an RSA CA, whose PKCS#1 v1.5
// signature is deterministic, and the same TBSCertList with a P-256 CA.
#include <gtest/gtest.h>

#include <random>

#include "core/encoding.h"
#include "pki/crl.h"
#include "support/test_pki.h"

namespace smacert::pki {
namespace {

using testing::TestPki;

// The reference: OpenSSL builds, sorts, encodes and signs the CRL.
X509CrlPtr reference_crl(const CertificateAuthority& ca, std::span<const CrlEntry> entries,
                         const CrlParams& params) {
  X509CrlPtr crl(X509_CRL_new());
  Asn1TimePtr this_update(ASN1_TIME_set(nullptr, static_cast<time_t>(to_unix(params.this_update))));
  Asn1TimePtr next_update(ASN1_TIME_set(nullptr, static_cast<time_t>(to_unix(params.next_update))));
  EXPECT_TRUE(X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) &&
              X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca.certificate())) &&
              X509_CRL_set1_lastUpdate(crl.get(), this_update.get()) &&
              X509_CRL_set1_nextUpdate(crl.get(), next_update.get()));
  for (const auto& e : entries) {
    X509RevokedPtr rev(X509_REVOKED_new());
    auto serial = serial_from_hex(e.serial);
    EXPECT_TRUE(serial);
    Asn1TimePtr when(ASN1_TIME_set(nullptr, static_cast<time_t>(to_unix(e.revoked_at))));
    X509_REVOKED_set_serialNumber(rev.get(), serial->get());
    X509_REVOKED_set_revocationDate(rev.get(), when.get());
    if (e.reason != RevocationReason::unspecified) {
      OsslPtr<ASN1_ENUMERATED, ASN1_ENUMERATED_free> code(ASN1_ENUMERATED_new());
      ASN1_ENUMERATED_set(code.get(), static_cast<long>(e.reason));
      X509_REVOKED_add1_ext_i2d(rev.get(), NID_crl_reason, code.get(), 0, 0);
    }
    X509_CRL_add0_revoked(crl.get(), rev.release());
  }
  X509_CRL_sort(crl.get());
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, ca.certificate(), nullptr, nullptr, crl.get(), 0);
  X509ExtPtr aki(X509V3_EXT_conf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always"));
  X509_CRL_add_ext(crl.get(), aki.get(), -1);
  Asn1IntegerPtr number(ASN1_INTEGER_new());
  ASN1_INTEGER_set_int64(number.get(), params.number);
  X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, 0);
  EXPECT_GT(X509_CRL_sign(crl.get(), ca.key(), EVP_sha256()), 0);
  return crl;
}

Bytes tbs_of(X509_CRL* crl) {
  unsigned char* p = nullptr;
  int n = i2d_re_X509_CRL_tbs(crl, &p);
  Bytes out(p, p + n);
  OPENSSL_free(p);
  return out;
}

// Serials of every shape: one octet, a top bit that needs a 0x00 pad, odd
// hex digits, leading zeros, 20 octets; every reason; dates in UTCTime and
// GeneralizedTime; in no particular order.
std::vector<CrlEntry> varied_entries(TimePoint now) {
  std::vector<CrlEntry> v = {
      {"01", now, RevocationReason::unspecified},
      {"ff", now - std::chrono::hours(5), RevocationReason::key_compromise},
      {"abc", now, RevocationReason::ca_compromise},
      {"000000fe", now, RevocationReason::affiliation_changed},
      {"7fffffffffffffffffffffffffffffff", now, RevocationReason::superseded},
      {"8000000000000000000000000000000000000001", now, RevocationReason::cessation_of_operation},
      {"0a0b", from_unix(2556143999), RevocationReason::certificate_hold},  // 2050-12-31
      {"1234", now, RevocationReason::privilege_withdrawn},
      {"1233", now, RevocationReason::aa_compromise},
  };
  std::mt19937_64 rng(42);
  for (int i = 0; i < 300; ++i) {
    Bytes b(16);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    b[0] &= 0x7f;
    v.push_back({hex_encode(b), now - std::chrono::seconds(i * 97),
                 static_cast<RevocationReason>(std::array{0, 1, 4, 6}[i % 4])});
  }
  return v;
}

TEST(CrlBuilder, EqualsOpenSslByteForByteWithAnRsaCa) {
  TestPki pki;
  auto& ca = pki.ca(CaKind::sign);
  auto now = from_unix(to_unix(pki.clock().now()));
  auto entries = varied_entries(now);
  CrlParams params{123456789012LL, now, now + std::chrono::hours(24)};
  auto ours = build_crl(ca, entries, params);
  ASSERT_TRUE(ours) << ours.error().message;
  auto theirs = reference_crl(ca, entries, params);
  EXPECT_EQ(hex_encode(*ours), hex_encode(to_der(theirs.get())));

  // And OpenSSL reads it back: signature, entries, reasons, number.
  auto crl = parse_crl(*ours);
  ASSERT_TRUE(crl);
  EXPECT_EQ(X509_CRL_verify(crl->get(), X509_get0_pubkey(ca.certificate())), 1);
  EXPECT_EQ(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl->get())),
            static_cast<int>(entries.size()));
  auto* number = static_cast<ASN1_INTEGER*>(
      X509_CRL_get_ext_d2i(crl->get(), NID_crl_number, nullptr, nullptr));
  ASSERT_NE(number, nullptr);
  std::int64_t n = 0;
  ASN1_INTEGER_get_int64(&n, number);
  EXPECT_EQ(n, 123456789012LL);
  ASN1_INTEGER_free(number);
}

TEST(CrlBuilder, HasTheSameTbsAsOpenSslWithAP256Ca) {
  PkiConfig config;
  config.algorithm = KeyAlgorithm::p256;
  TestPki pki(config);
  auto& ca = pki.ca(CaKind::auth);
  auto now = from_unix(to_unix(pki.clock().now()));
  auto entries = varied_entries(now);
  CrlParams params{9, now, now + std::chrono::hours(24)};
  auto ours = build_crl(ca, entries, params);
  ASSERT_TRUE(ours) << ours.error().message;
  auto crl = parse_crl(*ours);
  ASSERT_TRUE(crl);
  EXPECT_EQ(X509_CRL_verify(crl->get(), X509_get0_pubkey(ca.certificate())), 1);
  auto theirs = reference_crl(ca, entries, params);
  EXPECT_EQ(hex_encode(tbs_of(crl->get())), hex_encode(tbs_of(theirs.get())));
}

TEST(CrlBuilder, AnEmptyListLeavesRevokedCertificatesOut) {
  TestPki pki;
  auto& ca = pki.ca(CaKind::auth);
  auto now = from_unix(to_unix(pki.clock().now()));
  CrlParams params{1, now, now + std::chrono::hours(24)};
  auto ours = build_crl(ca, {}, params);
  ASSERT_TRUE(ours) << ours.error().message;
  EXPECT_EQ(hex_encode(*ours), hex_encode(to_der(reference_crl(ca, {}, params).get())));
}

TEST(CrlBuilder, AfterChangesEqualsABuildFromScratch) {
  TestPki pki;
  auto& ca = pki.ca(CaKind::sign);
  auto now = from_unix(to_unix(pki.clock().now()));
  auto entries = varied_entries(now);
  CrlBuilder builder(ca);
  for (const auto& e : entries) ASSERT_TRUE(builder.set(e));
  CrlParams params{2, now, now + std::chrono::hours(24)};
  ASSERT_TRUE(builder.build(params));

  // A suspension lifted, a suspension made a revocation, a new revocation.
  EXPECT_TRUE(builder.remove(entries[6].serial));
  EXPECT_FALSE(builder.remove("fedcba"));
  entries.erase(entries.begin() + 6);
  entries[10].reason = RevocationReason::key_compromise;
  entries[10].revoked_at = now + std::chrono::seconds(5);
  ASSERT_TRUE(builder.set(entries[10]));
  entries.push_back({"00c0ffee", now, RevocationReason::superseded});
  ASSERT_TRUE(builder.set(entries.back()));
  EXPECT_EQ(builder.size(), entries.size());

  params.number = 3;
  auto incremental = builder.build(params);
  auto scratch = build_crl(ca, entries, params);
  ASSERT_TRUE(incremental && scratch);
  EXPECT_EQ(hex_encode(*incremental), hex_encode(*scratch));
  EXPECT_EQ(hex_encode(*incremental), hex_encode(to_der(reference_crl(ca, entries, params).get())));

  // Enough changes that the builder folds them into its sorted array.
  std::mt19937_64 rng(7);
  for (int i = 0; i < 5000; ++i) {
    Bytes b(12);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    b[0] |= 0x01;
    entries.push_back({hex_encode(b), now, RevocationReason::key_compromise});
    ASSERT_TRUE(builder.set(entries.back()));
    if (i % 7 == 0) {  // and a suspension lifted among those listed
      auto gone = entries.begin() + i / 2;
      EXPECT_TRUE(builder.remove(gone->serial)) << gone->serial;
      entries.erase(gone);
    }
  }
  EXPECT_EQ(builder.size(), entries.size());
  params.number = 4;
  auto folded = builder.build(params);
  auto scratch_again = build_crl(ca, entries, params);
  ASSERT_TRUE(folded && scratch_again);
  EXPECT_EQ(hex_encode(*folded), hex_encode(*scratch_again));
  EXPECT_EQ(hex_encode(*folded), hex_encode(to_der(reference_crl(ca, entries, params).get())));
}

TEST(CrlBuilder, RefusesSerialsThatAreNotPositiveTwentyOctetHex) {
  TestPki pki;
  CrlBuilder builder(pki.ca(CaKind::sign));
  auto now = pki.clock().now();
  for (const std::string& bad :
       std::vector<std::string>{"", "zz", "0", "00", "-1", std::string(42, 'a')})
    EXPECT_FALSE(builder.set({bad, now, RevocationReason::superseded})) << bad;
  EXPECT_EQ(builder.size(), 0u);
}

}  // namespace
}  // namespace smacert::pki

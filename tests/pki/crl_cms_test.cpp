#include <gtest/gtest.h>

#include <random>

#include "pki/cms.h"
#include "pki/crl.h"
#include "support/test_pki.h"

namespace smacert::pki {
namespace {

using testing::TestPki;

TEST(Crl, ListsEveryEntryWithItsReasonNumberAndAki) {
  TestPki pki;
  auto& ca = pki.ca(CaKind::sign);
  std::vector<CrlEntry> entries = {
      {"0a0b", pki.clock().now(), RevocationReason::superseded},
      {"7fffffffffffffffffffffffffffffff", pki.clock().now(), RevocationReason::certificate_hold},
      {"01", pki.clock().now(), RevocationReason::unspecified},
  };
  auto der =
      build_crl(ca, entries, {7, pki.clock().now(), pki.clock().now() + std::chrono::hours(24)});
  ASSERT_TRUE(der) << der.error().message;
  auto crl = parse_crl(*der);
  ASSERT_TRUE(crl);
  EXPECT_EQ(X509_CRL_verify(crl->get(), ca.key()), 1);
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl->get());
  ASSERT_EQ(sk_X509_REVOKED_num(revoked), 3);
  std::map<std::string, int> reasons;
  for (int i = 0; i < 3; ++i) {
    X509_REVOKED* r = sk_X509_REVOKED_value(revoked, i);
    auto* code = static_cast<ASN1_ENUMERATED*>(
        X509_REVOKED_get_ext_d2i(r, NID_crl_reason, nullptr, nullptr));
    reasons[serial_hex(X509_REVOKED_get0_serialNumber(r))] =
        code ? static_cast<int>(ASN1_ENUMERATED_get(code)) : -1;
    ASN1_ENUMERATED_free(code);
  }
  EXPECT_EQ(reasons["0a0b"], 4);
  EXPECT_EQ(reasons["7fffffffffffffffffffffffffffffff"], 6);
  EXPECT_EQ(reasons["01"], -1);  // unspecified: the extension is absent (RFC 5280 5.3.1)
  auto* number = static_cast<ASN1_INTEGER*>(
      X509_CRL_get_ext_d2i(crl->get(), NID_crl_number, nullptr, nullptr));
  ASSERT_NE(number, nullptr);
  EXPECT_EQ(ASN1_INTEGER_get(number), 7);
  ASN1_INTEGER_free(number);
  EXPECT_GE(X509_CRL_get_ext_by_NID(crl->get(), NID_authority_key_identifier, -1), 0);
}

TEST(Crl, RefusesABadSerial) {
  TestPki pki;
  std::vector<CrlEntry> entries = {{"zz", pki.clock().now(), RevocationReason::superseded}};
  EXPECT_FALSE(build_crl(pki.ca(CaKind::sign), entries, {1, pki.clock().now(), pki.clock().now()}));
}

class CmsTest : public ::testing::Test {
 protected:
  CmsTest() : signer_cert_(pki_.issue(CertificateKind::phone_sign)) {}
  Result<CmsVerified> verify(const Bytes& sig, const Bytes& data, CertStatus status = Good{}) {
    X509* anchors[] = {pki_.ca(CaKind::sign).certificate(), pki_.ca(CaKind::auth).certificate()};
    return cms_verify_detached(
        sig, data, anchors, pki_.clock().now(),
        [&](const X509*, const X509*) -> Result<CertStatus> { return status; });
  }
  Bytes sign(const Bytes& data) {
    SoftwareSigner signer(PkeyPtr(EVP_PKEY_dup(signer_cert_.key.get())));
    auto sig = cms_sign_detached(data, signer, signer_cert_.cert.get(), {}, pki_.clock().now());
    EXPECT_TRUE(sig) << sig.error().message;
    return *sig;
  }
  TestPki pki_;
  testing::IssuedCert signer_cert_;
};

TEST_F(CmsTest, SignsAndVerifies) {
  Bytes data = to_bytes("電子申請書 — application form");
  auto v = verify(sign(data), data);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(X509_cmp(v->signer.get(), signer_cert_.cert.get()), 0);
  EXPECT_EQ(X509_cmp(v->issuer.get(), pki_.ca(CaKind::sign).certificate()), 0);
  ASSERT_TRUE(v->signing_time);
  EXPECT_EQ(to_unix(*v->signing_time), to_unix(pki_.clock().now()));
}

TEST_F(CmsTest, TamperedDataFails) {
  Bytes data = to_bytes("pay 100 yen");
  auto sig = sign(data);
  EXPECT_EQ(verify(sig, to_bytes("pay 900 yen")).error().code, Errc::verification);
}

TEST_F(CmsTest, ARevokedOrSuspendedSignerFails) {
  Bytes data = to_bytes("x");
  auto sig = sign(data);
  auto r = verify(sig, data, Revoked{pki_.clock().now(), RevocationReason::superseded});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("revoked (superseded"), std::string::npos);
  r = verify(sig, data, Revoked{pki_.clock().now(), RevocationReason::certificate_hold});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("suspended"), std::string::npos);
}

TEST_F(CmsTest, ASignerFromAnotherPkiFails) {
  TestPki other;
  auto stranger = other.issue(CertificateKind::phone_sign);
  SoftwareSigner signer(PkeyPtr(EVP_PKEY_dup(stranger.key.get())));
  Bytes data = to_bytes("x");
  auto sig = cms_sign_detached(data, signer, stranger.cert.get(), {}, pki_.clock().now());
  ASSERT_TRUE(sig);
  EXPECT_EQ(verify(*sig, data).error().code, Errc::verification);
}

TEST_F(CmsTest, AKeyThatIsNotTheCertificatesIsRefused) {
  SoftwareSigner wrong(std::move(*generate_key(KeyAlgorithm::rsa2048)));
  EXPECT_FALSE(
      cms_sign_detached(to_bytes("x"), wrong, signer_cert_.cert.get(), {}, pki_.clock().now()));
}

TEST_F(CmsTest, HostileSignaturesGiveErrorsNotCrashes) {
  Bytes data = to_bytes("x");
  auto sig = sign(data);
  EXPECT_EQ(verify({}, data).error().code, Errc::malformed);
  EXPECT_EQ(verify(Bytes(kMaxCmsSize + 1, 0x30), data).error().code, Errc::too_large);
  for (std::size_t n = 0; n < sig.size(); n += 7)
    EXPECT_FALSE(verify(Bytes(sig.begin(), sig.begin() + n), data));
  std::mt19937 rng(7);
  for (int i = 0; i < 300; ++i) {
    Bytes b = sig;
    b[rng() % b.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
    auto r = verify(b, data);
    if (r) {  // a flip in an unsigned field
      EXPECT_EQ(X509_cmp(r->signer.get(), signer_cert_.cert.get()), 0);
    }
  }
}

TEST(Der, HostileCertificatesAndRequestsGiveErrors) {
  TestPki pki;
  auto c = pki.issue(CertificateKind::card_auth);
  Bytes der = to_der(c.cert.get());
  for (std::size_t n = 0; n < der.size(); n += 13)
    EXPECT_EQ(parse_certificate(ByteView(der.data(), n)).error().code,
              n == 0 ? Errc::malformed : Errc::malformed);
  Bytes trailing = der;
  trailing.push_back(0);
  EXPECT_EQ(parse_certificate(trailing).error().code, Errc::malformed);
  EXPECT_EQ(parse_certificate(Bytes(kMaxDerSize + 1, 0x30)).error().code, Errc::too_large);
  EXPECT_EQ(parse_csr(Bytes{0x30, 0x84, 0xff, 0xff, 0xff, 0xff}).error().code, Errc::malformed);
  EXPECT_EQ(parse_csr(to_bytes("-----BEGIN CERTIFICATE REQUEST-----")).error().code,
            Errc::malformed);
  EXPECT_FALSE(parse_certificate_pem("not a certificate"));
  EXPECT_TRUE(parse_certificate(der));
}

}  // namespace
}  // namespace smacert::pki

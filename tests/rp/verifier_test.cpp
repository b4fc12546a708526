// The Verifier with the in-process status source: every verdict a relying
// party must tell apart, through the public interface, with real OpenSSL.
#include "rp/verifier.h"

#include <gtest/gtest.h>

#include "rp/rp_fixture.h"

namespace smacert::rp {
namespace {

using pki::CertificateKind;
using pki::RevocationReason;
using testing::revoked;
using testing::RpFixture;

using VerifyCertificate = RpFixture;
using VerifySignature = RpFixture;
using VerifyLogin = RpFixture;

TEST_F(VerifyCertificate, GoodCardSignatureCertificateWithItsFacts) {
  auto c = issue(CertificateKind::card_sign);
  auto r = verifier_.verify_certificate(c.cert.get());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->good());
  EXPECT_EQ(status_name(r->status), "good");
  EXPECT_EQ(r->issuer, pki::CaKind::sign);
  EXPECT_EQ(r->kind, CertificateKind::card_sign);
  EXPECT_EQ(r->profile, Profile::card);
  EXPECT_EQ(r->status_method, "ocsp");
  EXPECT_EQ(r->serial, pki::serial_hex(X509_get0_serialNumber(c.cert.get())));
  ASSERT_TRUE(r->facts);
  EXPECT_EQ(r->facts->name, smacert::testing::sample_facts().name);
  EXPECT_EQ(r->facts->birth_date, "1980-01-01");
  EXPECT_EQ(status_sentence(r->status), "");
}

TEST_F(VerifyCertificate, GoodPhoneAuthenticationCertificateHasNoFacts) {
  auto c = issue(CertificateKind::phone_auth);
  auto r = verifier_.verify_certificate(c.cert.get());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->good());
  EXPECT_EQ(r->issuer, pki::CaKind::auth);
  EXPECT_EQ(r->profile, Profile::phone);
  EXPECT_FALSE(r->facts);
}

TEST_F(VerifyCertificate, RevokedIsAVerdictWithItsReason) {
  auto c = issue(CertificateKind::phone_sign, revoked(RevocationReason::superseded));
  auto r = verifier_.verify_certificate(c.cert.get());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->good());
  EXPECT_EQ(status_name(r->status), "revoked");
  ASSERT_TRUE(std::holds_alternative<pki::Revoked>(r->status));
  EXPECT_EQ(std::get<pki::Revoked>(r->status).reason, RevocationReason::superseded);
  EXPECT_NE(status_sentence(r->status).find("revoked (superseded"), std::string::npos)
      << status_sentence(r->status);
}

TEST_F(VerifyCertificate, SuspendedIsNotRevoked) {
  auto c = issue(CertificateKind::card_auth, revoked(RevocationReason::certificate_hold));
  auto r = verifier_.verify_certificate(c.cert.get());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(status_name(r->status), "suspended");
  EXPECT_NE(status_sentence(r->status).find("suspended"), std::string::npos);
}

TEST_F(VerifyCertificate, ASerialTheCaNeverPublishedIsUnknown) {
  auto c = unpublished(CertificateKind::card_sign);  // not published at the responder
  auto r = verifier_.verify_certificate(c.cert.get());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(status_name(r->status), "unknown");
  EXPECT_FALSE(r->good());
}

TEST_F(VerifyCertificate, ForeignCaIsRejected) {
  smacert::testing::TestPki other(testing::fast_config());
  auto c = other.issue(CertificateKind::card_sign, std::nullopt, pki::KeyAlgorithm::p256);
  auto r = verifier_.verify_certificate(c.cert.get());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::verification);
  EXPECT_NE(r.error().message.find("does not chain"), std::string::npos) << r.error().message;
}

TEST_F(VerifyCertificate, ExpiredIsRejectedAsExpired) {
  auto c = issue(CertificateKind::card_sign);
  pki_.clock().advance(std::chrono::hours(24 * 366));
  auto r = verifier_.verify_certificate(c.cert.get());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::expired) << r.error().message;
}

TEST_F(VerifySignature, GoodSignatureGivesSignerTimeAndFacts) {
  auto c = issue(CertificateKind::phone_sign);
  Bytes data = to_bytes("契約書 v1: 100万円");
  auto v = verifier_.verify_signature(data, sign_document(c, data));
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_TRUE(v->signer.good());
  EXPECT_EQ(v->signer.profile, Profile::phone);
  ASSERT_TRUE(v->signing_time);
  EXPECT_LE(std::chrono::abs(*v->signing_time - pki_.clock().now()), std::chrono::seconds(2));
  ASSERT_TRUE(v->signer.facts);
  auto want = smacert::testing::sample_facts();
  EXPECT_EQ(v->signer.facts->name, want.name);
  EXPECT_EQ(v->signer.facts->address, want.address);
  EXPECT_EQ(v->signer.facts->birth_date, want.birth_date);
  EXPECT_EQ(v->signer.facts->sex, want.sex);
}

TEST_F(VerifySignature, TamperedDataFails) {
  auto c = issue(CertificateKind::card_sign);
  Bytes data = to_bytes("pay 100 yen");
  auto sig = sign_document(c, data);
  auto v = verifier_.verify_signature(to_bytes("pay 900 yen"), sig);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, Errc::verification);
}

TEST_F(VerifySignature, TamperedSignatureFails) {
  auto c = issue(CertificateKind::card_sign);
  Bytes data = to_bytes("pay 100 yen");
  auto sig = sign_document(c, data);
  sig[sig.size() - 5] ^= 0x01;  // inside the signature value
  auto v = verifier_.verify_signature(data, sig);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, Errc::verification);
}

TEST_F(VerifySignature, RevokedSignerFailsWithTheReason) {
  auto c = issue(CertificateKind::card_sign, revoked(RevocationReason::key_compromise));
  Bytes data = to_bytes("doc");
  auto v = verifier_.verify_signature(data, sign_document(c, data));
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, Errc::verification);
  EXPECT_NE(v.error().message.find("revoked (keyCompromise"), std::string::npos)
      << v.error().message;
}

TEST_F(VerifySignature, SuspendedAndUnknownSignersFail) {
  Bytes data = to_bytes("doc");
  auto held = issue(CertificateKind::phone_sign, revoked(RevocationReason::certificate_hold));
  auto v = verifier_.verify_signature(data, sign_document(held, data));
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("suspended"), std::string::npos) << v.error().message;
  auto unknown = unpublished(CertificateKind::phone_sign);
  v = verifier_.verify_signature(data, sign_document(unknown, data));
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("unknown"), std::string::npos) << v.error().message;
}

TEST_F(VerifySignature, ForeignSignerFails) {
  smacert::testing::TestPki other(testing::fast_config());
  auto c = other.issue(CertificateKind::card_sign, std::nullopt, pki::KeyAlgorithm::p256);
  Bytes data = to_bytes("doc");
  pki::SoftwareSigner s(pki::PkeyPtr(EVP_PKEY_dup(c.key.get())));
  auto sig = pki::cms_sign_detached(data, s, c.cert.get(), {}, other.clock().now());
  ASSERT_TRUE(sig);
  auto v = verifier_.verify_signature(data, *sig);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, Errc::verification);
}

TEST_F(VerifySignature, ExpiredSignerFailsAsExpired) {
  auto c = issue(CertificateKind::card_sign);
  Bytes data = to_bytes("doc");
  auto sig = sign_document(c, data);
  pki_.clock().advance(std::chrono::hours(24 * 366));
  auto v = verifier_.verify_signature(data, sig);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, Errc::expired) << v.error().message;
}

TEST_F(VerifySignature, AnAuthenticationKeyDoesNotSignDocuments) {
  auto c = issue(CertificateKind::phone_auth);
  Bytes data = to_bytes("doc");
  auto v = verifier_.verify_signature(data, sign_document(c, data));
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("user-authentication"), std::string::npos) << v.error().message;
}

TEST_F(VerifySignature, GarbageIsMalformed) {
  auto v = verifier_.verify_signature(to_bytes("doc"), to_bytes("not a CMS"));
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, Errc::malformed);
  v = verifier_.verify_signature(to_bytes("doc"), {});
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, Errc::malformed);
}

TEST_F(VerifyLogin, GoodLogin) {
  auto c = issue(CertificateKind::phone_auth);
  auto login = verifier_.verify_login(pki::to_der(c.cert.get()), "bank.example", "n0nce",
                                      sign_login(c, "bank.example", "n0nce"));
  ASSERT_TRUE(login) << login.error().message;
  EXPECT_EQ(login->certificate.profile, Profile::phone);
  EXPECT_EQ(login->certificate.serial, pki::serial_hex(X509_get0_serialNumber(c.cert.get())));
}

TEST_F(VerifyLogin, CardAuthenticationCertificatesLogInToo) {
  auto c = issue(CertificateKind::card_auth);
  auto login =
      verifier_.verify_login(pki::to_der(c.cert.get()), "rp", "n", sign_login(c, "rp", "n"));
  ASSERT_TRUE(login) << login.error().message;
  EXPECT_EQ(login->certificate.profile, Profile::card);
}

TEST_F(VerifyLogin, WrongAudienceOrNonceFails) {
  auto c = issue(CertificateKind::phone_auth);
  auto der = pki::to_der(c.cert.get());
  auto sig = sign_login(c, "bank.example", "n0nce");
  auto wrong_audience = verifier_.verify_login(der, "evil.example", "n0nce", sig);
  ASSERT_FALSE(wrong_audience);
  EXPECT_EQ(wrong_audience.error().code, Errc::verification);
  EXPECT_NE(wrong_audience.error().message.find("does not match"), std::string::npos);
  auto wrong_nonce = verifier_.verify_login(der, "bank.example", "other", sig);
  ASSERT_FALSE(wrong_nonce);
  EXPECT_EQ(wrong_nonce.error().code, Errc::verification);
}

TEST_F(VerifyLogin, RevokedSuspendedUnknownAreRefusedWithTheReason) {
  struct Case {
    pki::CertStatus status;
    std::string says;
  };
  const Case cases[] = {{revoked(RevocationReason::superseded), "revoked (superseded"},
                        {revoked(RevocationReason::certificate_hold), "suspended"},
                        {pki::Unknown{}, "unknown"}};
  for (const auto& k : cases) {
    auto c = unpublished(CertificateKind::phone_auth);
    if (!std::holds_alternative<pki::Unknown>(k.status)) set_status(c.cert.get(), k.status);
    auto login =
        verifier_.verify_login(pki::to_der(c.cert.get()), "rp", "n", sign_login(c, "rp", "n"));
    ASSERT_FALSE(login) << k.says;
    EXPECT_EQ(login.error().code, Errc::forbidden);
    EXPECT_NE(login.error().message.find(k.says), std::string::npos) << login.error().message;
  }
}

TEST_F(VerifyLogin, ASignatureCertificateDoesNotLogIn) {
  auto c = issue(CertificateKind::card_sign);
  auto login =
      verifier_.verify_login(pki::to_der(c.cert.get()), "rp", "n", sign_login(c, "rp", "n"));
  ASSERT_FALSE(login);
  EXPECT_NE(login.error().message.find("signature certificate"), std::string::npos);
}

TEST_F(VerifyLogin, ForeignExpiredAndGarbageFail) {
  smacert::testing::TestPki other(testing::fast_config());
  auto foreign = other.issue(CertificateKind::phone_auth, std::nullopt, pki::KeyAlgorithm::p256);
  auto login = verifier_.verify_login(pki::to_der(foreign.cert.get()), "rp", "n",
                                      sign_login(foreign, "rp", "n"));
  ASSERT_FALSE(login);
  EXPECT_EQ(login.error().code, Errc::verification);

  login = verifier_.verify_login(to_bytes("junk"), "rp", "n", to_bytes("sig"));
  ASSERT_FALSE(login);
  EXPECT_EQ(login.error().code, Errc::malformed);

  auto c = issue(CertificateKind::phone_auth);
  pki_.clock().advance(std::chrono::hours(24 * 366));
  login = verifier_.verify_login(pki::to_der(c.cert.get()), "rp", "n", sign_login(c, "rp", "n"));
  ASSERT_FALSE(login);
  EXPECT_EQ(login.error().code, Errc::expired);
}

}  // namespace
}  // namespace smacert::rp

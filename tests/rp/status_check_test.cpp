// Revocation pointers, OCSP requests and CRL lookups, without the network.
#include "rp/status_check.h"

#include <gtest/gtest.h>

#include "pki/crl.h"
#include "rp/rp_fixture.h"

namespace smacert::rp {
namespace {

using pki::CertificateKind;
using pki::RevocationReason;
using testing::RpFixture;

using StatusCheck = RpFixture;

Result<pki::X509CrlPtr> crl_of(const pki::CertificateAuthority& ca,
                               std::vector<pki::CrlEntry> entries, TimePoint now) {
  auto der = pki::build_crl(ca, entries, {1, now, now + std::chrono::hours(24)});
  if (!der) return fail(der.error());
  return pki::parse_crl(*der);
}

TEST_F(StatusCheck, UrlsComeFromTheCertificate) {
  auto c = unpublished(CertificateKind::phone_sign);
  auto ocsp = ocsp_url_of(c.cert.get());
  ASSERT_TRUE(ocsp) << ocsp.error().message;
  EXPECT_EQ(*ocsp, pki_.config().ocsp_url(pki::CaKind::sign));
  auto crl = crl_url_of(c.cert.get());
  ASSERT_TRUE(crl) << crl.error().message;
  EXPECT_EQ(*crl, pki_.config().crl_url(pki::CaKind::sign));
  // A root names neither.
  EXPECT_EQ(ocsp_url_of(pki_.ca(pki::CaKind::sign).certificate()).error().code, Errc::not_found);
  EXPECT_EQ(crl_url_of(pki_.ca(pki::CaKind::sign).certificate()).error().code, Errc::not_found);
}

TEST_F(StatusCheck, TheOcspRequestIsOneTheResponderUnderstands) {
  auto c = unpublished(CertificateKind::card_auth);
  auto req = ocsp_request_for(c.cert.get(), pki_.ca(pki::CaKind::auth).certificate());
  ASSERT_TRUE(req) << req.error().message;
  auto q = pki::parse_ocsp_request(*req);
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_EQ(q->hash, pki::OcspQuery::Hash::sha1);
  EXPECT_EQ(*pki::serial_bytes(pki::serial_hex(X509_get0_serialNumber(c.cert.get()))), q->serial);
}

TEST_F(StatusCheck, CrlListsRevokedAndSuspendedSerials) {
  auto now = pki_.clock().now();
  auto good = unpublished(CertificateKind::card_sign);
  auto gone = unpublished(CertificateKind::card_sign);
  auto held = unpublished(CertificateKind::phone_sign);
  auto serial = [](const X509* c) { return pki::serial_hex(X509_get0_serialNumber(c)); };
  auto crl = crl_of(pki_.ca(pki::CaKind::sign),
                    {{serial(gone.cert.get()), now, RevocationReason::affiliation_changed},
                     {serial(held.cert.get()), now, RevocationReason::certificate_hold}},
                    now);
  ASSERT_TRUE(crl) << crl.error().message;
  const X509* root = pki_.ca(pki::CaKind::sign).certificate();

  auto s = status_from_crl(crl->get(), good.cert.get(), root, now);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(status_name(*s), "good");
  s = status_from_crl(crl->get(), gone.cert.get(), root, now);
  ASSERT_TRUE(s);
  ASSERT_EQ(status_name(*s), "revoked");
  EXPECT_EQ(std::get<pki::Revoked>(*s).reason, RevocationReason::affiliation_changed);
  s = status_from_crl(crl->get(), held.cert.get(), root, now);
  ASSERT_TRUE(s);
  EXPECT_EQ(status_name(*s), "suspended");
}

TEST_F(StatusCheck, CrlOfAnotherIssuerOrOutOfDateIsRefused) {
  auto now = pki_.clock().now();
  auto c = unpublished(CertificateKind::card_sign);
  const X509* sign_root = pki_.ca(pki::CaKind::sign).certificate();
  auto auth_crl = crl_of(pki_.ca(pki::CaKind::auth), {}, now);
  ASSERT_TRUE(auth_crl);
  auto s = status_from_crl(auth_crl->get(), c.cert.get(), sign_root, now);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::verification);

  // Same name, other key: a foreign CA that copied the name.
  smacert::testing::TestPki other(testing::fast_config());
  auto forged = crl_of(other.ca(pki::CaKind::sign), {}, now);
  ASSERT_TRUE(forged);
  s = status_from_crl(forged->get(), c.cert.get(), sign_root, now);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::verification);

  auto crl = crl_of(pki_.ca(pki::CaKind::sign), {}, now);
  ASSERT_TRUE(crl);
  s = status_from_crl(crl->get(), c.cert.get(), sign_root, now + std::chrono::hours(25));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::expired);
  s = status_from_crl(crl->get(), c.cert.get(), sign_root, now - std::chrono::hours(1));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::verification);
}

TEST_F(StatusCheck, OcspOverHttpSaysUnavailableWhenNobodyListens) {
  // The test PKI's certificates point at 127.0.0.1:8700 unless configured;
  // use a port that was just free instead, so the answer is certain.
  pki::PkiConfig config = testing::fast_config();
  config.public_url = "http://127.0.0.1:9";  // discard: nothing listens on loopback
  smacert::testing::TestPki pki(config);
  auto c = pki.issue(CertificateKind::card_sign, std::nullopt, pki::KeyAlgorithm::p256);
  OcspOverHttp ocsp(std::chrono::milliseconds(2000));
  auto s = ocsp.status(c.cert.get(), pki.ca(pki::CaKind::sign).certificate(), pki.clock().now());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::unavailable) << s.error().message;
  CrlOverHttp crl(std::chrono::seconds(60), std::chrono::milliseconds(2000));
  s = crl.status(c.cert.get(), pki.ca(pki::CaKind::sign).certificate(), pki.clock().now());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::unavailable) << s.error().message;
}

}  // namespace
}  // namespace smacert::rp

// Our PKI artefacts checked by real peers: OpenSSL, GnuTLS and NSS command-line
// tools (markers and exit codes from spec/interop-peers.md). Each test asserts
// both the exit code and the verdict text, because several tools exit 0 on a
// revoked status.
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "pki/cms.h"
#include "pki/crl.h"
#include "pki/ocsp.h"
#include "support/process.h"
#include "support/test_pki.h"

namespace smacert::pki {
namespace {

using testing::run;
using testing::sh;
using testing::TestPki;

pki::PkiConfig config_for_nss_legacy() {
  pki::PkiConfig c;
  c.policies_critical = false;
  return c;
}

class PeersTest : public ::testing::TestWithParam<bool> {
 protected:
  // The parameter: certificatePolicies critical (JPKI's shape, the default) or not.
  PeersTest() : pki_(GetParam() ? pki::PkiConfig{} : config_for_nss_legacy()) {}
  bool critical() const { return GetParam(); }
  void SetUp() override {
    sign_root_ = pki_.write("sign-root.pem", to_pem(pki_.ca(CaKind::sign).certificate()));
    auth_root_ = pki_.write("auth-root.pem", to_pem(pki_.ca(CaKind::auth).certificate()));
  }
  std::string pem_file(const std::string& name, const X509* c) {
    return pki_.write(name, to_pem(c));
  }
  std::string root_of(CertificateKind k) {
    return ca_of(k) == CaKind::sign ? sign_root_ : auth_root_;
  }

  // A pre-signed response from our responder for `cert`, saved as DER.
  std::string ocsp_response_file(const std::string& name, const X509* cert, CaKind ca,
                                 CertStatus status) {
    OcspResponder responder(pki_.authorities(), pki_.clock());
    auto serial = *serial_bytes(serial_hex(X509_get0_serialNumber(cert)));
    if (!std::holds_alternative<Unknown>(status))
      responder.put(ca, serial, *responder.sign_entry(ca, serial, status));
    OcspRequestPtr req(OCSP_REQUEST_new());
    OCSP_request_add0_id(req.get(), OCSP_cert_to_id(EVP_sha1(), cert, pki_.ca(ca).certificate()));
    unsigned char* der = nullptr;
    int len = i2d_OCSP_REQUEST(req.get(), &der);
    Bytes request(der, der + len);
    OPENSSL_free(der);
    return pki_.write(name, *responder.respond(request));
  }

  std::string nss_db() {
    std::string db = (pki_.dir() / "nssdb").string();
    std::filesystem::create_directories(db);
    EXPECT_EQ(run("certutil -N -d sql:" + sh(db) + " --empty-password").rc, 0);
    EXPECT_EQ(
        run("certutil -A -d sql:" + sh(db) + " -n sign-root -t CT,C,C -a -i " + sh(sign_root_)).rc,
        0);
    EXPECT_EQ(
        run("certutil -A -d sql:" + sh(db) + " -n auth-root -t CT,C,C -a -i " + sh(auth_root_)).rc,
        0);
    return db;
  }

  TestPki pki_;
  std::string sign_root_, auth_root_;
};

TEST_P(PeersTest, EveryProfileChainsForOpensslGnutlsAndNss) {
  for (auto kind : {CertificateKind::card_sign, CertificateKind::card_auth,
                    CertificateKind::phone_sign, CertificateKind::phone_auth}) {
    SCOPED_TRACE(std::string(certificate_kind_name(kind)));
    auto issued = pki_.issue(kind);
    auto ee = pem_file("ee.pem", issued.cert.get());
    auto r = run("openssl verify -x509_strict -CAfile " + sh(root_of(kind)) + " " + sh(ee));
    EXPECT_EQ(r.rc, 0) << r.output;
    EXPECT_NE(r.output.find(": OK"), std::string::npos) << r.output;
    r = run("certtool --verify --load-ca-certificate " + sh(root_of(kind)) + " --infile " + sh(ee));
    EXPECT_EQ(r.rc, 0) << r.output;
    EXPECT_NE(r.output.find("Chain verification output: Verified. The certificate is trusted."),
              std::string::npos)
        << r.output;
    r = run("vfychain -pp -u 4 -a " + sh(ee) + " -t -a " + sh(root_of(kind)));
    EXPECT_EQ(r.rc, 0) << r.output;
    EXPECT_NE(r.output.find("Chain is good!"), std::string::npos) << r.output;
    // The wrong hierarchy does not verify it.
    auto other = ca_of(kind) == CaKind::sign ? auth_root_ : sign_root_;
    r = run("openssl verify -CAfile " + sh(other) + " " + sh(ee));
    EXPECT_EQ(r.rc, 2) << r.output;
  }
}

TEST_P(PeersTest, SignatureCertificateShowsTheFourFactsToEveryParser) {
  auto issued = pki_.issue(CertificateKind::card_sign);
  auto ee = pem_file("sign.pem", issued.cert.get());
  auto r = run("openssl x509 -in " + sh(ee) + " -noout -text");
  ASSERT_EQ(r.rc, 0) << r.output;
  for (const char* marker :
       {"othername: 1.2.392.200149.8.5.5.1::見本　花子",
        "othername: 1.2.392.200149.8.5.5.4::319800101", "othername: 1.2.392.200149.8.5.5.3::2",
        "othername: 1.2.392.200149.8.5.5.5::東京都千代田区霞が関１－２－３",
        "othername: 1.2.392.200149.8.5.5.2::00000", "Digital Signature, Non Repudiation",
        "X509v3 Certificate Policies:", "OCSP - URI:http://127.0.0.1:8700/ocsp/sign",
        "URI:http://127.0.0.1:8700/crl/sign.crl", "X509v3 Key Usage: critical"})
    EXPECT_NE(r.output.find(marker), std::string::npos) << marker << "\n" << r.output;
  EXPECT_EQ(r.output.find("X509v3 Certificate Policies: critical") != std::string::npos,
            critical());
  // Real certificates carry the facts in the order .1 .4 .3 .5 .2 .6.
  auto p1 = r.output.find("8.5.5.1::"), p4 = r.output.find("8.5.5.4::"),
       p3 = r.output.find("8.5.5.3::"), p5 = r.output.find("8.5.5.5::"),
       p2 = r.output.find("8.5.5.2::"), p6 = r.output.find("8.5.5.6::");
  EXPECT_TRUE(p1 < p4 && p4 < p3 && p3 < p5 && p5 < p2 && p2 < p6) << r.output;
  // GnuTLS shows the raw UTF8String: 0c 0f then the 15 bytes of 見本　花子.
  r = run("certtool -i --infile " + sh(ee));
  ASSERT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("otherName OID: 1.2.392.200149.8.5.5.1"), std::string::npos);
  EXPECT_NE(r.output.find("otherName DER: 0c0fe8a68be69cace38080e88ab1e5ad90"), std::string::npos)
      << r.output;
  r = run("nss-pp -t certificate -a -i " + sh(ee));
  EXPECT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("OID: OID.1.2.392.200149.8.5.5.1"), std::string::npos) << r.output;
  // The authentication certificate carries no personal facts.
  auto auth = pem_file("auth.pem", pki_.issue(CertificateKind::card_auth).cert.get());
  r = run("openssl x509 -in " + sh(auth) + " -noout -text");
  EXPECT_EQ(r.output.find("othername"), std::string::npos);
  EXPECT_EQ(r.output.find("Non Repudiation"), std::string::npos);
}

TEST_P(PeersTest, OcspResponsesVerifyAsGoodRevokedAndUnknown) {
  auto issued = pki_.issue(CertificateKind::phone_auth);
  auto ee = pem_file("ee.pem", issued.cert.get());
  struct Case {
    CertStatus status;
    const char* openssl;
    const char* gnutls;
  } cases[] = {
      {Good{}, ": good", "Certificate Status: good"},
      {Revoked{pki_.clock().now(), RevocationReason::superseded}, ": revoked",
       "Certificate Status: revoked"},
      {Unknown{}, ": unknown", "Certificate Status: unknown"},
  };
  for (auto& c : cases) {
    SCOPED_TRACE(c.openssl);
    auto resp = ocsp_response_file("resp.der", issued.cert.get(), CaKind::auth, c.status);
    auto r = run("openssl ocsp -respin " + sh(resp) + " -issuer " + sh(auth_root_) + " -cert " +
                 sh(ee) + " -CAfile " + sh(auth_root_) + " -no_nonce");
    EXPECT_EQ(r.rc, 0) << r.output;
    EXPECT_NE(r.output.find("Response verify OK"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(c.openssl), std::string::npos) << r.output;
    if (std::holds_alternative<Revoked>(c.status)) {
      EXPECT_NE(r.output.find("Reason: superseded"), std::string::npos) << r.output;
    }
    r = run("ocsptool -j --infile " + sh(resp));
    EXPECT_EQ(r.rc, 0) << r.output;
    EXPECT_NE(r.output.find(c.gnutls), std::string::npos) << r.output;
    r = run("ocsptool -e --load-trust " + sh(auth_root_) + " --infile " + sh(resp));
    EXPECT_EQ(r.rc, 0) << r.output;
    EXPECT_NE(r.output.find("Verifying OCSP Response: Success."), std::string::npos) << r.output;
  }
  // The sign hierarchy's root must not validate the auth responder.
  auto resp = ocsp_response_file("resp.der", issued.cert.get(), CaKind::auth, Good{});
  auto r = run("openssl ocsp -respin " + sh(resp) + " -issuer " + sh(auth_root_) + " -cert " +
               sh(ee) + " -CAfile " + sh(sign_root_) + " -no_nonce");
  EXPECT_NE(r.output.find("Response Verify Failure"), std::string::npos) << r.output;
}

TEST_P(PeersTest, CrlParsesVerifiesAndRevokesForEveryPeer) {
  auto revoked = pki_.issue(CertificateKind::card_sign);
  auto held = pki_.issue(CertificateKind::phone_sign);
  auto good = pki_.issue(CertificateKind::phone_sign);
  std::vector<CrlEntry> entries = {
      {serial_hex(X509_get0_serialNumber(revoked.cert.get())), pki_.clock().now(),
       RevocationReason::key_compromise},
      {serial_hex(X509_get0_serialNumber(held.cert.get())), pki_.clock().now(),
       RevocationReason::certificate_hold},
  };
  auto der = build_crl(pki_.ca(CaKind::sign), entries,
                       {3, pki_.clock().now(), pki_.clock().now() + std::chrono::hours(24)});
  ASSERT_TRUE(der);
  auto crl = pki_.write("sign.crl", *der);
  auto r = run("openssl crl -inform DER -in " + sh(crl) + " -CAfile " + sh(sign_root_) +
               " -noout -text");
  EXPECT_EQ(r.rc, 0) << r.output;
  for (const char* marker :
       {"verify OK", "X509v3 CRL Number: \n                3", "Key Compromise", "Certificate Hold",
        "X509v3 Authority Key Identifier"})
    EXPECT_NE(r.output.find(marker), std::string::npos) << marker << "\n" << r.output;
  auto serial_upper = [](const X509* c) {
    std::string s = serial_hex(X509_get0_serialNumber(c));
    for (auto& ch : s) ch = static_cast<char>(std::toupper(ch));
    return s;
  };
  EXPECT_NE(r.output.find(serial_upper(revoked.cert.get())), std::string::npos);
  EXPECT_NE(r.output.find(serial_upper(held.cert.get())), std::string::npos);

  auto rev_pem = pem_file("rev.pem", revoked.cert.get());
  auto good_pem = pem_file("good.pem", good.cert.get());
  r = run("openssl verify -crl_check -CAfile " + sh(sign_root_) + " -CRLfile " + sh(crl) + " " +
          sh(rev_pem));
  EXPECT_EQ(r.rc, 2) << r.output;
  EXPECT_NE(r.output.find("certificate revoked"), std::string::npos) << r.output;
  r = run("openssl verify -crl_check -CAfile " + sh(sign_root_) + " -CRLfile " + sh(crl) + " " +
          sh(good_pem));
  EXPECT_EQ(r.rc, 0) << r.output;

  auto crl_pem = pki_.write("sign.crl.pem", "");
  ASSERT_EQ(run("openssl crl -inform DER -in " + sh(crl) + " -out " + sh(crl_pem)).rc, 0);
  r = run("certtool --verify-crl --load-ca-certificate " + sh(sign_root_) + " --infile " +
          sh(crl_pem));
  EXPECT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("Verification output: Verified."), std::string::npos) << r.output;
  r = run("certtool --verify --load-ca-certificate " + sh(sign_root_) + " --load-crl " +
          sh(crl_pem) + " --infile " + sh(rev_pem));
  EXPECT_EQ(r.rc, 1) << r.output;
  EXPECT_NE(r.output.find("The certificate chain is revoked."), std::string::npos) << r.output;

  auto db = nss_db();
  EXPECT_EQ(run("crlutil -I -d sql:" + sh(db) + " -t 1 -i " + sh(crl)).rc, 0);
  ASSERT_EQ(run("certutil -A -d sql:" + sh(db) + " -n rev -t ,, -a -i " + sh(rev_pem)).rc, 0);
  r = run("certutil -V -d sql:" + sh(db) + " -u S -n rev");
  // NSS's legacy verifier knows no critical certificatePolicies (see PkiConfig).
  EXPECT_NE(r.output.find(critical() ? "Certificate contains unknown critical extension."
                                     : "Peer's Certificate has been revoked."),
            std::string::npos)
      << r.output;
}

TEST_P(PeersTest, CmsSignaturesVerifyWithOpensslGnutlsAndNss) {
  auto issued = pki_.issue(CertificateKind::phone_sign);
  SoftwareSigner signer(PkeyPtr(EVP_PKEY_dup(issued.key.get())));
  Bytes data = to_bytes("契約書 contract v1\n");
  auto sig = cms_sign_detached(data, signer, issued.cert.get(), {}, pki_.clock().now());
  ASSERT_TRUE(sig) << sig.error().message;
  auto sig_file = pki_.write("doc.p7s", *sig);
  auto data_file = pki_.write("doc.txt", data);
  auto r = run("openssl cms -verify -binary -inform DER -in " + sh(sig_file) + " -content " +
               sh(data_file) + " -CAfile " + sh(sign_root_) + " -out /dev/null");
  EXPECT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("CMS Verification successful"), std::string::npos) << r.output;
  r = run("certtool --p7-verify --inder --infile " + sh(sig_file) + " --load-data " +
          sh(data_file) + " --load-ca-certificate " + sh(sign_root_));
  EXPECT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("Signature status: ok"), std::string::npos) << r.output;
  auto db = nss_db();
  r = run("cmsutil -D -d sql:" + sh(db) + " -i " + sh(sig_file) + " -c " + sh(data_file) +
          " -n -h 1");
  EXPECT_NE(r.output.find(critical() ? "signer0.status=SigningCertNotTrusted"
                                     : "signer0.status=GoodSignature"),
            std::string::npos)
      << r.output;

  // Tampered content fails for each of them.
  auto bad = pki_.write("bad.txt", to_bytes("契約書 contract v2\n"));
  r = run("openssl cms -verify -binary -inform DER -in " + sh(sig_file) + " -content " + sh(bad) +
          " -CAfile " + sh(sign_root_) + " -out /dev/null");
  EXPECT_EQ(r.rc, 4) << r.output;
  r = run("certtool --p7-verify --inder --infile " + sh(sig_file) + " --load-data " + sh(bad) +
          " --load-ca-certificate " + sh(sign_root_));
  EXPECT_EQ(r.rc, 1) << r.output;
  if (!critical()) {
    r = run("cmsutil -D -d sql:" + sh(db) + " -i " + sh(sig_file) + " -c " + sh(bad) + " -n -h 1");
    EXPECT_NE(r.output.find("signer0.status=DigestMismatch"), std::string::npos) << r.output;
  }
}

TEST_P(PeersTest, OurCmsVerifierAcceptsWhatOpensslSigns) {
  auto issued = pki_.issue(CertificateKind::phone_sign);
  auto cert = pem_file("signer.pem", issued.cert.get());
  auto key = pki_.write("signer.key", private_key_pem(issued.key.get()));
  auto data_file = pki_.write("doc.txt", to_bytes("hello"));
  auto sig_file = (pki_.dir() / "doc.p7s").string();
  auto r = run("openssl cms -sign -binary -outform DER -in " + sh(data_file) + " -signer " +
               sh(cert) + " -inkey " + sh(key) + " -md sha256 -out " + sh(sig_file));
  ASSERT_EQ(r.rc, 0) << r.output;
  auto sig = read_file(sig_file);
  X509* anchors[] = {pki_.ca(CaKind::sign).certificate()};
  auto v =
      cms_verify_detached(*sig, to_bytes("hello"), anchors, pki_.clock().now(),
                          [](const X509*, const X509*) -> Result<CertStatus> { return Good{}; });
  EXPECT_TRUE(v) << v.error().message;
}

INSTANTIATE_TEST_SUITE_P(Policies, PeersTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "critical" : "noncritical"; });

}  // namespace
}  // namespace smacert::pki

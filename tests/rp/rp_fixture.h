// A relying party in process: a throwaway PKI, the OCSP responder over it,
// and a Verifier that asks that responder as the service does.
#pragma once

#include <gtest/gtest.h>

#include "pki/cms.h"
#include "pki/ocsp.h"
#include "protocol/canonical.h"
#include "rp/verifier.h"
#include "support/test_pki.h"

namespace smacert::rp::testing {

inline pki::X509Ptr copy_of(X509* cert) {
  X509_up_ref(cert);
  return pki::X509Ptr(cert);
}

// P-256 keys for the CAs and end entities: key generation dominates these
// tests' time, and the verification paths are the same (the server tests
// cover RSA-2048, the default).
inline pki::PkiConfig fast_config() {
  pki::PkiConfig c;
  c.algorithm = pki::KeyAlgorithm::p256;
  return c;
}

class RpFixture : public ::testing::Test {
 protected:
  RpFixture()
      : pki_(fast_config()),
        responder_(pki_.authorities(), pki_.clock()),
        source_(responder_),
        verifier_(anchors_of(pki_), source_, pki_.clock()) {}

  static TrustAnchors anchors_of(smacert::testing::TestPki& pki) {
    return TrustAnchors{copy_of(pki.ca(pki::CaKind::sign).certificate()),
                        copy_of(pki.ca(pki::CaKind::auth).certificate())};
  }

  // Issues a certificate and publishes its status at the responder.
  smacert::testing::IssuedCert issue(pki::CertificateKind kind,
                                     pki::CertStatus status = pki::Good{}) {
    auto issued = unpublished(kind);
    set_status(issued.cert.get(), status);
    return issued;
  }

  // A certificate whose status the responder was never told: "unknown".
  smacert::testing::IssuedCert unpublished(pki::CertificateKind kind) {
    return pki_.issue(kind, std::nullopt, pki::KeyAlgorithm::p256);
  }

  void set_status(const X509* cert, const pki::CertStatus& status) {
    auto ca = X509_NAME_cmp(X509_get_issuer_name(cert),
                            X509_get_subject_name(pki_.ca(pki::CaKind::sign).certificate())) == 0
                  ? pki::CaKind::sign
                  : pki::CaKind::auth;
    auto serial = pki::serial_bytes(pki::serial_hex(X509_get0_serialNumber(cert)));
    ASSERT_TRUE(serial);
    auto entry = responder_.sign_entry(ca, *serial, status);
    ASSERT_TRUE(entry) << entry.error().message;
    responder_.put(ca, *serial, *entry);
  }

  Bytes sign_document(const smacert::testing::IssuedCert& signer, ByteView data) {
    pki::SoftwareSigner s(pki::PkeyPtr(EVP_PKEY_dup(signer.key.get())));
    auto cms = pki::cms_sign_detached(data, s, signer.cert.get(), {}, pki_.clock().now());
    EXPECT_TRUE(cms) << cms.error().message;
    return cms ? *cms : Bytes{};
  }

  Bytes sign_login(const smacert::testing::IssuedCert& signer, const std::string& audience,
                   const std::string& nonce) {
    pki::SoftwareSigner s(pki::PkeyPtr(EVP_PKEY_dup(signer.key.get())));
    auto sig = s.sign_sha256(pki::sha256(protocol::login_bytes(audience, nonce)));
    EXPECT_TRUE(sig) << sig.error().message;
    return sig ? *sig : Bytes{};
  }

  smacert::testing::TestPki pki_;
  pki::OcspResponder responder_;
  InProcessOcsp source_;
  Verifier verifier_;
};

inline pki::Revoked revoked(pki::RevocationReason reason) {
  return pki::Revoked{std::chrono::system_clock::now() - std::chrono::hours(1), reason};
}

}  // namespace smacert::rp::testing

#include "pki/csr.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/err.h>

#include <cstdio>
#include <fstream>

#include "pki/authority.h"
#include "pki/key.h"
#include "support/test_pki.h"

namespace smacert::pki {
namespace {

using testing::TestPki;

Bytes spki_of(const EVP_PKEY* key) {
  return public_key_der(key);
}

Bytes csr_der(const PkeyPtr& key, const EVP_MD* md = EVP_sha256(),
              const PkeyPtr* signed_by = nullptr) {
  X509ReqPtr req(X509_REQ_new());
  X509NamePtr name(X509_NAME_new());
  X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("phone"), -1, -1, 0);
  X509_REQ_set_subject_name(req.get(), name.get());
  X509_REQ_set_pubkey(req.get(), key.get());
  X509_REQ_sign(req.get(), (signed_by ? *signed_by : key).get(), md);
  return to_der(req.get());
}

PkeyPtr key_of(const char* type, const char* param) {
  if (std::string_view(type) == "RSA")
    return PkeyPtr(
        EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(std::stoul(param))));
  if (std::string_view(type) == "EC")
    return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", param));
  return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, type));
}

// What OpenSSL's own reader says of the same bytes: the request parses, is
// signed by its key, and carries this SubjectPublicKeyInfo.
std::optional<Bytes> openssl_view(ByteView der) {
  const unsigned char* p = der.data();
  X509ReqPtr req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
  ERR_clear_error();
  if (!req || p != der.data() + der.size()) return std::nullopt;
  EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());
  if (key == nullptr || X509_REQ_verify(req.get(), key) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  return spki_of(key);
}

TEST(CertificateRequest, ReadsRsaAndEcRequestsAsOpenSslDoes) {
  for (auto [type, param] :
       {std::pair{"RSA", "2048"}, {"RSA", "1024"}, {"EC", "P-256"}, {"EC", "P-384"}}) {
    auto key = key_of(type, param);
    for (const EVP_MD* md : {EVP_sha256(), EVP_sha384(), EVP_sha512()}) {
      Bytes der = csr_der(key, md);
      auto csr = CertificateRequest::parse(der);
      ASSERT_TRUE(csr) << type << param << ": " << csr.error().message;
      EXPECT_EQ(Bytes(csr->subject_public_key_info().begin(), csr->subject_public_key_info().end()),
                spki_of(key.get()));
      EXPECT_EQ(EVP_PKEY_eq(csr->public_key(), key.get()), 1);
      EXPECT_EQ(csr->der(), der);
      EXPECT_EQ(openssl_view(der), spki_of(key.get()));
    }
  }
}

TEST(CertificateRequest, ReadsWhatTheOpensslCommandMakes) {
  testing::TempDir dir("csr");
  for (std::string newkey : {"rsa:2048", "ec -pkeyopt ec_paramgen_curve:P-256"}) {
    auto out = (dir.path() / "req.der").string();
    std::string cmd = "openssl req -new -newkey " + newkey + " -nodes -keyout " +
                      (dir.path() / "key.pem").string() +
                      " -subj /C=JP/CN=phone -addext subjectAltName=DNS:phone.example -outform DER"
                      " -out " +
                      out + " 2>/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ifstream f(out, std::ios::binary);
    Bytes der((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    auto csr = CertificateRequest::parse(der);
    ASSERT_TRUE(csr) << newkey << ": " << csr.error().message;
    EXPECT_EQ(openssl_view(der),
              Bytes(csr->subject_public_key_info().begin(), csr->subject_public_key_info().end()));
  }
}

TEST(CertificateRequest, RefusesARequestNotSignedByItsOwnKey) {
  auto key = key_of("EC", "P-256");
  auto other = key_of("EC", "P-256");
  auto r = CertificateRequest::parse(csr_der(key, EVP_sha256(), &other));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::verification);
  EXPECT_NE(r.error().message.find("proof of possession"), std::string::npos);
  auto rsa = key_of("RSA", "2048");
  auto rsa2 = key_of("RSA", "2048");
  EXPECT_EQ(CertificateRequest::parse(csr_der(rsa, EVP_sha256(), &rsa2)).error().code,
            Errc::verification);
}

TEST(CertificateRequest, RefusesAlgorithmsOutsideWhatItTakes) {
  auto rsa = key_of("RSA", "2048");
  EXPECT_EQ(CertificateRequest::parse(csr_der(rsa, EVP_sha1())).error().code, Errc::policy);
  auto ed = key_of("ED25519", nullptr);
  EXPECT_EQ(CertificateRequest::parse(csr_der(ed, nullptr)).error().code, Errc::policy);
  // A compressed P-256 point (RFC 5480 allows it; verifiers need not).
  auto ec = key_of("EC", "P-256");
  EVP_PKEY_set_utf8_string_param(ec.get(), OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                 const_cast<char*>("compressed"));
  auto r = CertificateRequest::parse(csr_der(ec));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::policy);
  EXPECT_NE(r.error().message.find("uncompressed"), std::string::npos);
}

TEST(CertificateRequest, RefusesBadShapes) {
  EXPECT_EQ(CertificateRequest::parse(Bytes{}).error().code, Errc::malformed);
  EXPECT_EQ(CertificateRequest::parse(Bytes(kMaxDerSize + 1, 0x30)).error().code, Errc::too_large);
  Bytes der = csr_der(key_of("EC", "P-256"));
  Bytes trailing = der;
  trailing.push_back(0);
  EXPECT_EQ(CertificateRequest::parse(trailing).error().code, Errc::malformed);
  // A BER long-form length where the short form fits.
  EXPECT_EQ(CertificateRequest::parse(Bytes{0x30, 0x81, 0x03, 0x02, 0x01, 0x00}).error().code,
            Errc::malformed);
}

// Every truncation and three flips of every octet: never a crash, and every
// request this reader accepts is one OpenSSL accepts, with the same key.
TEST(CertificateRequest, HostileBytesNeverGetPastWhatOpenSslWouldRefuse) {
  for (auto [type, param] : {std::pair{"RSA", "2048"}, {"EC", "P-256"}}) {
    Bytes der = csr_der(key_of(type, param));
    std::size_t accepted = 0;
    auto check = [&](const Bytes& candidate) {
      auto ours = CertificateRequest::parse(candidate);
      if (!ours) return;
      ++accepted;
      auto theirs = openssl_view(candidate);
      ASSERT_TRUE(theirs) << "accepted what OpenSSL refuses";
      EXPECT_EQ(*theirs, Bytes(ours->subject_public_key_info().begin(),
                               ours->subject_public_key_info().end()));
    };
    for (std::size_t n = 0; n < der.size(); ++n) check(Bytes(der.begin(), der.begin() + n));
    for (std::size_t i = 0; i < der.size(); ++i)
      for (std::uint8_t flip : {0x01, 0x80, 0xff}) {
        Bytes b = der;
        b[i] ^= flip;
        check(b);
      }
    check(der);
    // Only flips of the subject's text or of the signature's encoding
    // slack can keep a request valid; the original is always accepted.
    EXPECT_GE(accepted, 1u);
    EXPECT_LT(accepted, der.size());
  }
}

TEST(CertificateRequest, TheCertificateCarriesTheRequestersKeyBytes) {
  TestPki pki;
  for (auto alg : {KeyAlgorithm::rsa2048, KeyAlgorithm::p256}) {
    auto key = generate_key(alg);
    Bytes der = csr_der(*key);
    auto csr = CertificateRequest::parse(der);
    ASSERT_TRUE(csr);
    IssueRequest r{.kind = CertificateKind::phone_auth,
                   .csr = &*csr,
                   .subject_id = "SPKI1",
                   .facts = std::nullopt,
                   .serial = random_serial(pki.random()),
                   .not_before = pki.clock().now(),
                   .not_after = pki.clock().now() + std::chrono::hours(24),
                   .not_after_limit = pki.clock().now() + std::chrono::hours(48)};
    auto cert = pki.ca(CaKind::auth).issue(r);
    ASSERT_TRUE(cert) << cert.error().message;
    // Read back from DER, as every relying party does: the same key, the
    // same bytes X509_set_pubkey would have written, a valid signature.
    auto back = parse_certificate(*cert);
    ASSERT_TRUE(back);
    EXPECT_EQ(spki_of(X509_get0_pubkey(back->get())), spki_of(key->get()));
    EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(back->get()), key->get()), 1);
    EXPECT_EQ(X509_verify(back->get(), X509_get0_pubkey(pki.ca(CaKind::auth).certificate())), 1);
  }
}

}  // namespace
}  // namespace smacert::pki

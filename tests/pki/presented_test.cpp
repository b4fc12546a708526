#include "pki/presented.h"

#include <gtest/gtest.h>
#include <openssl/err.h>

#include <cstdio>
#include <fstream>

#include "pki/key.h"
#include "support/test_pki.h"

namespace smacert::pki {
namespace {

using testing::TestPki;

// A self-signed certificate made by OpenSSL for `key`, with `serial` (hex).
Bytes self_signed(const PkeyPtr& key, const char* serial_hex, long days = 1) {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  BignumPtr bn;
  BIGNUM* raw = nullptr;
  BN_hex2bn(&raw, serial_hex);
  bn.reset(raw);
  BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), days * 86400);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("presented"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key.get());
  X509_sign(cert.get(), key.get(),
            EVP_PKEY_get_id(key.get()) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256());
  return to_der(cert.get());
}

// What OpenSSL reads from the same bytes: the serial as serial_hex writes it
// and the key, or nothing.
struct OpenSslView {
  std::string serial;
  PkeyPtr key;
};
std::optional<OpenSslView> openssl_view(ByteView der) {
  const unsigned char* p = der.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert || p != der.data() + der.size() || X509_get0_pubkey(cert.get()) == nullptr) {
    ERR_clear_error();
    return std::nullopt;
  }
  return OpenSslView{serial_hex(X509_get0_serialNumber(cert.get())),
                     PkeyPtr(EVP_PKEY_dup(X509_get0_pubkey(cert.get())))};
}

TEST(PresentedCertificate, ReadsTheSerialAndKeyOpenSslReads) {
  TestPki pki;
  // The project's own card and phone profiles, RSA and EC.
  for (auto [kind, alg] : {std::pair{CertificateKind::card_sign, KeyAlgorithm::rsa2048},
                           {CertificateKind::card_sign, KeyAlgorithm::p256},
                           {CertificateKind::phone_auth, KeyAlgorithm::p256}}) {
    auto issued = pki.issue(kind, std::nullopt, alg);
    Bytes der = to_der(issued.cert.get());
    auto ours = PresentedCertificate::parse(der);
    ASSERT_TRUE(ours) << ours.error().message;
    EXPECT_EQ(ours->serial(), serial_hex(X509_get0_serialNumber(issued.cert.get())));
    EXPECT_EQ(EVP_PKEY_eq(ours->public_key(), issued.key.get()), 1);
    EXPECT_EQ(ours->der(), der);
  }
  // Serials with a leading zero octet, and a P-384 key.
  for (const char* serial : {"80", "00ff01", "7f", "0123456789abcdef0123456789abcdef01234567"}) {
    auto key = PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
    Bytes der = self_signed(key, serial);
    auto ours = PresentedCertificate::parse(der);
    ASSERT_TRUE(ours) << serial << ": " << ours.error().message;
    auto theirs = openssl_view(der);
    ASSERT_TRUE(theirs);
    EXPECT_EQ(ours->serial(), theirs->serial);
    EXPECT_EQ(EVP_PKEY_eq(ours->public_key(), theirs->key.get()), 1);
  }
}

TEST(PresentedCertificate, ReadsWhatTheOpensslCommandMakes) {
  testing::TempDir dir("presented");
  auto out = (dir.path() / "cert.der").string();
  std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " +
      (dir.path() / "key.pem").string() + " -subj /C=JP/CN=card -days 2 -outform DER -out " + out +
      " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream f(out, std::ios::binary);
  Bytes der((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto ours = PresentedCertificate::parse(der);
  ASSERT_TRUE(ours) << ours.error().message;
  auto theirs = openssl_view(der);
  ASSERT_TRUE(theirs);
  EXPECT_EQ(ours->serial(), theirs->serial);
  EXPECT_EQ(EVP_PKEY_eq(ours->public_key(), theirs->key.get()), 1);
}

TEST(PresentedCertificate, RefusesWhatIsNotACertificateItCanUse) {
  EXPECT_EQ(PresentedCertificate::parse(Bytes{}).error().code, Errc::malformed);
  EXPECT_EQ(PresentedCertificate::parse(Bytes(kMaxDerSize + 1, 0x30)).error().code,
            Errc::too_large);
  auto key = PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  Bytes der = self_signed(key, "01");
  Bytes trailing = der;
  trailing.push_back(0);
  EXPECT_EQ(PresentedCertificate::parse(trailing).error().code, Errc::malformed);
  // A serial over RFC 5280's 20 octets.
  auto long_serial =
      PresentedCertificate::parse(self_signed(key, "0123456789abcdef0123456789abcdef0123456789"));
  ASSERT_FALSE(long_serial);
  EXPECT_EQ(long_serial.error().code, Errc::malformed);
  EXPECT_NE(long_serial.error().message.find("20 octets"), std::string::npos);
  // An Ed25519 key: not a key this service takes.
  auto ed = PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  EXPECT_EQ(PresentedCertificate::parse(self_signed(ed, "02")).error().code, Errc::policy);
  // A CSR is not a certificate.
  SoftwareSigner signer{PkeyPtr(EVP_PKEY_dup(key.get()))};
  EXPECT_EQ(PresentedCertificate::parse(to_der(make_csr(signer, "x")->get())).error().code,
            Errc::malformed);
}

// Every truncation and three flips of every octet: never a crash, and a
// certificate this reader accepts is one OpenSSL reads too, with the same
// serial and key. (Which certificate it is, the store decides byte for byte.)
TEST(PresentedCertificate, HostileBytesNeverGiveAnotherSerialOrKeyThanOpenSsl) {
  TestPki pki;
  for (auto alg : {KeyAlgorithm::rsa2048, KeyAlgorithm::p256}) {
    Bytes der = to_der(pki.issue(CertificateKind::card_sign, std::nullopt, alg).cert.get());
    std::size_t accepted = 0;
    auto check = [&](const Bytes& candidate) {
      auto ours = PresentedCertificate::parse(candidate);
      if (!ours) return;
      ++accepted;
      auto theirs = openssl_view(candidate);
      if (!theirs) return;  // OpenSSL reads more (names, times) than this reader needs
      EXPECT_EQ(ours->serial(), theirs->serial);
      EXPECT_EQ(EVP_PKEY_eq(ours->public_key(), theirs->key.get()), 1);
    };
    for (std::size_t n = 0; n < der.size(); ++n) {
      EXPECT_FALSE(PresentedCertificate::parse(Bytes(der.begin(), der.begin() + n)))
          << "a certificate cut to " << n << " octets";
    }
    for (std::size_t i = 0; i < der.size(); ++i)
      for (std::uint8_t flip : {0x01, 0x80, 0xff}) {
        Bytes b = der;
        b[i] ^= flip;
        check(b);
      }
    EXPECT_LT(accepted, 3 * der.size());
  }
}

}  // namespace
}  // namespace smacert::pki

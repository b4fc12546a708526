// A throwaway PKI for tests: both CAs in a temporary data folder, a manual
// clock, and helpers that issue each profile from software keys.
#pragma once

#include <gtest/gtest.h>

#include <fstream>

#include "core/files.h"
#include "pki/authority.h"
#include "pki/key.h"
#include "support/temp_dir.h"

namespace smacert::testing {

inline pki::HolderFacts sample_facts() {
  pki::HolderFacts f;
  f.name = "見本　花子";
  f.birth_date = "1980-01-01";
  f.sex = 2;
  f.address = "東京都千代田区霞が関１－２－３";
  return f;
}

struct IssuedCert {
  pki::PkeyPtr key;
  pki::X509Ptr cert;
};

class TestPki {
 public:
  explicit TestPki(pki::PkiConfig config = {})
      : config_(std::move(config)), clock_(std::chrono::system_clock::now()) {
    auto a = pki::Authorities::open_or_create(dir_.path(), config_, clock_, random_);
    if (!a) throw std::runtime_error(a.error().message);
    authorities_ = std::move(*a);
  }

  const pki::Authorities& authorities() const { return authorities_; }
  const pki::CertificateAuthority& ca(pki::CaKind k) const { return authorities_.of(k); }
  ManualClock& clock() { return clock_; }
  OsRandom& random() { return random_; }
  const pki::PkiConfig& config() const { return config_; }
  const TempDir& dir() const { return dir_; }

  // Issues one certificate of `kind` for a fresh software key.
  IssuedCert issue(pki::CertificateKind kind, std::optional<TimePoint> limit = std::nullopt,
                   pki::KeyAlgorithm alg = pki::KeyAlgorithm::rsa2048) {
    auto key = pki::generate_key(alg);
    EXPECT_TRUE(key) << key.error().message;
    pki::SoftwareSigner signer(pki::PkeyPtr(EVP_PKEY_dup(key->get())));
    auto made = pki::make_csr(signer, "csr");
    EXPECT_TRUE(made) << made.error().message;
    auto csr = pki::CertificateRequest::parse(pki::to_der(made->get()));
    EXPECT_TRUE(csr) << csr.error().message;
    pki::IssueRequest r{
        .kind = kind,
        .csr = &*csr,
        .subject_id = "TEST" + pki::random_serial(random_).substr(0, 12),
        .facts = sample_facts(),
        .serial = pki::random_serial(random_),
        .not_before = clock_.now(),
        .not_after = clock_.now() + std::chrono::hours(24 * 365),
        .not_after_limit =
            limit ? limit : std::optional(clock_.now() + std::chrono::hours(24 * 400))};
    auto der = ca(pki::ca_of(kind)).issue(r);
    EXPECT_TRUE(der) << der.error().message;
    auto cert = pki::parse_certificate(*der);
    EXPECT_TRUE(cert) << cert.error().message;
    return IssuedCert{std::move(*key), std::move(*cert)};
  }

  // Writes PEM or DER bytes to a file in the folder; returns its path.
  std::string write(const std::string& name, const std::string& text) {
    auto p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  std::string write(const std::string& name, ByteView bytes) {
    return write(name, std::string(as_chars(bytes)));
  }

 private:
  TempDir dir_{"pki"};
  pki::PkiConfig config_;
  ManualClock clock_;
  OsRandom random_;
  pki::Authorities authorities_;
};

}  // namespace smacert::testing

#include "pki/authority.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "support/test_pki.h"

namespace smacert::pki {
namespace {

using testing::TestPki;

unsigned mode_of(const std::filesystem::path& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return st.st_mode & 0777;
}

TEST(Authorities, FirstStartCreatesKeysWithMode0600AndSecondStartReloadsThem) {
  testing::TempDir dir("ca");
  PkiConfig config;
  ManualClock clock(std::chrono::system_clock::now());
  OsRandom random;
  auto first = Authorities::open_or_create(dir.path(), config, clock, random);
  ASSERT_TRUE(first) << first.error().message;
  for (auto kind : {"sign", "auth"}) {
    EXPECT_EQ(mode_of(dir.path() / "ca" / kind / "ca.key"), 0600u);
    EXPECT_EQ(mode_of(dir.path() / "ca" / kind / "ocsp.key"), 0600u);
  }
  Bytes sign_root = to_der(first->sign->certificate());
  Bytes auth_ocsp = to_der(first->auth->ocsp_certificate());
  auto second = Authorities::open_or_create(dir.path(), config, clock, random);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(to_der(second->sign->certificate()), sign_root);
  EXPECT_EQ(to_der(second->auth->ocsp_certificate()), auth_ocsp);
  EXPECT_NE(to_der(second->sign->certificate()), to_der(second->auth->certificate()));
}

TEST(Authorities, RenewsAnOcspSignerNearItsEndForTheSameKey) {
  testing::TempDir dir("ca");
  PkiConfig config;
  ManualClock clock(std::chrono::system_clock::now());
  OsRandom random;
  auto first = Authorities::open_or_create(dir.path(), config, clock, random);
  ASSERT_TRUE(first);
  Bytes old = to_der(first->sign->ocsp_certificate());
  clock.advance(std::chrono::hours(24 * 340));
  auto later = Authorities::open_or_create(dir.path(), config, clock, random);
  ASSERT_TRUE(later) << later.error().message;
  EXPECT_NE(to_der(later->sign->ocsp_certificate()), old);
  EXPECT_EQ(public_key_der(X509_get0_pubkey(later->sign->ocsp_certificate())),
            public_key_der(X509_get0_pubkey(first->sign->ocsp_certificate())));
}

TEST(Authorities, RefusesAKeyThatDoesNotMatchItsCertificate) {
  testing::TempDir a("ca"), b("ca");
  PkiConfig config;
  ManualClock clock(std::chrono::system_clock::now());
  OsRandom random;
  ASSERT_TRUE(Authorities::open_or_create(a.path(), config, clock, random));
  ASSERT_TRUE(Authorities::open_or_create(b.path(), config, clock, random));
  std::filesystem::copy_file(b.path() / "ca/sign/ca.key", a.path() / "ca/sign/ca.key",
                             std::filesystem::copy_options::overwrite_existing);
  auto r = Authorities::open_or_create(a.path(), config, clock, random);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::conflict);
}

TEST(Authorities, P256IsSelectable) {
  testing::TempDir dir("ca");
  PkiConfig config;
  config.algorithm = KeyAlgorithm::p256;
  ManualClock clock(std::chrono::system_clock::now());
  OsRandom random;
  auto a = Authorities::open_or_create(dir.path(), config, clock, random);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(describe_key(a->sign->key()), "EC P-256");
  EXPECT_EQ(describe_key(X509_get0_pubkey(a->auth->ocsp_certificate())), "EC P-256");
}

class IssueTest : public ::testing::Test {
 protected:
  IssueRequest request(CertificateKind kind, const CertificateRequest& csr) {
    return IssueRequest{.kind = kind,
                        .csr = &csr,
                        .subject_id = "ABC123",
                        .facts = testing::sample_facts(),
                        .serial = random_serial(pki_.random()),
                        .not_before = pki_.clock().now(),
                        .not_after = pki_.clock().now() + std::chrono::hours(24),
                        .not_after_limit = pki_.clock().now() + std::chrono::hours(48)};
  }
  CertificateRequest csr_for(KeyAlgorithm alg = KeyAlgorithm::rsa2048) {
    auto key = generate_key(alg);
    SoftwareSigner signer(std::move(*key));
    return std::move(*CertificateRequest::parse(to_der(make_csr(signer, "x")->get())));
  }
  TestPki pki_;
};

TEST_F(IssueTest, EveryProfileIssuesWithItsShape) {
  for (auto kind : {CertificateKind::card_sign, CertificateKind::card_auth,
                    CertificateKind::phone_sign, CertificateKind::phone_auth}) {
    auto issued = pki_.issue(kind);
    ASSERT_TRUE(issued.cert);
    X509* c = issued.cert.get();
    bool sign = ca_of(kind) == CaKind::sign;
    uint32_t ku = X509_get_key_usage(c);
    EXPECT_TRUE(ku & KU_DIGITAL_SIGNATURE);
    EXPECT_EQ(static_cast<bool>(ku & KU_NON_REPUDIATION), sign);
    EXPECT_EQ(X509_get_ext_by_NID(c, NID_subject_alt_name, -1) >= 0, sign);
    int crit = -1;
    auto* policies = static_cast<CERTIFICATEPOLICIES*>(
        X509_get_ext_d2i(c, NID_certificate_policies, &crit, nullptr));
    ASSERT_NE(policies, nullptr);
    EXPECT_EQ(crit, 1);
    char oid[128];
    OBJ_obj2txt(oid, sizeof oid, sk_POLICYINFO_value(policies, 0)->policyid, 1);
    EXPECT_EQ(std::string(oid), pki_.config().policies.of(kind));
    CERTIFICATEPOLICIES_free(policies);
    EXPECT_EQ(X509_check_issued(pki_.ca(ca_of(kind)).certificate(), c), X509_V_OK);
    EXPECT_EQ(serial_hex(X509_get0_serialNumber(c)).size(), 32u);
  }
}

TEST_F(IssueTest, SignatureSubjectNamesPrefectureAndMunicipality) {
  auto issued = pki_.issue(CertificateKind::card_sign);
  char buf[256];
  X509_NAME_oneline(X509_get_subject_name(issued.cert.get()), buf, sizeof buf);
  std::string s = buf;
  // oneline escapes non-ASCII; check the structure via entries instead.
  X509_NAME* n = X509_get_subject_name(issued.cert.get());
  ASSERT_EQ(X509_NAME_entry_count(n), 4);
  auto text = [&](int i) {
    ASN1_STRING* d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i));
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(d)),
                       static_cast<std::size_t>(ASN1_STRING_length(d)));
  };
  EXPECT_EQ(text(0), "JP");
  EXPECT_EQ(text(1), "東京都");
  EXPECT_EQ(text(2), "千代田区");
}

TEST_F(IssueTest, RefusesKeysOutsideThePolicy) {
  PkeyPtr weak(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(1024)));
  SoftwareSigner signer(std::move(weak));
  auto made = make_csr(signer, "weak");
  ASSERT_TRUE(made);
  auto csr = CertificateRequest::parse(to_der(made->get()));
  ASSERT_TRUE(csr);
  auto r = pki_.ca(CaKind::auth).issue(request(CertificateKind::card_auth, *csr));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::policy);
  EXPECT_NE(r.error().message.find("RSA-1024"), std::string::npos);
  // P-256 is within the policy.
  auto ec = csr_for(KeyAlgorithm::p256);
  EXPECT_TRUE(pki_.ca(CaKind::auth).issue(request(CertificateKind::phone_auth, ec)));
}

TEST_F(IssueTest, APhoneCertificateNeverOutlivesItsCardCertificate) {
  auto csr = csr_for();
  auto req = request(CertificateKind::phone_sign, csr);
  req.not_after_limit = req.not_after - std::chrono::seconds(1);
  auto r = pki_.ca(CaKind::sign).issue(req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::policy);
  req.not_after_limit.reset();
  EXPECT_EQ(pki_.ca(CaKind::sign).issue(req).error().code, Errc::invalid_argument);
  req.not_after_limit = req.not_after;
  EXPECT_TRUE(pki_.ca(CaKind::sign).issue(req));
}

TEST_F(IssueTest, RefusesTheWrongCaMissingFactsAndBadSubjects) {
  auto csr = csr_for();
  EXPECT_EQ(pki_.ca(CaKind::auth).issue(request(CertificateKind::card_sign, csr)).error().code,
            Errc::invalid_argument);
  auto req = request(CertificateKind::card_sign, csr);
  req.facts.reset();
  EXPECT_EQ(pki_.ca(CaKind::sign).issue(req).error().code, Errc::invalid_argument);
  req = request(CertificateKind::card_auth, csr);
  req.subject_id = "bad id,CN=evil";
  EXPECT_EQ(pki_.ca(CaKind::auth).issue(req).error().code, Errc::invalid_argument);
  req = request(CertificateKind::card_sign, csr);
  req.facts->address = "千代田区";  // no prefecture
  EXPECT_EQ(pki_.ca(CaKind::sign).issue(req).error().code, Errc::invalid_argument);
}

TEST(RandomSerial, Is128BitsPositiveAndDistinct) {
  OsRandom random;
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto s = random_serial(random);
    EXPECT_EQ(s.size(), 32u);
    EXPECT_LT(std::stoi(s.substr(0, 1), nullptr, 16), 8);
    seen.insert(s);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(MakeCsr, SignsThroughTheSignerAndVerifies) {
  for (auto alg : {KeyAlgorithm::rsa2048, KeyAlgorithm::p256}) {
    // Many requests, so that a signature ending in zero bits is among them:
    // the BIT STRING must keep every octet.
    for (int i = 0; i < 20; ++i) {
      SoftwareSigner signer(std::move(*generate_key(alg)));
      auto csr = make_csr(signer, "x");
      ASSERT_TRUE(csr);
      auto der = to_der(csr->get());
      auto back = parse_csr(der);
      ASSERT_TRUE(back);
      EXPECT_EQ(X509_REQ_verify(back->get(), X509_REQ_get0_pubkey(back->get())), 1);
    }
  }
}

}  // namespace
}  // namespace smacert::pki

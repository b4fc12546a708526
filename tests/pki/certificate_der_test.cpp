// CertificateAuthority::issue writes certificates as DER directly. These
// tests build the same certificate through OpenSSL's X509 API (the slow path
// it replaced) and require the same bytes: the whole certificate under an
// RSA CA (PKCS#1 v1.5 is deterministic), the TBSCertificate and a signature
// that verifies under an ECDSA CA.
#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include "pki/authority.h"
#include "pki/der_reader.h"
#include "pki/der_writer.h"
#include "support/test_pki.h"

namespace smacert::pki {
namespace {

using testing::TestPki;

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(ext, nullptr);
  ASSERT_TRUE(X509_add_ext(cert, ext, -1));
  X509_EXTENSION_free(ext);
}

GENERAL_NAME* uri(const std::string& text) {
  GENERAL_NAME* gn = GENERAL_NAME_new();
  ASN1_IA5STRING* s = ASN1_IA5STRING_new();
  ASN1_STRING_set(s, text.data(), static_cast<int>(text.size()));
  GENERAL_NAME_set0_value(gn, GEN_URI, s);
  return gn;
}

// The certificate as OpenSSL's encoders make it from the same request.
X509Ptr reference(const CertificateAuthority& ca, const IssueRequest& r) {
  const bool signature = ca.kind() == CaKind::sign;
  X509Ptr cert(X509_new());
  X509* c = cert.get();
  X509_set_version(c, X509_VERSION_3);
  X509_set_serialNumber(c, serial_from_hex(r.serial)->get());
  X509NamePtr name(X509_NAME_new());
  auto add = [&](const char* field, const std::string& value) {
    X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(value.data()),
                               static_cast<int>(value.size()), -1, 0);
  };
  add("C", "JP");
  if (signature) {
    auto loc = split_address(r.facts->address);
    add("L", loc->prefecture);
    add("L", loc->municipality);
  }
  add("CN", r.subject_id);
  X509_set_subject_name(c, name.get());
  X509_set_issuer_name(c, X509_get_subject_name(ca.certificate()));
  ASN1_TIME_set(X509_getm_notBefore(c), static_cast<time_t>(to_unix(r.not_before)));
  ASN1_TIME_set(X509_getm_notAfter(c), static_cast<time_t>(to_unix(r.not_after)));
  X509_set_pubkey(c, const_cast<EVP_PKEY*>(r.csr->public_key()));
  add_ext(c, ca.certificate(), NID_key_usage,
          signature ? "critical,digitalSignature,nonRepudiation" : "critical,digitalSignature");
  CERTIFICATEPOLICIES* policies = sk_POLICYINFO_new_null();
  POLICYINFO* info = POLICYINFO_new();
  ASN1_OBJECT_free(info->policyid);
  info->policyid = OBJ_txt2obj(ca.config().policies.of(r.kind).c_str(), 1);
  sk_POLICYINFO_push(policies, info);
  X509_add1_ext_i2d(c, NID_certificate_policies, policies, ca.config().policies_critical ? 1 : 0,
                    X509V3_ADD_DEFAULT);
  CERTIFICATEPOLICIES_free(policies);
  if (signature) {
    const auto& f = *r.facts;
    auto zeros = [](const std::string& given, const std::string& text) {
      return given.empty() ? std::string(utf8_chars(text).size(), '0') : given;
    };
    const std::pair<int, std::string> entries[] = {{1, f.name},
                                                   {4, *jpki_birth_date(f.birth_date)},
                                                   {3, std::to_string(f.sex)},
                                                   {5, f.address},
                                                   {2, zeros(f.name_substitution, f.name)},
                                                   {6, zeros(f.address_substitution, f.address)}};
    GENERAL_NAMES* names = sk_GENERAL_NAME_new_null();
    for (auto& [arc, value] : entries) {
      ASN1_UTF8STRING* s = ASN1_UTF8STRING_new();
      ASN1_STRING_set(s, value.data(), static_cast<int>(value.size()));
      ASN1_TYPE* any = ASN1_TYPE_new();
      ASN1_TYPE_set(any, V_ASN1_UTF8STRING, s);
      GENERAL_NAME* gn = GENERAL_NAME_new();
      GENERAL_NAME_set0_othername(
          gn, OBJ_txt2obj(("1.2.392.200149.8.5.5." + std::to_string(arc)).c_str(), 1), any);
      sk_GENERAL_NAME_push(names, gn);
    }
    X509_add1_ext_i2d(c, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT);
    GENERAL_NAMES_free(names);
  }
  add_ext(c, ca.certificate(), NID_subject_key_identifier, "hash");
  add_ext(c, ca.certificate(), NID_authority_key_identifier, "keyid:always");
  AUTHORITY_INFO_ACCESS* aia = sk_ACCESS_DESCRIPTION_new_null();
  ACCESS_DESCRIPTION* ad = ACCESS_DESCRIPTION_new();
  ad->method = OBJ_nid2obj(NID_ad_OCSP);
  GENERAL_NAME_free(ad->location);
  ad->location = uri(ca.config().ocsp_url(ca.kind()));
  sk_ACCESS_DESCRIPTION_push(aia, ad);
  X509_add1_ext_i2d(c, NID_info_access, aia, 0, X509V3_ADD_DEFAULT);
  AUTHORITY_INFO_ACCESS_free(aia);
  CRL_DIST_POINTS* dps = sk_DIST_POINT_new_null();
  DIST_POINT* dp = DIST_POINT_new();
  dp->distpoint = DIST_POINT_NAME_new();
  dp->distpoint->type = 0;
  dp->distpoint->name.fullname = sk_GENERAL_NAME_new_null();
  sk_GENERAL_NAME_push(dp->distpoint->name.fullname, uri(ca.config().crl_url(ca.kind())));
  sk_DIST_POINT_push(dps, dp);
  X509_add1_ext_i2d(c, NID_crl_distribution_points, dps, 0, X509V3_ADD_DEFAULT);
  CRL_DIST_POINTS_free(dps);
  EXPECT_GT(X509_sign(c, ca.key(), EVP_sha256()), 0);
  return cert;
}

Bytes tbs_of(const X509* cert) {
  unsigned char* p = nullptr;
  int n = i2d_re_X509_tbs(const_cast<X509*>(cert), &p);
  Bytes out(p, p + n);
  OPENSSL_free(p);
  return out;
}

// The first element of the outer SEQUENCE, whole.
Bytes tbs_of(ByteView der) {
  auto outer = der::only(der, 0x30);
  EXPECT_TRUE(outer);
  ByteView in = *outer;
  auto tbs = der::read(in, 0x30);
  EXPECT_TRUE(tbs);
  return Bytes(tbs->whole.begin(), tbs->whole.end());
}

CertificateRequest csr_for(KeyAlgorithm alg) {
  SoftwareSigner signer(std::move(*generate_key(alg)));
  return std::move(*CertificateRequest::parse(to_der(make_csr(signer, "x")->get())));
}

IssueRequest request(TestPki& pki, CertificateKind kind, const CertificateRequest& csr,
                     std::string serial) {
  return IssueRequest{.kind = kind,
                      .csr = &csr,
                      .subject_id = "ABC-123",
                      .facts = testing::sample_facts(),
                      .serial = std::move(serial),
                      .not_before = pki.clock().now(),
                      .not_after = pki.clock().now() + std::chrono::hours(24 * 365),
                      .not_after_limit = pki.clock().now() + std::chrono::hours(24 * 400)};
}

constexpr CertificateKind kKinds[] = {CertificateKind::card_sign, CertificateKind::card_auth,
                                      CertificateKind::phone_sign, CertificateKind::phone_auth};

TEST(CertificateDer, RsaCaWritesTheBytesOpenSslWouldForEveryProfileAndKey) {
  TestPki pki;
  std::vector<CertificateRequest> csrs;
  csrs.push_back(csr_for(KeyAlgorithm::rsa2048));
  csrs.push_back(csr_for(KeyAlgorithm::p256));
  for (const auto& csr : csrs) {
    for (auto kind : kKinds) {
      for (std::string serial :
           {random_serial(pki.random()), std::string("80ff"), std::string("abc"),
            std::string("0000001f"), std::string(40, 'f')}) {
        SCOPED_TRACE(std::string(certificate_kind_name(kind)) + " serial " + serial);
        auto r = request(pki, kind, csr, serial);
        auto der = pki.ca(ca_of(kind)).issue(r);
        ASSERT_TRUE(der) << der.error().message;
        EXPECT_EQ(*der, to_der(reference(pki.ca(ca_of(kind)), r).get()));
      }
    }
  }
}

TEST(CertificateDer, FactsWithSubstitutionsTimesAfter2049AndNonCriticalPolicies) {
  PkiConfig config;
  config.policies_critical = false;
  TestPki pki(config);
  auto csr = csr_for(KeyAlgorithm::rsa2048);
  auto r = request(pki, CertificateKind::card_sign, csr, random_serial(pki.random()));
  r.facts->name = "渡邉　太郎";
  r.facts->name_substitution = "01000";
  r.facts->address = "北海道札幌市中央区北１条西２丁目";
  r.facts->sex = 1;
  r.not_after = from_unix(2556057600 + 86400 * 400);  // 2051: GeneralizedTime
  r.not_after_limit = r.not_after;
  auto der = pki.ca(CaKind::sign).issue(r);
  ASSERT_TRUE(der) << der.error().message;
  EXPECT_EQ(*der, to_der(reference(pki.ca(CaKind::sign), r).get()));
}

TEST(CertificateDer, EcdsaCaWritesTheSameTbsAndASignatureThatVerifies) {
  PkiConfig config;
  config.algorithm = KeyAlgorithm::p256;
  TestPki pki(config);
  auto csr = csr_for(KeyAlgorithm::rsa2048);
  for (auto kind : kKinds) {
    SCOPED_TRACE(certificate_kind_name(kind));
    const auto& ca = pki.ca(ca_of(kind));
    auto r = request(pki, kind, csr, random_serial(pki.random()));
    auto der = ca.issue(r);
    ASSERT_TRUE(der) << der.error().message;
    EXPECT_EQ(tbs_of(*der), tbs_of(reference(ca, r).get()));
    auto cert = parse_certificate(*der);
    ASSERT_TRUE(cert);
    EXPECT_EQ(X509_verify(cert->get(), X509_get0_pubkey(ca.certificate())), 1);
    EXPECT_EQ(to_der(cert->get()), *der);  // OpenSSL writes back what it read
  }
}

TEST(CertificateDer, RefusesSerialsAndNamesOutsideTheirBounds) {
  TestPki pki;
  auto csr = csr_for(KeyAlgorithm::p256);
  for (std::string serial : {std::string(), std::string(41, '1'), std::string("xy")}) {
    auto der = pki.ca(CaKind::auth).issue(request(pki, CertificateKind::phone_auth, csr, serial));
    ASSERT_FALSE(der) << serial;
    EXPECT_EQ(der.error().code, Errc::invalid_argument);
  }
  // A municipality longer than X.520's 128 characters for a locality.
  auto r = request(pki, CertificateKind::card_sign, csr, random_serial(pki.random()));
  std::string long_place = "東京都";
  for (int i = 0; i < 150; ++i) long_place += "あ";
  r.facts->address = long_place + "区";
  auto der = pki.ca(CaKind::sign).issue(r);
  ASSERT_FALSE(der);
  EXPECT_EQ(der.error().code, Errc::invalid_argument);
  EXPECT_NE(der.error().message.find("128"), std::string::npos) << der.error().message;
}

TEST(DerWriter, OidsOfAnySizeEncodeAsOpenSslDoes) {
  for (const char* dotted :
       {"0.0", "1.2", "2.5.4.3", "1.2.840.113549.1.1.11", "2.999.1", "2.47", "2.48", "1.39.127.128",
        "1.3.6.1.4.1.2147483647.4294967295.4294967296.18446744073709551615",
        "2.25.114564764441084150581524837807062458047.2.2",
        "2.25.340282366920938463463374607431768211455"}) {
    SCOPED_TRACE(dotted);
    Asn1ObjectPtr o(OBJ_txt2obj(dotted, 1));
    ASSERT_TRUE(o);
    unsigned char* p = nullptr;
    int n = i2d_ASN1_OBJECT(o.get(), &p);
    Bytes expected(p, p + n);
    OPENSSL_free(p);
    EXPECT_EQ(der::oid(dotted), expected);
  }
}

}  // namespace
}  // namespace smacert::pki

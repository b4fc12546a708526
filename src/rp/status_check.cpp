#include "rp/status_check.h"

#include <ctime>

namespace smacert::rp {
namespace {

std::string uri_of(const GENERAL_NAME* gn) {
  if (gn == nullptr || gn->type != GEN_URI) return {};
  const ASN1_IA5STRING* uri = gn->d.uniformResourceIdentifier;
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                     static_cast<std::size_t>(ASN1_STRING_length(uri)));
}

TimePoint time_of(const ASN1_TIME* t) {
  std::tm tm{};
  ASN1_TIME_to_tm(t, &tm);
  return from_unix(static_cast<long long>(timegm(&tm)));
}

using Asn1EnumeratedPtr = pki::OsslPtr<ASN1_ENUMERATED, ASN1_ENUMERATED_free>;

// Clock skew allowed between the CRL issuer and us, as for OCSP.
constexpr long long kSkew = 300;

}  // namespace

Result<std::string> ocsp_url_of(const X509* cert) {
  pki::AuthorityInfoAccessPtr aia(static_cast<AUTHORITY_INFO_ACCESS*>(
      X509_get_ext_d2i(cert, NID_info_access, nullptr, nullptr)));
  if (aia) {
    for (int i = 0; i < sk_ACCESS_DESCRIPTION_num(aia.get()); ++i) {
      const ACCESS_DESCRIPTION* ad = sk_ACCESS_DESCRIPTION_value(aia.get(), i);
      if (OBJ_obj2nid(ad->method) != NID_ad_OCSP) continue;
      if (auto url = uri_of(ad->location); !url.empty()) return url;
    }
  }
  return fail(Errc::not_found, "the certificate names no OCSP responder (AIA)");
}

Result<std::string> crl_url_of(const X509* cert) {
  pki::CrlDistPointsPtr points(static_cast<CRL_DIST_POINTS*>(
      X509_get_ext_d2i(cert, NID_crl_distribution_points, nullptr, nullptr)));
  if (points) {
    for (int i = 0; i < sk_DIST_POINT_num(points.get()); ++i) {
      const DIST_POINT* dp = sk_DIST_POINT_value(points.get(), i);
      if (dp->distpoint == nullptr || dp->distpoint->type != 0) continue;  // 0: fullName
      const GENERAL_NAMES* names = dp->distpoint->name.fullname;
      for (int j = 0; j < sk_GENERAL_NAME_num(names); ++j)
        if (auto url = uri_of(sk_GENERAL_NAME_value(names, j)); !url.empty()) return url;
    }
  }
  return fail(Errc::not_found, "the certificate names no CRL distribution point");
}

Result<Bytes> ocsp_request_for(const X509* cert, const X509* issuer) {
  pki::OcspRequestPtr req(OCSP_REQUEST_new());
  pki::OcspCertIdPtr id(OCSP_cert_to_id(EVP_sha1(), cert, issuer));
  if (!req || !id) return fail(pki::openssl_error(Errc::crypto, "building the OCSP request"));
  // OCSP_request_add0_id takes the CertID on success only.
  if (OCSP_request_add0_id(req.get(), id.get()) == nullptr)
    return fail(pki::openssl_error(Errc::crypto, "building the OCSP request"));
  (void)id.release();
  int len = i2d_OCSP_REQUEST(req.get(), nullptr);
  if (len <= 0) return fail(pki::openssl_error(Errc::crypto, "encoding the OCSP request"));
  Bytes der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  i2d_OCSP_REQUEST(req.get(), &p);
  return der;
}

Result<pki::CertStatus> status_from_crl(const X509_CRL* crl, const X509* cert, const X509* issuer,
                                        TimePoint at) {
  auto* c = const_cast<X509_CRL*>(crl);
  // RFC 5280 6.3.3 (b), (f): issued by the certificate's issuer, signed with its key.
  if (X509_NAME_cmp(X509_CRL_get_issuer(c), X509_get_issuer_name(cert)) != 0)
    return fail(Errc::verification, "the CRL is not issued by the certificate's issuer");
  if (X509_CRL_verify(c, X509_get0_pubkey(issuer)) != 1)
    return fail(pki::openssl_error(Errc::verification, "the CRL's signature does not verify"));
  // RFC 5280 6.3.3 (a): thisUpdate not in the future, nextUpdate not passed.
  long long now = to_unix(at);
  if (to_unix(time_of(X509_CRL_get0_lastUpdate(c))) > now + kSkew)
    return fail(Errc::verification, "the CRL is not yet valid");
  const ASN1_TIME* next = X509_CRL_get0_nextUpdate(c);
  if (next == nullptr) return fail(Errc::verification, "the CRL has no nextUpdate");
  if (to_unix(time_of(next)) < now - kSkew)
    return fail(Errc::expired,
                "the CRL is out of date (nextUpdate " + to_rfc3339(time_of(next)) + ")");
  X509_REVOKED* entry = nullptr;
  if (X509_CRL_get0_by_serial(c, &entry, const_cast<ASN1_INTEGER*>(X509_get0_serialNumber(cert))) !=
          1 ||
      entry == nullptr)
    return pki::CertStatus{pki::Good{}};
  auto revoked_at = time_of(X509_REVOKED_get0_revocationDate(entry));
  int crit = 0;
  Asn1EnumeratedPtr code(static_cast<ASN1_ENUMERATED*>(
      X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, &crit, nullptr)));
  auto reason = code ? pki::reason_from_code(static_cast<int>(ASN1_ENUMERATED_get(code.get())))
                     : Result<pki::RevocationReason>(pki::RevocationReason::unspecified);
  return pki::CertStatus{
      pki::Revoked{revoked_at, reason ? *reason : pki::RevocationReason::unspecified}};
}

}  // namespace smacert::rp

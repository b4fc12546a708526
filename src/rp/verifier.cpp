#include "rp/verifier.h"

#include "core/files.h"
#include "http/client.h"
#include "http/error_status.h"
#include "pki/authority.h"
#include "pki/cms.h"
#include "pki/signer.h"
#include "pki/verify.h"
#include "protocol/canonical.h"

namespace smacert::rp {
namespace {

// The smacert profile a certificate's policy OID names, if any.
std::optional<pki::CertificateKind> kind_of(const X509* cert, const pki::PolicyOids& oids) {
  pki::CertPoliciesPtr policies(static_cast<CERTIFICATEPOLICIES*>(
      X509_get_ext_d2i(cert, NID_certificate_policies, nullptr, nullptr)));
  if (!policies) return std::nullopt;
  for (int i = 0; i < sk_POLICYINFO_num(policies.get()); ++i) {
    char oid[128];
    if (OBJ_obj2txt(oid, sizeof oid, sk_POLICYINFO_value(policies.get(), i)->policyid, 1) <= 0)
      continue;
    for (auto k : {pki::CertificateKind::card_sign, pki::CertificateKind::card_auth,
                   pki::CertificateKind::phone_sign, pki::CertificateKind::phone_auth})
      if (oids.of(k) == oid) return k;
  }
  return std::nullopt;
}

// The certificate of the one signer of a SignedData, found among the
// certificates it carries, so its chain can be judged before the signature.
Result<pki::X509Ptr> cms_signer_certificate(ByteView cms_der) {
  if (cms_der.empty()) return fail(Errc::malformed, "the signature file is empty");
  if (cms_der.size() > pki::kMaxCmsSize)
    return fail(Errc::too_large, "the signature is larger than 1 MiB");
  const unsigned char* p = cms_der.data();
  pki::CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(cms_der.size())));
  if (!cms || p != cms_der.data() + cms_der.size())
    return fail(pki::openssl_error(Errc::malformed, "the signature is not a DER CMS structure"));
  if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed)
    return fail(Errc::malformed, "the CMS structure is not SignedData");
  STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms.get());
  if (sk_CMS_SignerInfo_num(infos) != 1)
    return fail(Errc::malformed, "the signature must have exactly one signer");
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(infos, 0);
  pki::X509StackPtr certs(CMS_get1_certs(cms.get()));
  for (int i = 0; certs && i < sk_X509_num(certs.get()); ++i) {
    X509* c = sk_X509_value(certs.get(), i);
    if (CMS_SignerInfo_cert_cmp(si, c) == 0) {
      X509_up_ref(c);
      return pki::X509Ptr(c);
    }
  }
  return fail(Errc::verification, "the signature does not carry its signer's certificate");
}

}  // namespace

Result<TrustAnchors> TrustAnchors::from_pem(std::string_view sign_pem, std::string_view auth_pem) {
  auto sign = pki::parse_certificate_pem(sign_pem);
  if (!sign) return fail(sign.error().context("the signature root"));
  auto auth = pki::parse_certificate_pem(auth_pem);
  if (!auth) return fail(auth.error().context("the user-authentication root"));
  return TrustAnchors{std::move(*sign), std::move(*auth)};
}

Result<TrustAnchors> TrustAnchors::from_data_dir(const std::filesystem::path& dir) {
  auto sign = read_file(dir / "ca" / "sign" / "ca.pem", 64 * 1024);
  if (!sign) return fail(sign.error().context("reading the signature root"));
  auto auth = read_file(dir / "ca" / "auth" / "ca.pem", 64 * 1024);
  if (!auth) return fail(auth.error().context("reading the user-authentication root"));
  return from_pem(as_chars(*sign), as_chars(*auth));
}

Result<TrustAnchors> TrustAnchors::fetch(const std::string& server_url) {
  http::Client client;
  auto get = [&](const std::string& path, const std::string& what) -> Result<std::string> {
    std::string url = server_url;
    while (!url.empty() && url.back() == '/') url.pop_back();
    auto r = client.get(url + path);
    if (!r) return fail(r.error().context("fetching " + what + " from " + url + path));
    if (r->status != 200)
      // The service answered: the CLI tells a rejection (3) from an outage (5).
      return fail(
          Error{http::errc_from_http_status(r->status),
                "fetching " + what + " from " + url + path + ": HTTP " + std::to_string(r->status),
                true});
    return std::move(r->body);
  };
  auto sign = get("/ca/sign.pem", "the signature root");
  if (!sign) return fail(sign.error());
  auto auth = get("/ca/auth.pem", "the user-authentication root");
  if (!auth) return fail(auth.error());
  return from_pem(*sign, *auth);
}

std::string_view profile_name(Profile p) {
  return p == Profile::card ? "card" : "phone";
}

std::string_view status_name(const pki::CertStatus& s) {
  if (std::holds_alternative<pki::Good>(s)) return "good";
  if (auto* r = std::get_if<pki::Revoked>(&s))
    return r->reason == pki::RevocationReason::certificate_hold ? "suspended" : "revoked";
  return "unknown";
}

std::string status_sentence(const pki::CertStatus& s) {
  if (std::holds_alternative<pki::Good>(s)) return {};
  if (auto* r = std::get_if<pki::Revoked>(&s)) {
    if (r->reason == pki::RevocationReason::certificate_hold)
      return "the certificate is suspended (certificateHold since " + to_rfc3339(r->at) + ")";
    return "the certificate is revoked (" + std::string(pki::reason_name(r->reason)) + ", " +
           to_rfc3339(r->at) + ")";
  }
  return "the certificate is unknown to its CA's status service";
}

Verifier::Verifier(TrustAnchors anchors, StatusSource& status, const Clock& clock,
                   pki::PolicyOids policies)
    : anchors_(std::move(anchors)),
      status_(status),
      clock_(clock),
      policies_(std::move(policies)) {}

Result<CertificateReport> Verifier::report_for(const X509* cert, pki::CaKind issuer,
                                               std::optional<pki::CertStatus> known) const {
  CertificateReport r;
  X509_up_ref(const_cast<X509*>(cert));
  r.certificate.reset(const_cast<X509*>(cert));
  r.subject = pki::name_text(X509_get_subject_name(cert));
  r.serial = pki::serial_hex(X509_get0_serialNumber(cert));
  r.not_before = pki::not_before(cert);
  r.not_after = pki::not_after(cert);
  r.issuer = issuer;
  r.kind = kind_of(cert, policies_);
  if (r.kind && pki::ca_of(*r.kind) != issuer)
    return fail(Errc::verification,
                "the certificate's policy is of the other hierarchy than "
                "the root it chains to");
  if (r.kind) r.profile = pki::is_phone(*r.kind) ? Profile::phone : Profile::card;
  if (issuer == pki::CaKind::sign) {
    auto facts = pki::facts_of_certificate(cert);
    if (facts)
      r.facts = std::move(*facts);
    else if (facts.error().code != Errc::not_found)
      return fail(facts.error());
  }
  if (known) {
    r.status = *known;
  } else {
    auto st = status_.status(cert, anchors_.of(issuer), clock_.now());
    if (!st) return fail(st.error().context("checking the certificate's status"));
    r.status = *st;
  }
  r.status_method = std::string(status_.method());
  return r;
}

Result<CertificateReport> Verifier::verify_certificate(const X509* cert) const {
  X509* roots[] = {anchors_.sign.get(), anchors_.auth.get()};
  auto root = pki::verify_chain(cert, roots, clock_.now());
  if (!root) return fail(root.error());
  pki::CaKind issuer =
      X509_cmp(root->get(), anchors_.sign.get()) == 0 ? pki::CaKind::sign : pki::CaKind::auth;
  return report_for(cert, issuer);
}

Result<SignatureReport> Verifier::verify_signature(ByteView data, ByteView cms_der) const {
  auto now = clock_.now();
  // Step 1: the signer's chain, first, so an expired or foreign certificate
  // is named as such rather than as a signature that "does not verify".
  auto signer = cms_signer_certificate(cms_der);
  if (!signer) return fail(signer.error());
  X509* sign_root = anchors_.sign.get();
  if (auto chain = pki::verify_chain(signer->get(), std::span<X509* const>(&sign_root, 1), now);
      !chain) {
    X509* auth_root = anchors_.auth.get();
    if (pki::verify_chain(signer->get(), std::span<X509* const>(&auth_root, 1), now))
      return fail(Errc::verification,
                  "the document is signed with a user-authentication certificate, which proves "
                  "a login, not a signature");
    return fail(chain.error().context("the signer's certificate"));
  }
  // Step 2: RFC 5652 5.6 — the signature, the digest of the data — and the status.
  std::optional<pki::CertStatus> seen;
  pki::StatusLookup lookup = [&](const X509* cert, const X509* issuer) -> Result<pki::CertStatus> {
    auto st = status_.status(cert, issuer, now);
    if (st) seen = *st;
    return st;
  };
  auto verified =
      pki::cms_verify_detached(cms_der, data, std::span<X509* const>(&sign_root, 1), now, lookup);
  if (!verified) return fail(verified.error());
  // Step 3: what the signature tells the relying party.
  SignatureReport out;
  auto report = report_for(verified->signer.get(), pki::CaKind::sign, seen);
  if (!report) return fail(report.error());
  out.signer = std::move(*report);
  out.signing_time = verified->signing_time;
  if (!out.signer.facts)
    return fail(Errc::verification, "the signer's certificate carries no basic facts");
  return out;
}

Result<LoginReport> Verifier::verify_login(ByteView certificate, const std::string& audience,
                                           const std::string& nonce, ByteView signature) const {
  auto now = clock_.now();
  auto cert = pki::parse_certificate(certificate);
  if (!cert) return fail(cert.error().context("the login certificate"));
  // Step 1: the chain to the user-authentication root.
  X509* auth_root = anchors_.auth.get();
  if (auto chain = pki::verify_chain(cert->get(), std::span<X509* const>(&auth_root, 1), now);
      !chain) {
    X509* sign_root = anchors_.sign.get();
    if (pki::verify_chain(cert->get(), std::span<X509* const>(&sign_root, 1), now))
      return fail(Errc::verification,
                  "the certificate is a signature certificate; a login needs a "
                  "user-authentication certificate");
    return fail(chain.error());
  }
  // Step 2: the key signed this audience's challenge.
  if (!pki::verify_sha256_signature(X509_get0_pubkey(cert->get()),
                                    protocol::login_bytes(audience, nonce), signature))
    return fail(Errc::verification,
                "the login signature does not match the certificate, audience and nonce");
  // Step 3: the status, which a login needs to be good.
  auto report = report_for(cert->get(), pki::CaKind::auth);
  if (!report) return fail(report.error());
  if (!report->good()) return fail(Errc::forbidden, status_sentence(report->status));
  return LoginReport{std::move(*report)};
}

}  // namespace smacert::rp

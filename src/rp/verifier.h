// Verification as a relying party does it (spec/system.md flow 11): a
// certificate's chain to one of smacert's two roots and its revocation status,
// a document signature (CMS, RFC 5652) with the signer's four basic facts, and
// a login (a challenge signed with a user-authentication key).
#pragma once

#include <filesystem>
#include <optional>

#include "pki/facts.h"
#include "pki/openssl.h"
#include "pki/profile.h"
#include "rp/status_source.h"

namespace smacert::rp {

// The two roots a relying party trusts: signature and user authentication.
struct TrustAnchors {
  pki::X509Ptr sign;
  pki::X509Ptr auth;

  static Result<TrustAnchors> from_pem(std::string_view sign_pem, std::string_view auth_pem);
  // A data folder's ca/sign/ca.pem and ca/auth/ca.pem.
  static Result<TrustAnchors> from_data_dir(const std::filesystem::path& dir);
  // GET {server}/ca/sign.pem and /ca/auth.pem. Plain HTTP proves nothing about
  // who answered: a relying party in production pins the roots (from_pem).
  static Result<TrustAnchors> fetch(const std::string& server_url);

  const X509* of(pki::CaKind k) const { return k == pki::CaKind::sign ? sign.get() : auth.get(); }
};

enum class Profile { card, phone };
std::string_view profile_name(Profile p);  // "card" | "phone"

// What a relying party learns about one certificate whose chain holds.
struct CertificateReport {
  pki::X509Ptr certificate;
  std::string subject;  // RFC 2253, UTF-8 kept
  std::string serial;   // lower-case hex
  TimePoint not_before, not_after;
  pki::CaKind issuer;                        // the root it chains to
  std::optional<pki::CertificateKind> kind;  // from the policy OID; absent when not smacert's
  std::optional<Profile> profile;            // card or phone, from the same OID
  pki::CertStatus status;                    // as the status source says
  std::string status_method;                 // "ocsp" | "crl"
  std::optional<pki::CertifiedFacts> facts;  // signature certificates only
  bool good() const { return std::holds_alternative<pki::Good>(status); }
};

// "good" | "revoked" | "suspended" | "unknown".
std::string_view status_name(const pki::CertStatus& s);
// The sentence a person reads when the status is not good: "the certificate
// is revoked (superseded, 2026-11-25T10:00:00Z)"; empty when good.
std::string status_sentence(const pki::CertStatus& s);

struct SignatureReport {
  CertificateReport signer;  // status good, facts present
  std::optional<TimePoint> signing_time;
};

struct LoginReport {
  CertificateReport certificate;  // status good
};

class Verifier {
 public:
  // `anchors` holds both roots (every TrustAnchors factory makes sure).
  // `policies`: the OIDs that tell card from phone certificates (the
  // service's configuration; smacert's defaults otherwise).
  Verifier(TrustAnchors anchors, StatusSource& status, const Clock& clock,
           pki::PolicyOids policies = {});

  // The chain to either root (Errc::verification or Errc::expired when it does
  // not hold), then the status. A revoked certificate is a report, not an
  // error; an unreachable responder is Errc::unavailable.
  Result<CertificateReport> verify_certificate(const X509* cert) const;

  // RFC 5652 5.6 over `data`: the signer chains to the signature root, its
  // status is good, and it carries the four basic facts. Every failure is an
  // error whose sentence says why (revoked with the reason, suspended, …).
  Result<SignatureReport> verify_signature(ByteView data, ByteView cms_der) const;

  // A login: `certificate` (DER) chains to the user-authentication root, the
  // signature is its key's over protocol::login_bytes(audience, nonce), and
  // its status is good. The caller checks the nonce is fresh and unused.
  // Errors: Errc::verification (chain, signature), Errc::expired,
  // Errc::forbidden (revoked, suspended, unknown), Errc::unavailable.
  Result<LoginReport> verify_login(ByteView certificate, const std::string& audience,
                                   const std::string& nonce, ByteView signature) const;

  const TrustAnchors& anchors() const { return anchors_; }

 private:
  // `known`: a status already learned (by the CMS check), not asked again.
  Result<CertificateReport> report_for(const X509* cert, pki::CaKind issuer,
                                       std::optional<pki::CertStatus> known = {}) const;

  TrustAnchors anchors_;
  StatusSource& status_;
  const Clock& clock_;
  pki::PolicyOids policies_;
};

}  // namespace smacert::rp

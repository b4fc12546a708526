// A certificate authority of one kind (signature or user authentication), as
// JPKI has two hierarchies. It holds the root key and a delegated OCSP signer
// (RFC 6960 4.2.2.2), issues end-entity certificates through the profiles of
// profile.h, and does no I/O beyond its own key folder.
#pragma once

#include <array>
#include <filesystem>
#include <memory>
#include <optional>

#include "core/random.h"
#include "pki/csr.h"
#include "pki/openssl.h"
#include "pki/profile.h"
#include "pki/signer.h"

namespace smacert::pki {

struct IssueRequest {
  CertificateKind kind;
  const CertificateRequest* csr;     // proved possession of its key when read
  std::string subject_id;            // the opaque CN
  std::optional<HolderFacts> facts;  // required for the signature kinds
  std::string serial;                // lower-case hex, from random_serial()
  TimePoint not_before;
  TimePoint not_after;
  // A phone certificate never outlives the card certificate it was applied
  // with: the card certificate's notAfter. Required for the phone kinds.
  std::optional<TimePoint> not_after_limit;
};

class CertificateAuthority {
 public:
  // Loads the CA from `dir` (ca.key, ca.pem, ocsp.key, ocsp.pem), or creates
  // it there on first start. A second start never regenerates a key; an OCSP
  // signer certificate within 30 days of its end is re-issued for the same key.
  static Result<std::unique_ptr<CertificateAuthority>> open_or_create(
      const std::filesystem::path& dir, CaKind kind, const PkiConfig& config, const Clock& clock,
      Random& random);

  CaKind kind() const { return kind_; }
  const PkiConfig& config() const { return config_; }
  X509* certificate() const { return cert_.get(); }
  EVP_PKEY* key() const { return key_.get(); }
  X509* ocsp_certificate() const { return ocsp_cert_.get(); }
  EVP_PKEY* ocsp_key() const { return ocsp_key_.get(); }

  // What every certificate and CRL this CA signs repeats, encoded once: its
  // Name (DER), the AlgorithmIdentifier of its signatures and the
  // authorityKeyIdentifier Extension naming its key (RFC 5280 4.2.1.1).
  const Bytes& name_der() const { return name_der_; }
  const Bytes& signature_algorithm() const { return signature_algorithm_; }
  const Bytes& authority_key_identifier() const { return authority_key_identifier_; }

  // Step 1 checks the request (kind, proof of possession, key policy, facts,
  // validity); step 2 builds the certificate; step 3 signs it. The caller has
  // already persisted the serial (persist before sign).
  // The certificate, DER, written directly (der_writer.h) from the parts the
  // profile fixes for this CA, encoded once, and the request's own; the same
  // bytes OpenSSL's X509 encoders make (tests/pki/certificate_der_test.cpp).
  // Its notBefore and notAfter are the request's, to the second.
  Result<Bytes> issue(const IssueRequest& request) const;

 private:
  CertificateAuthority(CaKind kind, PkiConfig config, X509Ptr cert, PkeyPtr key, X509Ptr ocsp_cert,
                       PkeyPtr ocsp_key);
  CaKind kind_;
  PkiConfig config_;
  X509Ptr cert_;
  PkeyPtr key_;
  X509Ptr ocsp_cert_;
  PkeyPtr ocsp_key_;
  Bytes name_der_, signature_algorithm_, authority_key_identifier_;
  // The other Extensions the profile fixes: keyUsage, the certificatePolicies
  // of each kind, and AIA + CRL distribution point.
  Bytes key_usage_;
  std::array<Bytes, 4> policies_;  // by CertificateKind
  Bytes locations_;
};

// Both hierarchies, in `data_dir`/ca/sign and `data_dir`/ca/auth.
struct Authorities {
  std::unique_ptr<CertificateAuthority> sign;
  std::unique_ptr<CertificateAuthority> auth;
  const CertificateAuthority& of(CaKind k) const { return k == CaKind::sign ? *sign : *auth; }

  static Result<Authorities> open_or_create(const std::filesystem::path& data_dir,
                                            const PkiConfig& config, const Clock& clock,
                                            Random& random);
};

// A positive 128-bit random serial (RFC 5280 4.1.2.2 allows up to 20 octets),
// as lower-case hex with its top bit clear so the DER INTEGER stays 16 bytes.
std::string random_serial(Random& random);

// Builds a PKCS#10 request (subject C=JP, CN=`cn`) for the signer's key,
// signed by that signer: a key in this process, the card at the counter or
// the phone's secure element over APDUs.
Result<X509ReqPtr> make_csr(Signer& signer, std::string_view cn);

// The certificate's notAfter / notBefore as a TimePoint.
TimePoint not_after(const X509* cert);
TimePoint not_before(const X509* cert);

}  // namespace smacert::pki

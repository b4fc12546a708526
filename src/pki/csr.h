// A PKCS#10 certificate request (RFC 2986) as the CA takes it: read strictly
// and its signature checked against the key it carries (proof of possession)
// when it is read, so a CertificateRequest in hand always proves possession
// and is never checked twice.
//
// Why not d2i_X509_REQ: OpenSSL 3.0 decodes a request's key through its
// provider decoders, which costs ~150 µs for a P-256 key, and putting that key
// into a certificate encodes it again (~200 µs). This reader builds the key
// from its parameters (EVP_PKEY_fromdata, ~20 µs) and keeps the
// SubjectPublicKeyInfo bytes, which the certificate copies as they are.
#pragma once

#include "pki/openssl.h"

namespace smacert::pki {

class CertificateRequest {
 public:
  // Errc::malformed (not a request), Errc::too_large (over kMaxDerSize),
  // Errc::policy (a key or signature algorithm we do not take: RSA and EC
  // keys on named curves in uncompressed form, SHA-256/384/512 signatures),
  // Errc::verification (not signed by its own key).
  static Result<CertificateRequest> parse(ByteView der);

  const EVP_PKEY* public_key() const { return key_.get(); }
  // check_end_entity_key of that key, made once at parse: whether a
  // certificate may be issued for it (the request itself may still be valid).
  const Status& end_entity_key() const { return end_entity_key_; }
  // The SubjectPublicKeyInfo, DER, as the requester encoded it.
  ByteView subject_public_key_info() const { return ByteView(der_).subspan(spki_at_, spki_size_); }
  // The key's algorithm identifier and key bits, from which issue() writes the
  // certificate's SubjectPublicKeyInfo.
  ByteView algorithm_oid() const { return ByteView(der_).subspan(alg_at_, alg_size_); }
  ByteView curve_oid() const { return ByteView(der_).subspan(curve_at_, curve_size_); }
  ByteView key_bits() const { return ByteView(der_).subspan(bits_at_, bits_size_); }
  const Bytes& der() const { return der_; }

 private:
  CertificateRequest() = default;
  Bytes der_;
  std::size_t spki_at_ = 0, spki_size_ = 0;
  std::size_t alg_at_ = 0, alg_size_ = 0;      // the algorithm OBJECT IDENTIFIER TLV
  std::size_t curve_at_ = 0, curve_size_ = 0;  // EC: the namedCurve OID TLV; RSA: empty
  std::size_t bits_at_ = 0, bits_size_ = 0;    // the key, without the unused-bits octet
  PkeyPtr key_;
  Status end_entity_key_;
};

}  // namespace smacert::pki

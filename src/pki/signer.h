// The one-method seam where signing keys vary: a software key now, the card
// or the phone's secure element (over APDUs), an HSM through PKCS#11 later.
// A Signer signs a SHA-256 digest; RSA signers wrap it in a DigestInfo and
// sign with PKCS#1 v1.5 (RFC 8017 9.2), as COMPUTE DIGITAL SIGNATURE does.
#pragma once

#include "pki/openssl.h"

namespace smacert::pki {

class Signer {
 public:
  virtual ~Signer() = default;
  virtual Result<Bytes> sign_sha256(ByteView digest) = 0;
  virtual const EVP_PKEY* public_key() const = 0;
};

class SoftwareSigner final : public Signer {
 public:
  explicit SoftwareSigner(PkeyPtr key) : key_(std::move(key)) {}
  Result<Bytes> sign_sha256(ByteView digest) override;
  const EVP_PKEY* public_key() const override { return key_.get(); }

 private:
  PkeyPtr key_;
};

Bytes sha256(ByteView data);

// RFC 8017 9.2 step 2: DigestInfo ::= SEQUENCE { sha256 AlgorithmIdentifier, OCTET STRING digest }.
Bytes sha256_digest_info(ByteView digest);

// Signs raw PKCS#1 v1.5 over `digest_info` (the card's operation) or ECDSA over
// the digest, with a private key held in this process.
Result<Bytes> sign_digest_info_rsa(EVP_PKEY* key, ByteView digest_info);

// The X.509 way of signing with a key of this process: the
// AlgorithmIdentifier (sha256WithRSAEncryption with NULL parameters, RFC
// 4055; ecdsa-with-SHA256 without, RFC 5758) and the signature over `tbs`.
Bytes signature_algorithm(const EVP_PKEY* key);
Result<Bytes> sign_sha256_data(EVP_PKEY* key, ByteView tbs);
// SEQUENCE { tbs, signatureAlgorithm, signature BIT STRING } (certificates,
// RFC 5280 4.1.1.1; BasicOCSPResponse without certs, RFC 6960 4.2.1), with
// `tail` after the signature.
Result<Bytes> signed_der(EVP_PKEY* key, ByteView algorithm, ByteView tbs, ByteView tail = {});

// Checks a signature made by sign_sha256 over SHA-256(data).
Status verify_sha256_signature(const EVP_PKEY* key, ByteView data, ByteView signature);

}  // namespace smacert::pki

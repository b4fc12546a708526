// SubjectPublicKeyInfo (RFC 5280 4.1.2.7) read strictly, with the key built
// from its parameters. Shared by the readers of certificate requests and of
// presented certificates.
//
// Why not d2i_PUBKEY: OpenSSL 3.0 decodes a key through its provider
// decoders, which costs ~150 µs for a P-256 key; EVP_PKEY_fromdata takes
// ~20 µs.
#pragma once

#include "pki/der_reader.h"
#include "pki/openssl.h"

namespace smacert::pki {

struct SubjectPublicKey {
  PkeyPtr key;
  bool rsa = false;        // else EC
  ByteView algorithm_oid;  // the algorithm OBJECT IDENTIFIER TLV
  ByteView curve_oid;      // EC: the namedCurve OID TLV; RSA: empty
  ByteView bits;           // the key, without the BIT STRING's unused-bits octet
};

// `spki` is the content of the SubjectPublicKeyInfo SEQUENCE; the views point
// into it. RSA keys, and EC keys on named curves in uncompressed form.
// Errc::malformed or Errc::policy, each message starting with `what`.
Result<SubjectPublicKey> read_subject_public_key_info(ByteView spki, std::string_view what);

}  // namespace smacert::pki

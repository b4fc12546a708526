// A certificate someone presents to the service as who they are (a card's
// signature certificate with an application, a phone's authentication
// certificate at login), read only for what the service needs from it: its
// serial number, to look it up in the store, and its key, to check the
// signature made with it.
//
// Whether it is a certificate smacert issued is not decided here but by the
// store, which keeps the DER of every certificate the CAs issued: a
// presented certificate counts only if it is byte for byte the one stored
// under its serial (Service::registered). That is stronger than checking
// the chain (X509_verify_cert), which it replaces: it is ours, issued to
// that holder, and not replaced since.
//
// Why not d2i_X509: OpenSSL 3.0 decodes the key through its provider
// decoders, about 250 µs a certificate with the chain check; this reader
// takes ~25 µs.
#pragma once

#include <string>

#include "pki/openssl.h"

namespace smacert::pki {

class PresentedCertificate {
 public:
  // Errc::malformed (not an X.509 certificate), Errc::too_large (over
  // kMaxDerSize), Errc::policy (a key other than RSA or EC on a named curve).
  static Result<PresentedCertificate> parse(ByteView der);

  // Hex of the serial number, as serial_hex() writes it.
  const std::string& serial() const { return serial_; }
  const EVP_PKEY* public_key() const { return key_.get(); }
  const Bytes& der() const { return der_; }

 private:
  PresentedCertificate() = default;
  Bytes der_;
  std::string serial_;
  PkeyPtr key_;
};

}  // namespace smacert::pki

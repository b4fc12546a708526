// A JPKI reader-side client over any Transport: what the phone app, the CLI
// and the counter use to read certificates, check and enter PINs, sign, and
// (on a phone's element or a card being personalised) manage keys and PINs.
#pragma once

#include <optional>
#include <string_view>

#include "card/apdu.h"
#include "card/jpki_layout.h"
#include "card/transport.h"
#include "pki/openssl.h"
#include "pki/signer.h"

namespace smacert::card {

// The one mapping from status words to the error taxonomy, e.g. 63C2 →
// Errc::unauthorized "... (2 tries left)", 63C0/6983/6984 → Errc::locked.
Error status_error(std::uint16_t sw, std::string_view doing);

class JpkiClient {
 public:
  explicit JpkiClient(Transport& transport) : transport_(transport) {}

  // Sends a command, collecting 61xx continuations with GET RESPONSE (ISO
  // 7816-4 clause 5.3.4). Any status word comes back; only I/O is an error.
  Result<ResponseApdu> send(const CommandApdu& command);

  // SELECT of the JPKI application; clears the card's security state. The
  // other calls select it once on first use.
  Status select_application();
  Result<std::string> token_label();
  // Reads a whole certificate EF: the DER header gives the length, then
  // 256-byte READ BINARY chunks follow.
  Result<Bytes> read_certificate(std::uint16_t ef);
  Result<unsigned> tries_left(PinRef pin);
  // The signature password is upper-cased before it is sent (§2).
  Status verify(PinRef pin, std::string_view value);
  // PKCS#1 v1.5 over sha256_digest_info(digest) with `key`; its PIN verified.
  Result<Bytes> sign(PinRef key, ByteView sha256_digest);

  // smacert's proprietary commands (docs/card-protocol.md).
  Result<pki::PkeyPtr> generate_key_pair(PinRef key);
  Status set_pin(PinRef pin, std::string_view value);
  Status change_pin(PinRef pin, std::string_view new_value);  // after verify()
  Status write_file(std::uint16_t ef, ByteView content);
  Status erase();
  Status activate();

 private:
  Status ensure_selected();
  Status select_file(std::uint16_t fid);
  Status expect_ok(const CommandApdu& command, std::string_view doing);

  Transport& transport_;
  bool selected_ = false;
};

// A Signer whose key is on a card or a phone's element: each signature runs
// SELECT AID, SELECT PIN EF, VERIFY, SELECT key EF, COMPUTE DIGITAL SIGNATURE,
// as the signature key needs the password for every use.
class CardSigner final : public pki::Signer {
 public:
  CardSigner(Transport& transport, PinRef key, std::string pin, pki::PkeyPtr public_key)
      : transport_(transport), key_(key), pin_(std::move(pin)), public_(std::move(public_key)) {}
  // Learns the public key from the key's certificate on the token.
  static Result<CardSigner> open(Transport& transport, PinRef key, std::string pin);

  Result<Bytes> sign_sha256(ByteView digest) override;
  const EVP_PKEY* public_key() const override { return public_.get(); }

 private:
  Transport& transport_;
  PinRef key_;
  std::string pin_;
  pki::PkeyPtr public_;
};

// The EF that holds the certificate of `key`'s own certificate.
inline constexpr std::uint16_t certificate_file(PinRef key) {
  return key == PinRef::Auth ? kAuthCertFile : kSignCertFile;
}

}  // namespace smacert::card

#include "card/jpki_client.h"

#include <algorithm>
#include <cctype>

#include "pki/key.h"

namespace smacert::card {
namespace {

CommandApdu iso(std::uint8_t ins, std::uint8_t p1, std::uint8_t p2, Bytes data = {},
                std::optional<std::size_t> ne = std::nullopt) {
  return {kClaIso, ins, p1, p2, std::move(data), ne, false};
}
CommandApdu proprietary(std::uint8_t ins, std::uint8_t p1, std::uint8_t p2, Bytes data = {},
                        std::optional<std::size_t> ne = std::nullopt) {
  return {kClaProprietary, ins, p1, p2, std::move(data), ne, false};
}
Bytes fid_bytes(std::uint16_t fid) {
  return {static_cast<std::uint8_t>(fid >> 8), static_cast<std::uint8_t>(fid & 0xFF)};
}
std::string pin_label(PinRef p) {
  return p == PinRef::Auth ? "auth PIN" : "signature password";
}
constexpr std::size_t kMaxResponseChain = 64 * 1024;

}  // namespace

Error status_error(std::uint16_t sw, std::string_view doing) {
  const std::string what = std::string(doing) + ": the card answered " + status_text(sw);
  if ((sw & 0xFFF0) == 0x63C0) {
    const unsigned left = sw & 0x0F;
    if (left == 0) return {Errc::locked, std::string(doing) + ": wrong value; it is now blocked"};
    return {Errc::unauthorized, std::string(doing) + ": wrong value (" + std::to_string(left) +
                                    (left == 1 ? " try" : " tries") + " left)"};
  }
  switch (sw) {
    case 0x6983:
    case 0x6984:
      return {Errc::locked, std::string(doing) + ": blocked (" + status_text(sw) + ")"};
    case 0x6982:
      return {Errc::unauthorized, what};
    case 0x6A82:
    case 0x6A88:
    case 0x6B00:
      return {Errc::not_found, what};
    case 0x6A80:
      return {Errc::invalid_argument, what};
    case 0x6985:
      return {Errc::conflict, what};
    default:
      return {Errc::unavailable, what};
  }
}

Result<ResponseApdu> JpkiClient::send(const CommandApdu& command) {
  auto raw = transport_.transmit(command.encode());
  if (!raw) return fail(raw.error());
  auto r = parse_response(*raw);
  if (!r) return fail(r.error().context("reading the card's answer"));
  // Clause 5.3.4: 61xx means xx (00: 256 or more) bytes wait for GET RESPONSE.
  while (r->sw1() == 0x61) {
    if (r->data.size() > kMaxResponseChain)
      return fail(Errc::too_large, "the card's answer does not end");
    const std::size_t ne = r->sw2() == 0 ? kMaxShortNe : r->sw2();
    auto more_raw = transport_.transmit(iso(kInsGetResponse, 0, 0, {}, ne).encode());
    if (!more_raw) return fail(more_raw.error());
    auto more = parse_response(*more_raw);
    if (!more) return fail(more.error().context("reading the card's answer"));
    r->data.insert(r->data.end(), more->data.begin(), more->data.end());
    r->sw = more->sw;
  }
  return r;
}

Status JpkiClient::expect_ok(const CommandApdu& command, std::string_view doing) {
  auto r = send(command);
  if (!r) return fail(r.error().context(doing));
  if (!r->ok()) return fail(status_error(r->sw, doing));
  return {};
}

Status JpkiClient::select_application() {
  Bytes aid(kAidJpki.begin(), kAidJpki.end());
  SMACERT_TRY_STATUS(expect_ok(iso(kInsSelect, 0x04, 0x0C, aid), "selecting the JPKI application"));
  selected_ = true;
  return {};
}

Status JpkiClient::ensure_selected() {
  return selected_ ? Status{} : select_application();
}

Status JpkiClient::select_file(std::uint16_t fid) {
  SMACERT_TRY_STATUS(ensure_selected());
  const FileEntry* f = find_file(fid);
  std::string doing = "selecting " + (f ? std::string(f->name) : std::string("a file"));
  return expect_ok(iso(kInsSelect, 0x02, 0x0C, fid_bytes(fid)), doing);
}

Result<std::string> JpkiClient::token_label() {
  SMACERT_TRY_STATUS(select_file(kTokenInfoFile));
  auto r = send(iso(kInsReadBinary, 0, 0, {}, kTokenLabelSize));
  if (!r) return fail(r.error());
  if (!r->ok()) return fail(status_error(r->sw, "reading the token label"));
  std::string label(as_chars(r->data));
  while (!label.empty() && (label.back() == ' ' || label.back() == '\0')) label.pop_back();
  return label;
}

Result<Bytes> JpkiClient::read_certificate(std::uint16_t ef) {
  SMACERT_TRY_STATUS(select_file(ef));
  const std::string doing =
      "reading " + std::string(find_file(ef) ? find_file(ef)->name : "a file");
  auto read = [&](std::size_t offset, std::size_t n) -> Result<Bytes> {
    auto r = send(iso(kInsReadBinary, static_cast<std::uint8_t>(offset >> 8 & 0x7F),
                      static_cast<std::uint8_t>(offset & 0xFF), {}, n));
    if (!r) return fail(r.error());
    if (!r->ok()) return fail(status_error(r->sw, doing));
    if (r->data.empty() || r->data.size() > n)
      return fail(Errc::malformed, doing + ": the card answered a wrong number of bytes");
    return std::move(r->data);
  };
  // X.690 8.1.3: the DER length after the SEQUENCE tag, short or long form.
  auto head = read(0, 4);
  if (!head) return fail(head.error());
  const Bytes& h = *head;
  if (h.size() < 2 || h[0] != 0x30) return fail(Errc::malformed, doing + ": not a certificate");
  std::size_t total = 0;
  if (h[1] < 0x80) {
    total = 2 + h[1];
  } else if (h[1] == 0x81 && h.size() >= 3) {
    total = 3 + h[2];
  } else if (h[1] == 0x82 && h.size() >= 4) {
    total = 4 + (static_cast<std::size_t>(h[2]) << 8 | h[3]);
  } else {
    return fail(Errc::malformed, doing + ": an unsupported certificate length");
  }
  if (total > 0x7FFF) return fail(Errc::too_large, doing + ": the certificate is too large");
  Bytes der = h;
  while (der.size() < total) {
    auto chunk = read(der.size(), std::min<std::size_t>(kMaxShortNe, total - der.size()));
    if (!chunk) return fail(chunk.error());
    der.insert(der.end(), chunk->begin(), chunk->end());
  }
  der.resize(total);
  return der;
}

Result<unsigned> JpkiClient::tries_left(PinRef pin) {
  SMACERT_TRY_STATUS(select_file(pin_file(pin)));
  auto r = send(iso(kInsVerify, 0x00, 0x80));
  if (!r) return fail(r.error());
  if ((r->sw & 0xFFF0) != 0x63C0)
    return fail(status_error(r->sw, "asking the tries left of the " + pin_label(pin)));
  return static_cast<unsigned>(r->sw & 0x0F);
}

Status JpkiClient::verify(PinRef pin, std::string_view value) {
  SMACERT_TRY_STATUS(select_file(pin_file(pin)));
  std::string v(value);
  if (pin == PinRef::Sign)
    std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::toupper(c); });
  if (v.empty()) return fail(Errc::invalid_argument, "the " + pin_label(pin) + " is empty");
  return expect_ok(iso(kInsVerify, 0x00, 0x80, to_bytes(v)), "checking the " + pin_label(pin));
}

Result<Bytes> JpkiClient::sign(PinRef key, ByteView sha256_digest) {
  if (sha256_digest.size() != 32)
    return fail(Errc::invalid_argument, "a SHA-256 digest is 32 bytes");
  SMACERT_TRY_STATUS(select_file(key_file(key)));
  auto r = send(proprietary(kInsComputeSignature, 0x00, 0x80,
                            pki::sha256_digest_info(sha256_digest), kMaxShortNe));
  if (!r) return fail(r.error());
  if (!r->ok()) return fail(status_error(r->sw, "signing on the card"));
  return std::move(r->data);
}

Result<pki::PkeyPtr> JpkiClient::generate_key_pair(PinRef key) {
  SMACERT_TRY_STATUS(ensure_selected());
  auto r = send(proprietary(kInsGenerateKeyPair, 0x00, static_cast<std::uint8_t>(key_file(key)), {},
                            kMaxShortNe));
  if (!r) return fail(r.error());
  if (!r->ok()) return fail(status_error(r->sw, "generating a key pair"));
  return pki::parse_public_key_der(r->data);
}

Status JpkiClient::set_pin(PinRef pin, std::string_view value) {
  SMACERT_TRY_STATUS(ensure_selected());
  return expect_ok(proprietary(kInsSetReferenceData, 0x00, static_cast<std::uint8_t>(pin_file(pin)),
                               to_bytes(value)),
                   "setting the " + pin_label(pin));
}

Status JpkiClient::change_pin(PinRef pin, std::string_view new_value) {
  SMACERT_TRY_STATUS(select_file(pin_file(pin)));
  return expect_ok(iso(kInsChangeReferenceData, 0x01, 0x80, to_bytes(new_value)),
                   "changing the " + pin_label(pin));
}

Status JpkiClient::write_file(std::uint16_t ef, ByteView content) {
  SMACERT_TRY_STATUS(ensure_selected());
  CommandApdu c =
      proprietary(kInsWriteFile, static_cast<std::uint8_t>(ef >> 8),
                  static_cast<std::uint8_t>(ef & 0xFF), Bytes(content.begin(), content.end()));
  const FileEntry* f = find_file(ef);
  return expect_ok(c, "writing the " + std::string(f ? f->name : "file"));
}

Status JpkiClient::erase() {
  SMACERT_TRY_STATUS(ensure_selected());
  return expect_ok(proprietary(kInsErase, 0, 0), "erasing the secure element");
}

Status JpkiClient::activate() {
  SMACERT_TRY_STATUS(ensure_selected());
  return expect_ok(proprietary(kInsActivate, 0, 0), "activating the card");
}

Result<CardSigner> CardSigner::open(Transport& transport, PinRef key, std::string pin) {
  JpkiClient client(transport);
  SMACERT_TRY_STATUS(client.verify(key, pin));
  auto der = client.read_certificate(certificate_file(key));
  if (!der) return fail(der.error());
  auto cert = pki::parse_certificate(*der);
  if (!cert) return fail(cert.error().context("reading the card's certificate"));
  pki::PkeyPtr pub(X509_get_pubkey(cert->get()));
  if (!pub) return fail(pki::openssl_error(Errc::malformed, "the certificate carries no key"));
  return CardSigner(transport, key, std::move(pin), std::move(pub));
}

Result<Bytes> CardSigner::sign_sha256(ByteView digest) {
  JpkiClient client(transport_);
  SMACERT_TRY_STATUS(client.select_application());
  SMACERT_TRY_STATUS(client.verify(key_, pin_));
  return client.sign(key_, digest);
}

}  // namespace smacert::card

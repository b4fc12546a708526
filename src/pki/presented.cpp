#include "pki/presented.h"

#include "core/encoding.h"
#include "pki/der_reader.h"
#include "pki/spki.h"

namespace smacert::pki {
namespace {

namespace tag {
inline constexpr std::uint8_t kBitString = 0x03, kSequence = 0x30, kVersion = 0xa0,
                              kIssuerUid = 0x81, kSubjectUid = 0x82, kExtensions = 0xa3;
}

Error malformed(std::string_view what) {
  return Error{Errc::malformed, "certificate: " + std::string(what)};
}

}  // namespace

Result<PresentedCertificate> PresentedCertificate::parse(ByteView der) {
  if (der.empty()) return fail(malformed("empty"));
  if (der.size() > kMaxDerSize)
    return fail(Errc::too_large,
                "certificate is larger than " + std::to_string(kMaxDerSize) + " bytes");
  PresentedCertificate c;
  c.der_.assign(der.begin(), der.end());

  // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
  auto outer = der::only(c.der_, tag::kSequence);
  if (!outer) return fail(malformed("not a DER SEQUENCE (or trailing bytes)"));
  auto tbs = der::read(*outer, tag::kSequence);
  auto sig_alg = der::read(*outer, tag::kSequence);
  auto sig = der::read(*outer, tag::kBitString);
  if (!tbs || !sig_alg || !sig || !outer->empty())
    return fail(malformed("not a Certificate (RFC 5280 4.1)"));

  // TBSCertificate ::= SEQUENCE { version [0] EXPLICIT DEFAULT v1,
  //   serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo,
  //   issuerUniqueID [1], subjectUniqueID [2], extensions [3] }
  ByteView in = tbs->content;
  (void)der::read(in, tag::kVersion);
  // RFC 5280 4.1.2.2: positive, at most 20 octets.
  auto serial = der::positive_integer(in);
  if (!serial || serial->size() > 20)
    return fail(malformed("the serial number is not a positive INTEGER of at most 20 octets"));
  auto signature = der::read(in, tag::kSequence);
  auto issuer = der::read(in, tag::kSequence);
  auto validity = der::read(in, tag::kSequence);
  auto subject = der::read(in, tag::kSequence);
  auto spki = der::read(in, tag::kSequence);
  if (!signature || !issuer || !validity || !subject || !spki)
    return fail(malformed("not a TBSCertificate (RFC 5280 4.1)"));
  for (std::uint8_t optional : {tag::kIssuerUid, tag::kSubjectUid, tag::kExtensions})
    (void)der::read(in, optional);
  if (!in.empty()) return fail(malformed("unexpected content after the extensions"));

  auto key = read_subject_public_key_info(spki->content, "certificate");
  if (!key) return fail(key.error());
  c.serial_ = hex_encode(*serial);
  c.key_ = std::move(key->key);
  return c;
}

}  // namespace smacert::pki

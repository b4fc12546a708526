// A minimal DER writer (X.690) for the structures the project writes itself:
// CMS SignedData signed by a card or secure element (OpenSSL cannot build it
// with an external signer), and what is signed on the hot paths, where
// OpenSSL's template encoders cost more than the bytes: certificates, OCSP
// responses, CRLs.
#pragma once

#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/clock.h"

namespace smacert::pki::der {

namespace tag {
inline constexpr std::uint8_t kBoolean = 0x01, kInteger = 0x02, kBitString = 0x03,
                              kOctetString = 0x04, kNull = 0x05, kOid = 0x06, kEnumerated = 0x0a,
                              kUtf8String = 0x0c, kPrintableString = 0x13, kIa5String = 0x16,
                              kUtcTime = 0x17, kGeneralizedTime = 0x18, kSequence = 0x30,
                              kSet = 0x31;
inline constexpr std::uint8_t context(int n, bool constructed = true) {
  return static_cast<std::uint8_t>(0x80 | (constructed ? 0x20 : 0) | n);
}
}  // namespace tag

// tag || length || content, with the definite-length encoding of X.690 8.1.3.
Bytes tlv(std::uint8_t tag, ByteView content);
// tag || length for a content of `size` octets.
Bytes header(std::uint8_t tag, std::size_t size);
Bytes concat(std::initializer_list<ByteView> parts);
Bytes sequence(std::initializer_list<ByteView> parts);
// X.690 11.6: the components of a SET OF are sorted by their encodings.
Bytes set_of(std::vector<Bytes> parts);
Bytes small_integer(unsigned value);
// Dotted text form to DER content; the caller passes only well-formed OIDs.
Bytes oid(std::string_view dotted);
Bytes octet_string(ByteView content);
Bytes null();
// A positive INTEGER from its big-endian magnitude (leading zero octets are
// dropped; a 0x00 goes first when the top bit is set; no octets is zero).
Bytes integer(ByteView magnitude);
// A BIT STRING of whole octets (no unused bits).
Bytes bit_string(ByteView octets);

// RFC 5280 4.1.2.5 Time: UTCTime for 1950 through 2049, GeneralizedTime
// otherwise, to the second, in Z. put_time writes at most kMaxTime octets.
inline constexpr std::size_t kMaxTime = 17;
std::size_t put_time(std::uint8_t* out, TimePoint t);
Bytes time(TimePoint t);
// GeneralizedTime always (RFC 6960 4.2.1: OCSP's times), YYYYMMDDHHMMSSZ.
Bytes generalized_time(TimePoint t);

// RFC 5280 4.1 Extension ::= SEQUENCE { extnID, critical DEFAULT FALSE, extnValue OCTET STRING }.
Bytes extension(std::string_view dotted_oid, bool critical, ByteView value);

}  // namespace smacert::pki::der

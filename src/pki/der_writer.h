// A minimal DER writer (X.690) for the structures OpenSSL cannot build with
// an external signer: CMS SignedData signed by a card or secure element.
#pragma once

#include <string_view>
#include <vector>

#include "core/bytes.h"

namespace smacert::pki::der {

namespace tag {
inline constexpr std::uint8_t kInteger = 0x02, kOctetString = 0x04, kNull = 0x05, kOid = 0x06,
                              kUtcTime = 0x17, kSequence = 0x30, kSet = 0x31;
inline constexpr std::uint8_t context(int n, bool constructed = true) {
  return static_cast<std::uint8_t>(0x80 | (constructed ? 0x20 : 0) | n);
}
}  // namespace tag

// tag || length || content, with the definite-length encoding of X.690 8.1.3.
Bytes tlv(std::uint8_t tag, ByteView content);
Bytes concat(std::initializer_list<ByteView> parts);
Bytes sequence(std::initializer_list<ByteView> parts);
// X.690 11.6: the components of a SET OF are sorted by their encodings.
Bytes set_of(std::vector<Bytes> parts);
Bytes small_integer(unsigned value);
// Dotted text form to DER content; the caller passes only well-formed OIDs.
Bytes oid(std::string_view dotted);
Bytes octet_string(ByteView content);
Bytes null();

}  // namespace smacert::pki::der

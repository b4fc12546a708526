// A strict DER reader (X.690) for the few structures the project reads
// without OpenSSL's template machinery: definite, minimal lengths only, no
// multi-byte tags, no lengths beyond what the input holds. Views only: the
// caller keeps the input alive.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>

#include "core/bytes.h"

namespace smacert::pki::der {

struct Tlv {
  std::uint8_t tag;
  ByteView content;  // the value
  ByteView whole;    // tag, length and value
};

// Reads the TLV at the front of `in` and advances `in` past it; nullopt (and
// `in` unchanged) when the front is not a valid TLV.
std::optional<Tlv> read(ByteView& in);

// The next TLV if it has `tag`; nullopt (and `in` unchanged) otherwise.
std::optional<Tlv> read(ByteView& in, std::uint8_t tag);

// The only TLV of `in`, with tag `tag`: its content.
std::optional<ByteView> only(ByteView in, std::uint8_t tag);

bool equals(ByteView a, std::initializer_list<std::uint8_t> b);

// BIT STRING content with no unused bits: the octets after the first.
std::optional<ByteView> whole_octets(const Tlv& bits);

// A positive INTEGER in minimal form (X.690 8.3.2) at the front of `in`, as
// its magnitude; `in` advances past it (and stays put on nullopt).
std::optional<ByteView> positive_integer(ByteView& in);

}  // namespace smacert::pki::der

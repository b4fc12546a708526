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

}  // namespace smacert::pki::der

// Hex and base64 (RFC 4648: standard, and URL-safe without padding).
// Decoders are total: any input yields a value or Errc::malformed.
#pragma once

#include "core/bytes.h"
#include "core/error.h"

namespace smacert {

std::string hex_encode(ByteView data, bool upper = false);
Result<Bytes> hex_decode(std::string_view text);

std::string base64_encode(ByteView data);
Result<Bytes> base64_decode(std::string_view text);

std::string base64url_encode(ByteView data);
// Accepts with or without '=' padding, and (as RFC 6960 GET requests arrive
// percent-decoded by some clients and not others) the standard alphabet too.
Result<Bytes> base64url_decode(std::string_view text);

}  // namespace smacert

// PIN and password reference data: how the applet keeps them (salted
// PBKDF2-SHA256, never the value) and the format rules it enforces.
#pragma once

#include <string_view>

#include "card/jpki_layout.h"
#include "core/bytes.h"
#include "core/error.h"
#include "core/random.h"

namespace smacert::card {

struct PinRecord {
  unsigned iterations = 0;
  Bytes salt;
  Bytes hash;  // PBKDF2-HMAC-SHA256(value, salt, iterations), 32 bytes
  unsigned tries_left = 0;
  unsigned max_tries = 0;

  bool blocked() const { return tries_left == 0; }
};

// Enough work to make a stolen image slow to search; a 4-digit PIN stays
// guessable offline whatever the count, so the image file's mode (0600) and the
// retry counter are the real protection, as on a card.
inline constexpr unsigned kPinIterations = 20000;

PinRecord make_pin_record(ByteView value, unsigned max_tries, Random& random,
                          unsigned iterations = kPinIterations);
// Constant-time comparison of the derived hash (CRYPTO_memcmp).
bool pin_matches(const PinRecord& record, ByteView value);

// The rules of spec/system.md: auth PIN exactly 4 digits; signature password
// 6–16 characters of A–Z and 0–9 with at least one letter and one digit.
// Errc::invalid_argument says which rule failed (never echoing the value).
Status check_pin_format(PinRef pin, std::string_view value);

}  // namespace smacert::card

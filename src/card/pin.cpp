#include "card/pin.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>

namespace smacert::card {
namespace {

constexpr std::size_t kSaltSize = 16;
constexpr std::size_t kHashSize = 32;

Bytes derive(ByteView value, ByteView salt, unsigned iterations) {
  Bytes out(kHashSize);
  // An empty value hashes like any other: PBKDF2 accepts a zero-length password.
  PKCS5_PBKDF2_HMAC(reinterpret_cast<const char*>(value.data()), static_cast<int>(value.size()),
                    salt.data(), static_cast<int>(salt.size()), static_cast<int>(iterations),
                    EVP_sha256(), static_cast<int>(out.size()), out.data());
  return out;
}

}  // namespace

PinRecord make_pin_record(ByteView value, unsigned max_tries, Random& random, unsigned iterations) {
  PinRecord r;
  r.iterations = iterations;
  r.salt = random.bytes(kSaltSize);
  r.hash = derive(value, r.salt, iterations);
  r.tries_left = max_tries;
  r.max_tries = max_tries;
  return r;
}

bool pin_matches(const PinRecord& record, ByteView value) {
  if (record.hash.size() != kHashSize || record.iterations == 0) return false;
  Bytes h = derive(value, record.salt, record.iterations);
  return CRYPTO_memcmp(h.data(), record.hash.data(), kHashSize) == 0;
}

Status check_pin_format(PinRef pin, std::string_view v) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  if (pin == PinRef::Auth) {
    if (v.size() != 4 || !std::all_of(v.begin(), v.end(), digit))
      return fail(Errc::invalid_argument, "the auth PIN must be exactly 4 digits");
    return {};
  }
  if (v.size() < 6 || v.size() > 16)
    return fail(Errc::invalid_argument, "the signature password must be 6 to 16 characters");
  if (!std::all_of(v.begin(), v.end(), [&](char c) { return digit(c) || upper(c); }))
    return fail(Errc::invalid_argument,
                "the signature password may only contain capital letters A-Z and digits 0-9");
  if (std::none_of(v.begin(), v.end(), digit) || std::none_of(v.begin(), v.end(), upper))
    return fail(Errc::invalid_argument,
                "the signature password needs at least one letter and one digit");
  return {};
}

}  // namespace smacert::card

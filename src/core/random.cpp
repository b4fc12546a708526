#include "core/random.h"

#include <openssl/rand.h>

#include <stdexcept>

namespace smacert {

void OsRandom::fill(std::span<std::uint8_t> out) {
  // A CSPRNG that cannot produce bytes is not a recoverable condition.
  if (!out.empty() && RAND_bytes(out.data(), static_cast<int>(out.size())) != 1)
    throw std::runtime_error("OpenSSL RAND_bytes failed");
}

}  // namespace smacert

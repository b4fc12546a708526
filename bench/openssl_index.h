// The time format of `openssl ca`'s index.txt (YYMMDDHHMMSSZ, UTC), for the
// benchmarks that hand openssl ocsp and openssl ca -gencrl our serials.
#pragma once

#include <ctime>
#include <string>

#include "core/clock.h"

namespace smacert::bench {

inline std::string openssl_index_time(TimePoint t) {
  std::time_t s = static_cast<std::time_t>(to_unix(t));
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%y%m%d%H%M%SZ", &tm);
  return buf;
}

}  // namespace smacert::bench

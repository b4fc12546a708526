// The Date field (RFC 9110 5.6.7 IMF-fixdate), formatted once per second.
#pragma once

#include <string_view>

#include "core/clock.h"

namespace smacert::http::detail {

class HttpDate {
 public:
  // "Sun, 06 Nov 1994 08:49:37 GMT"; valid until the next call.
  std::string_view format(TimePoint now);

 private:
  long long second_ = -1;
  char text_[64] = {};
};

}  // namespace smacert::http::detail

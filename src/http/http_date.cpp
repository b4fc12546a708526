#include "http/http_date.h"

#include <cstdio>
#include <cstring>
#include <ctime>

namespace smacert::http::detail {

std::string_view HttpDate::format(TimePoint now) {
  const long long second = to_unix(now);
  if (second != second_) {
    static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const std::time_t t = static_cast<std::time_t>(second);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::snprintf(text_, sizeof text_, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday % 7],
                  tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    second_ = second;
  }
  return {text_, std::strlen(text_)};
}

}  // namespace smacert::http::detail

#include "service/window.h"

#include <charconv>
#include <cstdio>

namespace smacert::service {
namespace {

constexpr long long kJst = 9 * 3600;

Result<int> parse_hhmm(std::string_view s) {
  int h = 0, m = 0;
  if (s.size() != 5 || s[2] != ':' ||
      std::from_chars(s.data(), s.data() + 2, h).ptr != s.data() + 2 ||
      std::from_chars(s.data() + 3, s.data() + 5, m).ptr != s.data() + 5 || h > 23 || m > 59)
    return fail(Errc::invalid_argument,
                "a time of day must be HH:MM, got '" + std::string(s) + "'");
  return h * 60 + m;
}

// Seconds since midnight JST.
long long jst_second_of_day(TimePoint t) {
  long long s = to_unix(t) + kJst;
  return ((s % 86400) + 86400) % 86400;
}

}  // namespace

Result<IssuanceWindow> IssuanceWindow::parse(std::string_view text) {
  IssuanceWindow w;
  if (text == "always" || text.empty()) return w;
  auto dash = text.find('-');
  if (dash == std::string_view::npos)
    return fail(Errc::invalid_argument,
                "issuance.window must be \"always\" or \"HH:MM-HH:MM\" (Japan time)");
  auto open = parse_hhmm(text.substr(0, dash));
  if (!open) return fail(open.error());
  auto close = parse_hhmm(text.substr(dash + 1));
  if (!close) return fail(close.error());
  if (*open == *close)
    return fail(Errc::invalid_argument, "issuance.window opens and closes at the same time");
  w.always_ = false;
  w.open_ = *open;
  w.close_ = *close;
  return w;
}

bool IssuanceWindow::is_open(TimePoint t) const {
  if (always_) return true;
  long long s = jst_second_of_day(t), o = open_ * 60LL, c = close_ * 60LL;
  return o < c ? (s >= o && s < c) : (s >= o || s < c);
}

TimePoint IssuanceWindow::next_open(TimePoint t) const {
  if (is_open(t)) return t;
  long long s = jst_second_of_day(t), o = open_ * 60LL;
  long long wait = (o - s + 86400) % 86400;
  return from_unix(to_unix(t) + wait);
}

std::string IssuanceWindow::to_string() const {
  if (always_) return "always";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d:%02d-%02d:%02d", open_ / 60, open_ % 60, close_ / 60,
                close_ % 60);
  return buf;
}

}  // namespace smacert::service

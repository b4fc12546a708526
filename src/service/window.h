// The operating-hours policy `issuance.window`, in Japan time (JST, UTC+9,
// no daylight saving). The seed's service issues applications made after
// 19:30 the next morning; smacert's default is around the clock.
#pragma once

#include <string>

#include "core/clock.h"
#include "core/error.h"

namespace smacert::service {

class IssuanceWindow {
 public:
  IssuanceWindow() = default;  // always open
  // "always", or "HH:MM-HH:MM" (opening and closing time, JST; closing may be
  // earlier than opening for a window that spans midnight).
  static Result<IssuanceWindow> parse(std::string_view text);

  bool always() const { return always_; }
  bool is_open(TimePoint t) const;
  // The first instant at or after `t` when the window is open.
  TimePoint next_open(TimePoint t) const;
  std::string to_string() const;

 private:
  bool always_ = true;
  int open_ = 0, close_ = 0;  // minutes after midnight JST
};

}  // namespace smacert::service

// Time is injected: production uses SystemClock; tests and `--test-clock`
// move a ManualClock. Nothing in the project calls system_clock::now() directly.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

namespace smacert {

using TimePoint = std::chrono::system_clock::time_point;
using Seconds = std::chrono::seconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : now_(start.time_since_epoch().count()) {}
  TimePoint now() const override { return TimePoint(TimePoint::duration(now_.load())); }
  void set(TimePoint t) { now_ = t.time_since_epoch().count(); }
  void advance(std::chrono::system_clock::duration d) { now_ += d.count(); }

 private:
  std::atomic<TimePoint::rep> now_;
};

// Whole seconds since the Unix epoch, the unit the store and the wire use.
inline long long to_unix(TimePoint t) {
  return std::chrono::duration_cast<Seconds>(t.time_since_epoch()).count();
}
inline TimePoint from_unix(long long s) {
  return TimePoint(Seconds(s));
}

// RFC 3339 in UTC with a trailing Z, e.g. 2026-11-25T12:00:00Z.
std::string to_rfc3339(TimePoint t);

}  // namespace smacert

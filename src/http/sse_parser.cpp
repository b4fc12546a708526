#include "http/sse_parser.h"

#include <charconv>

namespace smacert::http {

Result<bool> SseParser::feed(std::string_view bytes,
                             const std::function<bool(const SseEvent&)>& on_event) {
  for (char c : bytes) {
    // A CR LF pair ends one line, not two.
    if (after_cr_) {
      after_cr_ = false;
      if (c == '\n') continue;
    }
    if (c == '\r' || c == '\n') {
      after_cr_ = c == '\r';
      const bool go_on = line(line_, on_event);
      line_.clear();
      if (!go_on) return false;
      continue;
    }
    line_ += c;
    if (line_.size() + data_.size() > max_) {
      return fail(Errc::too_large,
                  "an event in the stream is over " + std::to_string(max_) + " bytes");
    }
  }
  return true;
}

bool SseParser::line(std::string_view line, const std::function<bool(const SseEvent&)>& on_event) {
  if (line.empty()) {  // dispatch
    const bool had_data = has_data_;
    SseEvent event{last_id_, type_.empty() ? std::string("message") : std::move(type_),
                   std::move(data_)};
    type_.clear();
    data_.clear();
    has_data_ = false;
    if (!had_data) return true;
    return on_event(event);
  }
  if (line.front() == ':') return true;  // comment, e.g. ": keep-alive"
  const auto colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) data_ += '\n';
    data_ += value;
    has_data_ = true;
  } else if (field == "event") {
    type_ = value;
  } else if (field == "id") {
    std::int64_t id = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), id);
    if (ec == std::errc() && end == value.data() + value.size()) last_id_ = id;
  }
  // "retry" and unknown fields are ignored.
  return true;
}

}  // namespace smacert::http

// Incremental Server-Sent Events parser for the client side (WHATWG HTML,
// "Interpreting an event stream"). Bytes may arrive split anywhere.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "http/sse.h"

namespace smacert::http {

class SseParser {
 public:
  explicit SseParser(std::size_t max_event_bytes = 1024 * 1024) : max_(max_event_bytes) {}

  // Calls on_event for each complete event. Returns false once on_event has
  // returned false (the rest of the bytes are ignored); Errc::too_large when
  // a line or an event grows over the bound.
  Result<bool> feed(std::string_view bytes, const std::function<bool(const SseEvent&)>& on_event);

  // The id of the last event seen ("id:" persists across events, as in a browser).
  std::int64_t last_id() const { return last_id_; }

 private:
  bool line(std::string_view line, const std::function<bool(const SseEvent&)>& on_event);

  std::size_t max_;
  std::string line_;
  bool after_cr_ = false;
  std::string type_;
  std::string data_;
  bool has_data_ = false;
  std::int64_t last_id_ = 0;
};

}  // namespace smacert::http

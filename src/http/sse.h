// Server-Sent Events (WHATWG HTML, "Server-sent events"): the event shape,
// the stream a handler returns, and the wire format.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "http/hub.h"

namespace smacert::http {

struct SseEvent {
  std::int64_t id = 0;  // sent as "id:"; resumes with Last-Event-ID
  std::string type;     // sent as "event:"; empty means "message"
  std::string data;     // usually one JSON document
};

// What a handler returns to open a stream. The server writes the 200 header,
// then loops: fetch(last_id) → write the events (last_id becomes the largest
// id sent) → wait until hub->notify(topic) or the keep-alive interval passes
// (it then writes a ": keep-alive" comment and fetches again). The loop ends
// when the client goes away, fetch fails, or the server stops.
struct SseStream {
  // Events with id > last_id, oldest first. Runs on an I/O thread: keep it quick.
  std::function<Result<std::vector<SseEvent>>(std::int64_t last_id)> fetch;
  std::shared_ptr<Hub> hub;  // may be null: then only the keep-alive interval wakes
  std::string topic;
  std::int64_t last_id = 0;  // usually from the Last-Event-ID header
};

// Appends one event in wire form: "id: N\nevent: TYPE\ndata: …\n\n". A data
// value with line breaks becomes several "data:" lines; line breaks in the
// type are replaced by spaces.
void append_sse_event(std::string& out, const SseEvent& event);

}  // namespace smacert::http

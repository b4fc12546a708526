#include "http/sse.h"

#include <string_view>

namespace smacert::http {

void append_sse_event(std::string& out, const SseEvent& event) {
  out += "id: ";
  out += std::to_string(event.id);
  out += '\n';
  if (!event.type.empty()) {
    out += "event: ";
    for (char c : event.type) out += (c == '\r' || c == '\n') ? ' ' : c;
    out += '\n';
  }
  // Every line terminator the parser accepts (CRLF, LF, CR) starts a new data line.
  std::string_view data = event.data;
  while (true) {
    const auto end = data.find_first_of("\r\n");
    out += "data: ";
    out += data.substr(0, end);
    out += '\n';
    if (end == std::string_view::npos) break;
    const std::size_t skip =
        (data[end] == '\r' && end + 1 < data.size() && data[end + 1] == '\n') ? 2 : 1;
    data.remove_prefix(end + skip);
  }
  out += '\n';
}

}  // namespace smacert::http

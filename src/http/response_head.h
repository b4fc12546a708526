// The status line and header fields of an answer, written straight into a
// reused string: the session's fast path for the common answer (a body of
// known length, ordinary fields), which then goes out with its body in one
// gather write. The bytes are exactly those Beast's serializer writes for
// the same answer (tests/http/response_head_test.cpp holds it to that);
// anything else goes through Beast. Internal to src/http.
#pragma once

#include <string>
#include <string_view>

#include "http/headers.h"

namespace smacert::http::detail {

// Appends to `out` (cleared first) the head of an HTTP/1.1 answer: status
// line, Date, Content-Type (when not empty), `headers` in order, "Connection:
// close" unless `keep_alive`, Content-Length and the blank line. Returns
// false, leaving the answer to Beast, for a status without a body (1xx, 204,
// 304) or out of range, or a field that is not ordinary: one Beast itself
// manages (Connection, Content-Length, Transfer-Encoding, Date,
// Content-Type) or with a line break or colon where it must not be.
bool write_response_head(std::string& out, int status, std::string_view date,
                         std::string_view content_type, const Headers& headers,
                         std::size_t content_length, bool keep_alive);

}  // namespace smacert::http::detail

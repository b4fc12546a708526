// The session's fast path writes an answer's head itself; these tests hold
// it to Beast's serializer (the slow path), byte for byte, over statuses,
// content types, fields, keep-alive and body sizes, and check that what it
// declines is what Beast must handle.
#include "http/response_head.h"

#include <gtest/gtest.h>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <sstream>

namespace smacert::http::detail {
namespace {

namespace bhttp = boost::beast::http;

// What the session's Beast path sends for the same answer.
std::string beast_bytes(int status, std::string_view date, std::string_view content_type,
                        const Headers& headers, const std::string& body, bool keep_alive) {
  bhttp::response<bhttp::string_body> r;
  r.version(11);
  r.result(static_cast<unsigned>(status));
  r.set(bhttp::field::date, boost::beast::string_view(date.data(), date.size()));
  if (!content_type.empty())
    r.set(bhttp::field::content_type,
          boost::beast::string_view(content_type.data(), content_type.size()));
  for (const auto& [name, value] : headers)
    r.insert(boost::beast::string_view(name.data(), name.size()),
             boost::beast::string_view(value.data(), value.size()));
  r.body() = body;
  r.keep_alive(keep_alive);
  r.prepare_payload();
  std::ostringstream out;
  out << r;
  return out.str();
}

TEST(ResponseHead, IsWhatBeastWritesByteForByte) {
  const std::string date = "Thu, 26 Nov 2026 00:52:45 GMT";
  const std::vector<Headers> header_sets = {
      {},
      {{"Cache-Control", "max-age=60, public, no-transform, must-revalidate"}},
      {{"cache-control", "no-store"},
       {"X-Request-Id", "abc"},
       {"Vary", "Accept"},
       {"Vary", "Accept-Language"},
       {"Location", "/v1/applications/app-1"}},
      {{"Retry-After", ""}},
  };
  int compared = 0;
  for (int status : {200, 201, 202, 299, 400, 401, 403, 404, 409, 413, 429, 431, 500, 503, 505})
    for (std::string_view type : {"", "application/ocsp-response", "application/json"})
      for (const auto& headers : header_sets)
        for (bool keep_alive : {true, false})
          for (std::size_t size : {0u, 5u, 1338u, 70000u}) {
            std::string body(size, 'b');
            std::string head;
            ASSERT_TRUE(
                write_response_head(head, status, date, type, headers, body.size(), keep_alive));
            EXPECT_EQ(head + body, beast_bytes(status, date, type, headers, body, keep_alive))
                << status << " " << type << " keep-alive " << keep_alive << " size " << size;
            ++compared;
          }
  EXPECT_EQ(compared, 15 * 3 * 4 * 2 * 4);
}

TEST(ResponseHead, LeavesToBeastWhatIsNotOrdinary) {
  std::string head = "left over";
  auto simple = [&](int status, Headers h) {
    return write_response_head(head, status, "d", "t", h, 1, true);
  };
  EXPECT_TRUE(simple(200, {}));
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);  // cleared first
  for (int status : {100, 199, 204, 304, 600, -1}) EXPECT_FALSE(simple(status, {})) << status;
  for (std::string name :
       {"Connection", "connection", "Content-Length", "Transfer-Encoding", "Date", "content-type"})
    EXPECT_FALSE(simple(200, {{name, "x"}})) << name;
  EXPECT_FALSE(simple(200, {{"X-Bad", "a\r\nInjected: yes"}}));
  EXPECT_FALSE(simple(200, {{"X:Bad", "a"}}));
  EXPECT_FALSE(simple(200, {{"", "a"}}));
}

}  // namespace
}  // namespace smacert::http::detail

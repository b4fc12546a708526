// What a hostile or broken client can send: the server answers 4xx and
// closes, never calls a handler with a partial request, never crashes, and
// keeps serving everyone else.
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "http/client.h"
#include "raw_socket.h"
#include "test_server.h"

namespace smacert::http {
namespace {

using namespace std::chrono_literals;
using testing::RawSocket;

class HostileInput : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.header_timeout = 1s;
    options.idle_timeout = 5s;
    options.body_timeout = 2s;
    server_ = testing::start_server(routes_.router(), options);
    ASSERT_TRUE(server_);
  }

  // Sends bytes on a fresh connection and returns all the server says before closing.
  std::string exchange(std::string_view bytes, bool half_close = false) {
    RawSocket s(server_->port());
    EXPECT_TRUE(s.connected());
    s.send(bytes);
    if (half_close) s.shutdown_write();
    auto answer = s.read_all(5s);
    EXPECT_TRUE(s.closed()) << "the server kept the connection open after: " << bytes.substr(0, 80);
    return answer;
  }

  void expect_still_serving() {
    Client client;
    auto res = client.get(server_->url() + "/healthz");
    ASSERT_TRUE(res) << res.error().message;
    EXPECT_EQ(res->status, 200);
  }

  static int status_of(const std::string& answer) {
    if (answer.rfind("HTTP/1.1 ", 0) != 0) return 0;
    return std::stoi(answer.substr(9, 3));
  }

  testing::EchoRoutes routes_;
  std::unique_ptr<Server> server_;
};

TEST_F(HostileInput, GarbageRequestLineIs400AndClose) {
  for (const char* garbage : {"HELLO\r\n\r\n", "GET\r\n\r\n", "GET /a\x01b HTTP/1.1\r\n\r\n",
                              "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
                              "GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
                              "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
                              "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"}) {
    const auto answer = exchange(garbage);
    EXPECT_EQ(status_of(answer), 400) << garbage << " → " << answer;
    EXPECT_NE(answer.find("\"error\":\"malformed\""), std::string::npos);
    EXPECT_NE(answer.find("Connection: close"), std::string::npos);
  }
  EXPECT_EQ(status_of(exchange("GET http://evil.example/ HTTP/1.1\r\nHost: x\r\n\r\n")), 400);
  EXPECT_EQ(status_of(exchange("GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n")), 400);
  EXPECT_EQ(status_of(exchange("GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n")), 505);
  EXPECT_EQ(status_of(exchange("GET /healthz HTTP/1.1.1\r\nHost: x\r\n\r\n")), 505);
  expect_still_serving();
}

TEST_F(HostileInput, HeaderOver8KiBIs431AndClose) {
  const std::string request =
      "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(9000, 'a') + "\r\n\r\n";
  const auto answer = exchange(request);
  EXPECT_EQ(status_of(answer), 431) << answer;
  // Just under the limit is fine.
  RawSocket ok(server_->port());
  ok.send("GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(7900, 'a') + "\r\n\r\n");
  EXPECT_EQ(status_of(ok.read_response()), 200);
  expect_still_serving();
}

TEST_F(HostileInput, BodyOverTheRouteLimitIs413AndTheHandlerIsNeverCalled) {
  // Declared: refused before a byte of body is read.
  RawSocket s(server_->port());
  s.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 1025\r\n\r\n");
  s.send(std::string(1025, 'x'));
  const auto answer = s.read_all(5s);
  EXPECT_EQ(status_of(answer), 413) << answer;
  EXPECT_TRUE(s.closed());
  EXPECT_NE(answer.find("1024 bytes"), std::string::npos);

  // Chunked: refused as the chunks pass the limit.
  const auto chunked = exchange(
      "POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
      "200\r\n" +
      std::string(512, 'a') + "\r\n200\r\n" + std::string(512, 'b') +
      "\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n");
  EXPECT_EQ(status_of(chunked), 413) << chunked;

  // The server default (64 KiB) for routes without their own limit.
  const auto large = exchange("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 70000\r\n\r\n" +
                              std::string(70000, 'z'));
  EXPECT_EQ(status_of(large), 413);
  EXPECT_EQ(routes_.upload_calls.load(), 0);

  // At the limit it works.
  Client client;
  auto fits = client.post(server_->url() + "/upload", std::string(1024, 'y'), "text/plain");
  ASSERT_TRUE(fits);
  EXPECT_EQ(fits->body, "1024");
  EXPECT_EQ(routes_.upload_calls.load(), 1);
  EXPECT_EQ(server_->metrics()->requests("upload", 413), 2u);
}

TEST_F(HostileInput, TruncatedBodyWithTheClientClosingNeverReachesTheHandler) {
  const auto answer =
      exchange("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly ten..", true);
  EXPECT_EQ(answer, "");
  const auto chunk_cut = exchange(
      "POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc", true);
  EXPECT_EQ(chunk_cut, "");
  EXPECT_EQ(routes_.upload_calls.load(), 0);
  expect_still_serving();
}

TEST_F(HostileInput, BodyLongerThanDeclaredIsReadAsTheNextRequest) {
  // 5 declared, 5 + garbage sent: the extra bytes are a (bad) next request.
  const auto answer =
      exchange("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhelloEXTRA\r\n\r\n");
  EXPECT_EQ(status_of(answer), 200);
  EXPECT_NE(answer.find("hello"), std::string::npos);
  EXPECT_NE(answer.find("400 Bad Request"), std::string::npos);
}

TEST_F(HostileInput, BadChunkedEncodingIs400) {
  for (const char* body : {"zz\r\nabc\r\n0\r\n\r\n", "3\r\nabcdef\r\n0\r\n\r\n",
                           "ffffffffffffffffffff\r\n", "3;\x01=x\r\nabc\r\n0\r\n\r\n"}) {
    const auto answer = exchange(
        std::string("POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n") +
        body);
    const int status = status_of(answer);
    EXPECT_TRUE(status == 400 || status == 413) << body << " → " << answer;
  }
  EXPECT_EQ(routes_.upload_calls.load(), 0);
  expect_still_serving();
}

TEST_F(HostileInput, SlowlorisIsCutOffAtTheHeaderDeadline) {
  RawSocket s(server_->port());
  const std::string request =
      "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: " + std::string(40, 'a') + "\r\n\r\n";
  const auto start = std::chrono::steady_clock::now();
  std::size_t sent = 0;
  // One byte every 100 ms: each read is quick, the header as a whole is not.
  while (sent < request.size() && s.send(request.substr(sent, 1))) {
    ++sent;
    s.read_until("", 100ms);
    if (s.closed()) break;
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(s.closed());
  EXPECT_LT(sent, request.size());
  EXPECT_LT(elapsed, 4s);
  EXPECT_EQ(s.received().find("200"), std::string::npos);
  expect_still_serving();
}

TEST_F(HostileInput, SilentConnectionIsClosedAtTheIdleDeadline) {
  testing::EchoRoutes routes;
  ServerOptions options;
  options.idle_timeout = 300ms;
  auto server = testing::start_server(routes.router(), options);
  ASSERT_TRUE(server);
  RawSocket s(server->port());
  s.read_all(5s);
  EXPECT_TRUE(s.closed());
}

TEST_F(HostileInput, TenThousandRandomInputsNeverBreakTheServer) {
  // Half pure noise, half mutations of valid requests (more likely to reach
  // the deeper parser states). Each goes to a fresh connection, which is
  // half-closed so that the server never waits for more.
  const std::vector<std::string> seeds = {
      "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n",
      "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello",
      "POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: "
      "chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
      "GET /v1/x%20y?a=b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
  };
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2500;
  std::atomic<int> unanswered{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(1234 + t);
      for (int i = 0; i < kPerThread; ++i) {
        std::string bytes;
        if (i % 2 == 0) {
          bytes.resize(rng() % 600);
          for (auto& c : bytes) c = static_cast<char>(rng());
        } else {
          bytes = seeds[rng() % seeds.size()];
          const int edits = 1 + static_cast<int>(rng() % 4);
          for (int e = 0; e < edits && !bytes.empty(); ++e) {
            const auto pos = rng() % bytes.size();
            switch (rng() % 4) {
              case 0:
                bytes[pos] = static_cast<char>(rng());
                break;
              case 1:
                bytes.erase(pos, 1 + rng() % 8);
                break;
              case 2:
                bytes.insert(pos, std::string(1 + rng() % 3, "\r\n:% \0"[rng() % 6]));
                break;
              default:
                bytes.insert(pos, bytes.substr(rng() % bytes.size(), rng() % 40));
                break;
            }
          }
        }
        RawSocket s(server_->port());
        if (!s.connected()) {
          ++unanswered;
          continue;
        }
        s.send(bytes);
        s.shutdown_write();
        s.read_all(5s);
        if (!s.closed()) ++unanswered;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(unanswered.load(), 0);
  expect_still_serving();
}

}  // namespace
}  // namespace smacert::http

// The client against real sockets: answers, refusals, timeouts, limits,
// connection reuse.
#include "http/client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test_server.h"

namespace smacert::http {
namespace {

using namespace std::chrono_literals;

// A socket that listens but never accepts: the kernel completes handshakes
// into the backlog and nobody ever answers.
class DeafListener {
 public:
  DeafListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~DeafListener() { ::close(fd_); }
  std::uint16_t port() const { return port_; }

 private:
  int fd_;
  std::uint16_t port_;
};

std::uint16_t closed_port() {
  DeafListener l;
  return l.port();  // closed when l goes: nothing listens there any more
}

TEST(Client, ConnectionRefusedIsUnavailable) {
  Client client;
  auto res = client.get("http://127.0.0.1:" + std::to_string(closed_port()) + "/healthz");
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, Errc::unavailable);
  EXPECT_NE(res.error().message.find("cannot connect to 127.0.0.1:"), std::string::npos)
      << res.error().message;
}

TEST(Client, SilentServerTimesOutAsUnavailable) {
  DeafListener deaf;
  Client client(ClientOptions{.timeout = 300ms});
  const auto begin = std::chrono::steady_clock::now();
  auto res = client.get("http://127.0.0.1:" + std::to_string(deaf.port()) + "/");
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, Errc::unavailable);
  EXPECT_NE(res.error().message.find("within 300 ms"), std::string::npos) << res.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 5s);

  auto events = client.read_events(
      "http://127.0.0.1:" + std::to_string(deaf.port()) + "/e", std::nullopt,
      [](const SseEvent&) { return true; }, 10s);
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, Errc::unavailable);
}

TEST(Client, SlowHandlerTimesOutWithAPerRequestTimeout) {
  testing::EchoRoutes routes;
  auto server = testing::start_server(routes.router());
  ASSERT_TRUE(server);
  Client client;
  auto res = client.request("GET", server->url() + "/slow", {}, {}, 100ms);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, Errc::unavailable);
  // The client recovers on a fresh connection.
  auto ok = client.get(server->url() + "/healthz");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->status, 200);
}

TEST(Client, BodyLimitIsEnforced) {
  Router router;
  router.add("GET", "/big", "big",
             [](Request&) { return text_response(200, std::string(2 << 20, 'b')); });
  auto server = testing::start_server(std::move(router));
  ASSERT_TRUE(server);

  Client small(ClientOptions{.body_limit = 1 << 20});
  auto refused = small.get(server->url() + "/big");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::too_large);

  Client normal;  // 4 MiB
  auto fine = normal.get(server->url() + "/big");
  ASSERT_TRUE(fine) << fine.error().message;
  EXPECT_EQ(fine->body.size(), std::size_t{2} << 20);
}

TEST(Client, BadUrlsAreInvalidArguments) {
  Client client;
  for (const char* bad : {"ftp://127.0.0.1/", "http://", "127.0.0.1:80/"}) {
    auto answer = client.get(bad);
    ASSERT_FALSE(answer) << bad;
    EXPECT_EQ(answer.error().code, Errc::invalid_argument) << bad;
  }
}

TEST(Client, BinaryBodiesRoundTrip) {
  testing::EchoRoutes routes;
  auto server = testing::start_server(routes.router());
  ASSERT_TRUE(server);
  std::string body;
  for (int i = 0; i < 3000; ++i) body += static_cast<char>(i * 7);
  Client client;
  auto res = client.post(server->url() + "/echo", body, "application/ocsp-request");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, body);
}

int open_connections(const Server& server) {
  const auto text = server.metrics()->prometheus_text();
  const std::string key = "\nsmacert_http_open_connections ";
  return std::stoi(text.substr(text.find(key) + key.size()));
}

TEST(Client, ReusesOneConnection) {
  testing::EchoRoutes routes;
  auto server = testing::start_server(routes.router());
  ASSERT_TRUE(server);
  Client client;
  for (int i = 0; i < 20; ++i) {
    auto res = client.get(server->url() + "/healthz");
    ASSERT_TRUE(res);
  }
  EXPECT_EQ(open_connections(*server), 1);
}

TEST(Client, RetriesAGetWhenTheServerClosedTheIdleConnection) {
  testing::EchoRoutes routes;
  ServerOptions options;
  options.idle_timeout = 200ms;
  auto server = testing::start_server(routes.router(), options);
  ASSERT_TRUE(server);
  Client client;
  ASSERT_TRUE(client.get(server->url() + "/healthz"));
  std::this_thread::sleep_for(500ms);  // the server has closed it by now
  auto res = client.get(server->url() + "/healthz");
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 200);
}

}  // namespace
}  // namespace smacert::http

// The server over real loopback sockets: keep-alive, Connection: close,
// request fields, bodies, handler failures, graceful stop, signals.
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>

#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "http/client.h"
#include "http/shutdown_signal.h"
#include "raw_socket.h"
#include "test_server.h"

namespace smacert::http {
namespace {

using namespace std::chrono_literals;
using testing::RawSocket;

const std::string kGet = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";

TEST(Server, BindsAnEphemeralPortAndServes) {
  testing::EchoRoutes routes;
  auto server = testing::start_server(routes.router());
  ASSERT_TRUE(server);
  EXPECT_NE(server->port(), 0);
  EXPECT_EQ(server->url(), "http://127.0.0.1:" + std::to_string(server->port()));
  Client client;
  auto res = client.get(server->url() + "/healthz");
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "ok");
  EXPECT_EQ(res->header("content-type"), "text/plain; charset=utf-8");
  EXPECT_TRUE(res->header("Date").has_value());
}

TEST(Server, ABusyPortIsUnavailable) {
  testing::EchoRoutes routes;
  auto first = testing::start_server(routes.router());
  ASSERT_TRUE(first);
  ServerOptions options;
  options.port = first->port();
  auto second = Server::start(routes.router(), options);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Errc::unavailable);
  EXPECT_NE(second.error().message.find(std::to_string(first->port())), std::string::npos);

  options.address = "not-an-address";
  options.port = 0;
  auto bad = Server::start(routes.router(), options);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::invalid_argument);
}

TEST(Server, ManyRequestsOnOneKeepAliveConnection) {
  testing::EchoRoutes routes;
  auto server = testing::start_server(routes.router());
  ASSERT_TRUE(server);
  RawSocket s(server->port());
  ASSERT_TRUE(s.connected());
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(s.send(kGet));
    const auto response = s.read_response();
    ASSERT_EQ(response.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << i << ": " << response;
    ASSERT_EQ(response.substr(response.size() - 2), "ok");
    ASSERT_FALSE(s.closed());
  }
  EXPECT_EQ(server->metrics()->requests("healthz", 200), 200u);
}

TEST(Server, RequestsSentAheadAreAnsweredInOrder) {
  testing::EchoRoutes routes;
  auto server = testing::start_server(routes.router());
  ASSERT_TRUE(server);
  RawSocket s(server->port());
  ASSERT_TRUE(
      s.send(kGet + "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc" + kGet));
  EXPECT_NE(s.read_response().find("\r\n\r\nok"), std::string::npos);
  EXPECT_NE(s.read_response().find("\r\n\r\nabc"), std::string::npos);
  EXPECT_NE(s.read_response().find("\r\n\r\nok"), std::string::npos);
}

TEST(Server, ConnectionCloseIsHonoured) {
  testing::EchoRoutes routes;
  auto server = testing::start_server(routes.router());
  ASSERT_TRUE(server);
  RawSocket s(server->port());
  ASSERT_TRUE(s.send("GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
  const auto all = s.read_all(5s);
  EXPECT_TRUE(s.closed());
  EXPECT_EQ(all.rfind("HTTP/1.1 200 OK", 0), 0u);
  EXPECT_NE(all.find("Connection: close"), std::string::npos);
  EXPECT_EQ(all.substr(all.size() - 2), "ok");

  RawSocket old(server->port());
  ASSERT_TRUE(old.send("GET /healthz HTTP/1.0\r\n\r\n"));
  const auto answer = old.read_all(5s);
  EXPECT_TRUE(old.closed());
  EXPECT_EQ(answer.substr(answer.size() - 2), "ok");
}

TEST(Server, HeadIsAnsweredLikeGetWithoutABody) {
  testing::EchoRoutes routes;
  auto server = testing::start_server(routes.router());
  ASSERT_TRUE(server);
  RawSocket s(server->port());
  ASSERT_TRUE(s.send("HEAD /healthz HTTP/1.1\r\nHost: t\r\n\r\n" + kGet));
  const auto both = s.read_until("\r\n\r\nok", 5s);
  const auto second = both.find("HTTP/1.1 200 OK", 1);
  ASSERT_NE(second, std::string::npos) << both;
  const auto head = both.substr(0, second);
  EXPECT_NE(head.find("Content-Length: 2\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");  // nothing after the header

  Client client;
  auto res = client.request("HEAD", server->url() + "/healthz");
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "");
  auto after = client.get(server->url() + "/healthz");  // same connection, still in step
  ASSERT_TRUE(after);
  EXPECT_EQ(after->body, "ok");
}

TEST(Server, HandlersSeeDecodedRequestFields) {
  Router router;
  router.add("POST", "/v1/items/{id}", "item", [](Request& req) {
    nlohmann::json query = nlohmann::json::object();
    for (const auto& [k, v] : req.query) query[k] = v;
    return json_response(201, {{"method", req.method},
                               {"target", req.target},
                               {"path", req.path},
                               {"id", std::string(req.param("id"))},
                               {"query", query},
                               {"key", std::string(req.header("idempotency-key").value_or(""))},
                               {"body", req.body},
                               {"remote", req.remote_address}});
  });
  auto server = testing::start_server(std::move(router));
  ASSERT_TRUE(server);
  Client client;
  auto res = client.post(server->url() + "/v1/items/a%2Fb%20c?x=1&y=two+words", "{\"k\":1}",
                         "application/json", Headers{{"Idempotency-Key", "k-123"}});
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 201);
  const auto j = nlohmann::json::parse(res->body);
  EXPECT_EQ(j["method"], "POST");
  EXPECT_EQ(j["target"], "/v1/items/a%2Fb%20c?x=1&y=two+words");
  EXPECT_EQ(j["path"], "/v1/items/a/b c");
  EXPECT_EQ(j["id"], "a/b c");
  EXPECT_EQ(j["query"]["y"], "two words");
  EXPECT_EQ(j["key"], "k-123");
  EXPECT_EQ(j["body"], "{\"k\":1}");
  EXPECT_EQ(j["remote"], "127.0.0.1");
}

TEST(Server, SharedBytesAreServedAsIs) {
  auto bytes = std::make_shared<const std::vector<std::uint8_t>>(1338, std::uint8_t{0x30});
  Router router;
  router.add("GET", "/ocsp/{ca}/{req}", "ocsp_get", [bytes](Request&) {
    auto res = bytes_response(200, bytes, "application/ocsp-response");
    res.headers.add("Cache-Control", "max-age=3600, public");
    return res;
  });
  auto server = testing::start_server(std::move(router));
  ASSERT_TRUE(server);
  Client client;
  for (int i = 0; i < 3; ++i) {
    auto res = client.get(server->url() + "/ocsp/sign/MEowSDBGMEQw");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, std::string(1338, '0'));
    EXPECT_EQ(res->header("content-length"), "1338");
    EXPECT_EQ(res->header("cache-control"), "max-age=3600, public");
  }
  // The session lets go of its reference once the answer is written.
  for (int i = 0; i < 200 && bytes.use_count() > 2; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(bytes.use_count(), 2);  // ours and the handler's copy
}

TEST(Server, AnExceptionBecomesAGeneric500) {
  testing::EchoRoutes routes;
  auto server = testing::start_server(routes.router());
  ASSERT_TRUE(server);
  Client client;
  auto res = client.get(server->url() + "/throw");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_EQ(nlohmann::json::parse(res->body)["error"], "internal");
  EXPECT_EQ(res->body.find("secret"), std::string::npos);
  // The connection and the server carry on.
  auto after = client.get(server->url() + "/healthz");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

TEST(Server, HandlerHeadersWithLineBreaksAreDropped) {
  Router router;
  router.add("GET", "/h", "h", [](Request&) {
    auto res = text_response(200, "x");
    res.headers.add("X-Good", "yes");
    res.headers.add("X-Bad", "a\r\nSet-Cookie: injected=1");
    return res;
  });
  auto server = testing::start_server(std::move(router));
  ASSERT_TRUE(server);
  Client client;
  auto res = client.get(server->url() + "/h");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->header("X-Good"), "yes");
  EXPECT_FALSE(res->header("X-Bad"));
  EXPECT_FALSE(res->header("Set-Cookie"));
}

TEST(Server, ExpectContinueIsAnswered) {
  testing::EchoRoutes routes;
  auto server = testing::start_server(routes.router());
  ASSERT_TRUE(server);
  RawSocket s(server->port());
  ASSERT_TRUE(s.send(
      "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  EXPECT_NE(s.read_until("\r\n\r\n", 5s).find("HTTP/1.1 100 Continue\r\n\r\n"), std::string::npos);
  ASSERT_TRUE(s.send("hello"));
  EXPECT_NE(s.read_until("hello", 5s).find("200 OK"), std::string::npos);
}

TEST(Server, StopLetsAnInFlightRequestFinish) {
  testing::EchoRoutes routes;
  ServerOptions options;
  options.threads = 1;
  auto server = testing::start_server(routes.router(), options);
  ASSERT_TRUE(server);
  const auto port = server->port();
  RawSocket idle(port);  // an idle keep-alive connection: closed at once by stop()
  ASSERT_TRUE(idle.send(kGet));
  ASSERT_NE(idle.read_response().find("200 OK"), std::string::npos);

  auto slow = std::async(std::launch::async, [&] {
    Client client;
    return client.get(server->url() + "/slow");
  });
  std::this_thread::sleep_for(150ms);  // the handler is now sleeping
  server->stop();
  auto res = slow.get();
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "finally");

  idle.read_all(2s);
  EXPECT_TRUE(idle.closed());
  RawSocket refused(port);
  EXPECT_FALSE(refused.connected());
  server->stop();  // idempotent
}

std::size_t threads_of_this_process() {
  std::size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
    (void)entry;
    ++n;
  }
  return n;
}

// threads = 0: threads_per_core for each core of this process's CPU affinity.
TEST(Server, ThreadsPerCoreOfTheCoresThisProcessMayRunOn) {
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  const auto cores = static_cast<std::size_t>(CPU_COUNT(&set));
  testing::EchoRoutes routes;
  for (unsigned per_core : {1u, 3u}) {
    const std::size_t before = threads_of_this_process();
    ServerOptions options;
    options.threads_per_core = per_core;
    auto server = Server::start(routes.router(), options);
    ASSERT_TRUE(server) << server.error().message;
    EXPECT_EQ(threads_of_this_process() - before, cores * per_core);
    (*server)->stop();
  }
}

TEST(Server, StopDoesNotWaitForIdleConnections) {
  testing::EchoRoutes routes;
  ServerOptions options;
  options.drain_timeout = 20s;
  auto server = testing::start_server(routes.router(), options);
  ASSERT_TRUE(server);
  std::vector<std::unique_ptr<RawSocket>> sockets;
  for (int i = 0; i < 5; ++i) {
    sockets.push_back(std::make_unique<RawSocket>(server->port()));
    ASSERT_TRUE(sockets.back()->send(kGet));
    sockets.back()->read_response();
  }
  RawSocket half(server->port());
  ASSERT_TRUE(half.send("GET /healthz HTTP/1.1\r\n"));  // a request under way
  std::this_thread::sleep_for(50ms);
  auto stopping = std::async(std::launch::async, [&] { server->stop(); });
  ASSERT_TRUE(half.send("Host: t\r\n\r\n"));
  const auto answer = half.read_all(5s);
  EXPECT_NE(answer.find("200 OK"), std::string::npos) << answer;
  EXPECT_TRUE(half.closed());
  EXPECT_EQ(stopping.wait_for(5s), std::future_status::ready);
  for (auto& s : sockets) {
    s->read_all(1s);
    EXPECT_TRUE(s->closed());
  }
}

TEST(Server, SigtermStopsTheServer) {
  block_shutdown_signals();  // before the server's threads start, as a main does
  testing::EchoRoutes routes;
  auto server = testing::start_server(routes.router());
  ASSERT_TRUE(server);
  const auto port = server->port();
  std::thread sender([] {
    std::this_thread::sleep_for(300ms);
    ::kill(::getpid(), SIGTERM);
  });
  const int signal = wait_for_shutdown_signal(*server);
  sender.join();
  EXPECT_EQ(signal, SIGTERM);
  RawSocket refused(port);
  EXPECT_FALSE(refused.connected());
}

}  // namespace
}  // namespace smacert::http

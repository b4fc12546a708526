// HTTPS: the server with a certificate and key, our client verifying it,
// and the OpenSSL and curl command-line tools as independent peers.
// Certificates are made with the openssl tool (support/tls_files.h).
#include <gtest/gtest.h>

#include <future>

#include "http/client.h"
#include "http/hub.h"
#include "raw_socket.h"
#include "support/process.h"
#include "support/temp_dir.h"
#include "support/tls_files.h"
#include "test_server.h"

namespace smacert::http {
namespace {

using namespace std::chrono_literals;
using smacert::testing::run;
using smacert::testing::sh;

class Tls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new smacert::testing::TempDir("tls");
    smacert::testing::TlsFiles files;
    auto made = smacert::testing::make_tls_files(dir_->path(), files);
    ASSERT_EQ(made.rc, 0) << made.output;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string file(const char* name) { return (*dir_ / name).string(); }

  void start(Router router) {
    ServerOptions options;
    options.tls_certificate_file = file("server.pem");
    options.tls_key_file = file("server.key");
    server_ = testing::start_server(std::move(router), options);
    ASSERT_TRUE(server_);
    ASSERT_EQ(server_->url().rfind("https://127.0.0.1:", 0), 0u) << server_->url();
  }

  static Client trusting_client() {
    ClientOptions options;
    options.ca_file = file("ca.pem");
    return Client(options);
  }

  static inline smacert::testing::TempDir* dir_ = nullptr;
  testing::EchoRoutes routes_;
  std::unique_ptr<Server> server_;
};

TEST_F(Tls, ClientVerifiesTheServer) {
  start(routes_.router());
  auto client = trusting_client();
  for (int i = 0; i < 3; ++i) {
    auto answer = client.get(server_->url() + "/healthz");
    ASSERT_TRUE(answer) << answer.error().message;
    EXPECT_EQ(answer->status, 200);
    EXPECT_EQ(answer->body, "ok");
  }
}

TEST_F(Tls, LargeBodiesCrossTheRecordLayerWhole) {
  start(routes_.router());
  std::string body(40 * 1024, '\0');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i * 7 + i / 255);
  auto client = trusting_client();
  auto answer = client.post(server_->url() + "/echo", body, "application/octet-stream");
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(answer->body, body);
}

TEST_F(Tls, AnUntrustedServerIsAVerificationError) {
  start(routes_.router());
  ClientOptions options;
  options.ca_file = file("other.pem");
  Client client(options);
  auto answer = client.get(server_->url() + "/healthz");
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error().code, Errc::verification) << answer.error().message;
  EXPECT_NE(answer.error().message.find("not trusted"), std::string::npos)
      << answer.error().message;
}

TEST_F(Tls, ACertificateForAnotherHostIsRefused) {
  start(routes_.router());
  auto client = trusting_client();
  // The certificate names 127.0.0.1 only; "localhost" reaches the same socket.
  auto answer = client.get("https://localhost:" + std::to_string(server_->port()) + "/healthz");
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error().code, Errc::verification) << answer.error().message;
}

TEST_F(Tls, PlainHttpOnTheTlsPortGetsNothingAndTheServerGoesOn) {
  start(routes_.router());
  {
    testing::RawSocket raw(server_->port());
    ASSERT_TRUE(raw.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    const auto got = raw.read_all(5s);
    EXPECT_EQ(got.find("200"), std::string::npos);  // never an answer in the clear
  }
  Client plain;
  auto refused = plain.get("http://127.0.0.1:" + std::to_string(server_->port()) + "/healthz");
  EXPECT_FALSE(refused && refused->status == 200);
  auto client = trusting_client();
  auto answer = client.get(server_->url() + "/healthz");
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_EQ(answer->status, 200);
}

TEST_F(Tls, EventStreamsWorkOverTls) {
  auto hub = std::make_shared<Hub>();
  std::mutex mutex;
  std::vector<SseEvent> events;
  Router router;
  router.add("GET", "/events", "events", [&](Request&) {
    return sse_response(SseStream{[&](std::int64_t last) -> Result<std::vector<SseEvent>> {
                                    std::lock_guard lock(mutex);
                                    std::vector<SseEvent> out;
                                    for (const auto& e : events)
                                      if (e.id > last) out.push_back(e);
                                    return out;
                                  },
                                  hub, "t", 0});
  });
  start(std::move(router));
  auto reader = std::async(std::launch::async, [&] {
    std::vector<SseEvent> got;
    auto client = trusting_client();
    auto status = client.read_events(
        server_->url() + "/events", std::nullopt,
        [&](const SseEvent& e) {
          got.push_back(e);
          return got.size() < 2;
        },
        20s);
    EXPECT_TRUE(status) << status.error().message;
    return got;
  });
  for (int i = 0; i < 500 && hub->subscribers("t") == 0; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(hub->subscribers("t"), 1u);
  for (int id = 1; id <= 2; ++id) {
    {
      std::lock_guard lock(mutex);
      events.push_back({id, "wipe", "{\"n\":" + std::to_string(id) + "}"});
    }
    hub->notify("t");
  }
  ASSERT_EQ(reader.wait_for(10s), std::future_status::ready);
  const auto got = reader.get();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].data, "{\"n\":2}");
}

TEST_F(Tls, OpensslAndCurlAgree) {
  start(routes_.router());
  const std::string port = std::to_string(server_->port());
  auto curl = run("curl -sS --max-time 10 --cacert " + sh(file("ca.pem")) +
                  " https://127.0.0.1:" + port + "/healthz");
  EXPECT_EQ(curl.rc, 0) << curl.output;
  EXPECT_EQ(curl.output, "ok");

  auto s_client =
      run("printf 'GET /healthz HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nConnection: "
          "close\\r\\n\\r\\n' | timeout 10 openssl s_client -quiet -connect 127.0.0.1:" +
          port + " -CAfile " + sh(file("ca.pem")) + " -verify_return_error -verify_ip 127.0.0.1");
  EXPECT_EQ(s_client.rc, 0) << s_client.output;
  EXPECT_NE(s_client.output.find("HTTP/1.1 200 OK"), std::string::npos) << s_client.output;

  // TLS 1.1 and older are refused.
  auto old = run("timeout 10 openssl s_client -tls1_1 -connect 127.0.0.1:" + port + " </dev/null");
  EXPECT_NE(old.rc, 0) << old.output;
}

TEST_F(Tls, BadCertificatesAndKeysAreRefusedAtStart) {
  struct Case {
    std::string certificate, key, says;
  };
  const std::vector<Case> cases = {
      {file("server.pem"), "", "both"},
      {"", file("server.key"), "both"},
      {file("missing.pem"), file("server.key"), "missing.pem"},
      {file("server.pem"), file("missing.key"), "missing.key"},
      {file("server.csr"), file("server.key"), "server.csr"},
      {file("server.pem"), file("stray.key"), "does not belong"},
  };
  for (const auto& c : cases) {
    ServerOptions options;
    options.tls_certificate_file = c.certificate;
    options.tls_key_file = c.key;
    auto checked = Server::check_tls(options);
    ASSERT_FALSE(checked) << c.certificate << " " << c.key;
    EXPECT_EQ(checked.error().code, Errc::invalid_argument);
    EXPECT_NE(checked.error().message.find(c.says), std::string::npos) << checked.error().message;
    auto server = Server::start(testing::EchoRoutes().router(), options);
    EXPECT_FALSE(server);
  }
}

}  // namespace
}  // namespace smacert::http

// Prometheus text: counts and histograms match what was served.
#include "http/metrics.h"

#include <gtest/gtest.h>

#include <thread>

#include "http/client.h"
#include "test_server.h"

namespace smacert::http {
namespace {

using namespace std::chrono_literals;

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(Metrics, CountsMatchTheRequestsMade) {
  auto metrics = std::make_shared<Metrics>();
  testing::EchoRoutes routes;
  auto router = routes.router();
  router.add("GET", "/metrics", "metrics", [metrics](Request&) {
    return text_response(200, metrics->prometheus_text(), "text/plain; version=0.0.4");
  });
  ServerOptions options;
  options.metrics = metrics;
  auto server = testing::start_server(std::move(router), options);
  ASSERT_TRUE(server);
  EXPECT_EQ(server->metrics(), metrics);

  Client client;
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(client.get(server->url() + "/healthz"));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client.get(server->url() + "/nowhere"));
  ASSERT_TRUE(client.request("DELETE", server->url() + "/healthz"));
  ASSERT_TRUE(client.get(server->url() + "/throw"));

  auto res = client.get(server->url() + "/metrics");
  ASSERT_TRUE(res);
  const auto& text = res->body;
  EXPECT_TRUE(has_line(text, R"(smacert_http_requests_total{route="healthz",code="200"} 7)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(smacert_http_requests_total{route="unmatched",code="404"} 3)"));
  EXPECT_TRUE(has_line(text, R"(smacert_http_requests_total{route="unmatched",code="405"} 1)"));
  EXPECT_TRUE(has_line(text, R"(smacert_http_requests_total{route="throw",code="500"} 1)"));
  EXPECT_TRUE(has_line(
      text, R"(smacert_http_request_duration_seconds_bucket{route="healthz",le="+Inf"} 7)"));
  EXPECT_TRUE(has_line(text, R"(smacert_http_request_duration_seconds_count{route="healthz"} 7)"));
  EXPECT_NE(text.find("# TYPE smacert_http_request_duration_seconds histogram\n"),
            std::string::npos);
  EXPECT_EQ(text.find(R"(route="echo")"), std::string::npos);  // never called: no series
  EXPECT_EQ(metrics->requests("healthz"), 7u);
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  Metrics m;
  const auto slot = m.slot("ocsp_get");
  EXPECT_EQ(m.slot("ocsp_get"), slot);
  m.observe(slot, 200, 200us);  // ≤ 0.0005
  m.observe(slot, 200, 800us);  // ≤ 0.001
  m.observe(slot, 200, 3ms);    // ≤ 0.005
  m.observe(slot, 304, 20s);    // +Inf only
  const auto text = m.prometheus_text();
  const std::string b = R"(smacert_http_request_duration_seconds_bucket{route="ocsp_get",le=)";
  EXPECT_TRUE(has_line(text, b + R"("0.0005"} 1)")) << text;
  EXPECT_TRUE(has_line(text, b + R"("0.001"} 2)"));
  EXPECT_TRUE(has_line(text, b + R"("0.0025"} 2)"));
  EXPECT_TRUE(has_line(text, b + R"("0.005"} 3)"));
  EXPECT_TRUE(has_line(text, b + R"("10"} 3)"));
  EXPECT_TRUE(has_line(text, b + R"("+Inf"} 4)"));
  EXPECT_TRUE(
      has_line(text, R"(smacert_http_request_duration_seconds_sum{route="ocsp_get"} 20.004)"));
  EXPECT_TRUE(has_line(text, R"(smacert_http_requests_total{route="ocsp_get",code="304"} 1)"));
}

TEST(Metrics, LabelsAreEscapedAndOverflowGoesToOther) {
  Metrics m(2);
  const auto odd = m.slot("a\"b\\c\nd");
  m.slot("second");
  EXPECT_EQ(m.slot("third"), 0u);  // over capacity: "other"
  m.observe(odd, 200, 1ms);
  m.observe(m.slot("third"), 200, 1ms);
  const auto text = m.prometheus_text();
  EXPECT_TRUE(has_line(text, R"(smacert_http_requests_total{route="a\"b\\c\nd",code="200"} 1)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(smacert_http_requests_total{route="other",code="200"} 1)"));
}

TEST(Metrics, ConcurrentObservationsAreAllCounted) {
  Metrics m;
  const auto slot = m.slot("hot");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) m.observe(slot, 200, 1us);
    });
  }
  std::thread reader([&] {
    for (int i = 0; i < 50; ++i) (void)m.prometheus_text();
  });
  for (auto& t : threads) t.join();
  reader.join();
  EXPECT_EQ(m.requests("hot", 200), 40000u);
}

}  // namespace
}  // namespace smacert::http

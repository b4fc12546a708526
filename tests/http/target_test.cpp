// Pure parsers: request targets, URLs, the event-stream format, the Date field.
#include "http/target.h"

#include <gtest/gtest.h>

#include <random>

#include "http/http_date.h"
#include "http/sse_parser.h"
#include "http/url.h"

namespace smacert::http {
namespace {

TEST(Target, PercentDecoding) {
  EXPECT_EQ(percent_decode("a%20b%2Fc"), "a b/c");
  EXPECT_EQ(percent_decode("a+b"), "a+b");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_EQ(percent_decode("%e3%81%82"), "\xe3\x81\x82");
  EXPECT_FALSE(percent_decode("%"));
  EXPECT_FALSE(percent_decode("%4"));
  EXPECT_FALSE(percent_decode("abc%zz"));
}

TEST(Target, SplitsPathAndQueryAndRefusesOtherForms) {
  auto t = split_target("/a/b?x=1&y");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/a/b");
  EXPECT_EQ(t->query, "x=1&y");
  EXPECT_FALSE(split_target("http://example.org/a"));
  EXPECT_FALSE(split_target("*"));
  EXPECT_FALSE(split_target(""));
}

TEST(Target, ParsesQueries) {
  auto q = parse_query("a=1&b=x+y%21&c&&d=");
  ASSERT_TRUE(q);
  ASSERT_EQ(q->size(), 4u);
  EXPECT_EQ((*q)[1], (std::pair<std::string, std::string>{"b", "x y!"}));
  EXPECT_EQ((*q)[2].second, "");
  EXPECT_FALSE(parse_query("a=%G0"));
}

TEST(Url, ParsesHttpUrls) {
  auto u = parse_url("http://127.0.0.1:8700/v1/x?y=1#frag");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, "8700");
  EXPECT_EQ(u->target, "/v1/x?y=1");
  EXPECT_EQ(u->host_field(), "127.0.0.1:8700");

  auto v6 = parse_url("HTTP://[::1]:99");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->target, "/");
  EXPECT_EQ(v6->host_field(), "[::1]:99");

  auto plain = parse_url("http://example.org");
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->tls);
  EXPECT_EQ(plain->port, "80");
  EXPECT_EQ(plain->host_field(), "example.org");

  auto tls = parse_url("HTTPS://example.org/ocsp");
  ASSERT_TRUE(tls);
  EXPECT_TRUE(tls->tls);
  EXPECT_EQ(tls->port, "443");
  EXPECT_EQ(tls->host_field(), "example.org");
  EXPECT_EQ(tls->target, "/ocsp");
  auto tls_port = parse_url("https://127.0.0.1:8443");
  ASSERT_TRUE(tls_port);
  EXPECT_EQ(tls_port->host_field(), "127.0.0.1:8443");
}

TEST(Url, RefusesWhatItCannotServe) {
  for (const char* bad :
       {"ftp://x", "https//x", "http://", "http://:80/", "http://h:0/", "http://h:70000/",
        "http://h:8a/", "http://u:p@h/", "http://h/a b", "http://[::1/"}) {
    auto u = parse_url(bad);
    ASSERT_FALSE(u) << bad;
    EXPECT_EQ(u.error().code, Errc::invalid_argument);
  }
}

std::vector<SseEvent> parse_all(std::string_view wire, std::size_t split_every) {
  SseParser parser;
  std::vector<SseEvent> events;
  auto collect = [&](const SseEvent& e) {
    events.push_back(e);
    return true;
  };
  for (std::size_t i = 0; i < wire.size(); i += split_every) {
    auto r = parser.feed(wire.substr(i, split_every), collect);
    EXPECT_TRUE(r && *r);
  }
  return events;
}

TEST(SseWire, FormatAndParseRoundTripWhateverTheSplit) {
  std::string wire;
  append_sse_event(wire, {7, "registration_ready", R"({"application_id":"a1"})"});
  append_sse_event(wire, {8, "wipe", "line one\nline two\r\nline three"});
  append_sse_event(wire, {9, "bad\ntype", ""});
  EXPECT_EQ(wire.substr(0, wire.find("\n\n") + 2),
            "id: 7\nevent: registration_ready\ndata: {\"application_id\":\"a1\"}\n\n");
  for (std::size_t split : {1u, 2u, 3u, 7u, 1000u}) {
    const auto events = parse_all(wire, split);
    ASSERT_EQ(events.size(), 3u) << split;
    EXPECT_EQ(events[0].id, 7);
    EXPECT_EQ(events[0].type, "registration_ready");
    EXPECT_EQ(events[1].data, "line one\nline two\nline three");
    EXPECT_EQ(events[2].type, "bad type");
    EXPECT_EQ(events[2].data, "");
  }
}

TEST(SseWire, ParserFollowsTheBrowserRules) {
  const std::string wire =
      ": keep-alive\r\n\r\n"
      "data:no space\r\r"
      "id: 12\nevent: x\n\n"  // no data: not dispatched, but the id sticks
      "data: y\nretry: 100\nunknown: z\n\n";
  const auto events = parse_all(wire, 5);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].data, "no space");
  EXPECT_EQ(events[0].type, "message");
  EXPECT_EQ(events[1].id, 12);
  EXPECT_EQ(events[1].type, "message");
  EXPECT_EQ(events[1].data, "y");
}

TEST(SseWire, ParserStopsWhenTheCallbackSaysSoAndBoundsEvents) {
  SseParser parser;
  int seen = 0;
  auto r = parser.feed("data: 1\n\ndata: 2\n\n", [&](const SseEvent&) { return ++seen < 1; });
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);
  EXPECT_EQ(seen, 1);

  SseParser small(64);
  auto big = small.feed("data: " + std::string(100, 'x'), [](const SseEvent&) { return true; });
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, Errc::too_large);
}

TEST(SseWire, ParserSurvivesRandomBytes) {
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    std::string bytes(rng() % 300, '\0');
    for (auto& c : bytes) c = "data:id: event\r\n\xff"[rng() % 17];
    SseParser parser(128);
    (void)parser.feed(bytes, [](const SseEvent&) { return true; });
  }
}

TEST(HttpDate, FormatsImfFixdate) {
  detail::HttpDate date;
  EXPECT_EQ(date.format(from_unix(784111777)), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(date.format(from_unix(784111777)), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(date.format(from_unix(1795608000)), "Wed, 25 Nov 2026 12:00:00 GMT");
}

}  // namespace
}  // namespace smacert::http

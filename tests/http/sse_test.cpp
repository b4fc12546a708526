// Server-Sent Events end to end: a domain-like event log publishes through
// the hub, streams wake and deliver, resume by Last-Event-ID, send
// keep-alive comments, and end when the server stops.
#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <thread>

#include "http/client.h"
#include "http/hub.h"
#include "raw_socket.h"
#include "test_server.h"

namespace smacert::http {
namespace {

using namespace std::chrono_literals;
using testing::RawSocket;

// What the domain would do: append events under a lock, then notify.
class EventLog {
 public:
  explicit EventLog(std::shared_ptr<Hub> hub) : hub_(std::move(hub)) {}

  void publish(const std::string& device, std::string type, std::string data) {
    {
      std::lock_guard lock(mutex_);
      events_.push_back({device, SseEvent{++next_id_, std::move(type), std::move(data)}});
    }
    hub_->notify("device:" + device);
  }

  std::vector<SseEvent> after(const std::string& device, std::int64_t last_id) {
    std::lock_guard lock(mutex_);
    std::vector<SseEvent> out;
    for (const auto& [d, e] : events_) {
      if (d == device && e.id > last_id) out.push_back(e);
    }
    ++fetches_;
    return out;
  }

  int fetches() {
    std::lock_guard lock(mutex_);
    return fetches_;
  }

 private:
  std::shared_ptr<Hub> hub_;
  std::mutex mutex_;
  std::vector<std::pair<std::string, SseEvent>> events_;
  std::int64_t next_id_ = 0;
  int fetches_ = 0;
};

class Sse : public ::testing::Test {
 protected:
  void start(std::chrono::milliseconds keepalive = 30s) {
    Router router;
    router.add("GET", "/v1/devices/{id}/events", "device_events", [this](Request& req) {
      const std::string device(req.param("id"));
      if (device == "unknown") return error_response(404, "not_found", "No such device.");
      std::int64_t last_id = 0;
      if (auto h = req.header("Last-Event-ID")) last_id = std::stoll(std::string(*h));
      return sse_response(
          SseStream{[this, device](std::int64_t last) -> Result<std::vector<SseEvent>> {
                      return log_.after(device, last);
                    },
                    hub_, "device:" + device, last_id});
    });
    ServerOptions options;
    options.sse_keepalive = keepalive;
    options.drain_timeout = 5s;
    server_ = testing::start_server(std::move(router), options);
    ASSERT_TRUE(server_);
  }

  std::string url(const std::string& device) {
    return server_->url() + "/v1/devices/" + device + "/events";
  }

  // Waits (bounded) until the stream for `device` is subscribed.
  bool subscribed(const std::string& device, std::size_t n = 1) {
    for (int i = 0; i < 500; ++i) {
      if (hub_->subscribers("device:" + device) == n) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  std::shared_ptr<Hub> hub_ = std::make_shared<Hub>();
  EventLog log_{hub_};
  std::unique_ptr<Server> server_;
};

TEST_F(Sse, PublishedEventsArriveThroughTheHub) {
  start(30s);  // keep-alive far away: only the hub can wake the stream in time
  auto reader = std::async(std::launch::async, [&] {
    std::vector<SseEvent> got;
    Client client;
    auto status = client.read_events(
        url("phone1"), std::nullopt,
        [&](const SseEvent& e) {
          got.push_back(e);
          return got.size() < 3;
        },
        20s);
    EXPECT_TRUE(status) << status.error().message;
    return got;
  });
  ASSERT_TRUE(subscribed("phone1"));
  log_.publish("phone2", "wipe", "{}");  // another device: not delivered
  log_.publish("phone1", "registration_ready", R"({"application_id":"a1"})");
  std::this_thread::sleep_for(50ms);
  log_.publish("phone1", "suspended", R"({"serial":"0A"})");
  log_.publish("phone1", "wipe", "{\n\"multi\": \"line\"\n}");
  ASSERT_EQ(reader.wait_for(10s), std::future_status::ready);
  const auto got = reader.get();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].type, "registration_ready");
  EXPECT_EQ(got[0].data, R"({"application_id":"a1"})");
  EXPECT_EQ(got[0].id, 2);
  EXPECT_EQ(got[1].type, "suspended");
  EXPECT_EQ(got[2].data, "{\n\"multi\": \"line\"\n}");
  EXPECT_EQ(got[2].id, 4);
  // The reader left: the stream notices and unsubscribes.
  EXPECT_TRUE(subscribed("phone1", 0));
}

TEST_F(Sse, LastEventIdResumes) {
  start();
  for (int i = 1; i <= 5; ++i) log_.publish("p", "n", std::to_string(i));
  std::vector<std::string> got;
  Client client;
  auto status = client.read_events(
      url("p"), 3,
      [&](const SseEvent& e) {
        got.push_back(e.data);
        return got.size() < 2;
      },
      10s);
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(got, (std::vector<std::string>{"4", "5"}));
}

TEST_F(Sse, MaxWaitEndsAQuietStream) {
  start();
  Client client;
  int events = 0;
  const auto begin = std::chrono::steady_clock::now();
  auto status = client.read_events(
      url("quiet"), std::nullopt,
      [&](const SseEvent&) {
        ++events;
        return true;
      },
      300ms);
  EXPECT_TRUE(status);
  EXPECT_EQ(events, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 5s);
}

TEST_F(Sse, HeaderAndKeepAliveCommentsOnTheWire) {
  start(200ms);
  log_.publish("raw", "hello", "\"x\"");
  RawSocket s(server_->port());
  ASSERT_TRUE(s.send(
      "GET /v1/devices/raw/events HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n\r\n"));
  const auto wire = s.read_until(": keep-alive\n\n", 5s);
  EXPECT_EQ(wire.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << wire;
  EXPECT_NE(wire.find("Content-Type: text/event-stream\r\n"), std::string::npos);
  EXPECT_NE(wire.find("Cache-Control: no-store\r\n"), std::string::npos);
  EXPECT_NE(wire.find("\r\n\r\nid: 1\nevent: hello\ndata: \"x\"\n\n"), std::string::npos) << wire;
  EXPECT_NE(wire.find(": keep-alive\n\n"), std::string::npos) << wire;
  // Each keep-alive also re-fetches (catching anything a lost wake-up missed).
  const int before = log_.fetches();
  s.read_until(std::string(": keep-alive\n\n") + ": keep-alive\n\n", 5s);
  EXPECT_GT(log_.fetches(), before);
}

TEST_F(Sse, ServerStopEndsTheStream) {
  start();
  auto reader = std::async(std::launch::async, [&] {
    Client client;
    return client.read_events(
        url("s"), std::nullopt, [](const SseEvent&) { return true; }, 30s);
  });
  ASSERT_TRUE(subscribed("s"));
  const auto begin = std::chrono::steady_clock::now();
  server_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 4s);  // not the 5 s drain timeout
  ASSERT_EQ(reader.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(reader.get());
  EXPECT_EQ(hub_->subscribers("device:s"), 0u);
}

TEST_F(Sse, ErrorAnswersBecomeErrors) {
  start();
  Client client;
  auto status = client.read_events(
      url("unknown"), std::nullopt, [](const SseEvent&) { return true; }, 2s);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, Errc::not_found);
  EXPECT_EQ(status.error().message, "No such device.");
}

TEST_F(Sse, ManyStreamsOnOneTopicAllWake) {
  start();
  constexpr int kReaders = 8;
  std::vector<std::future<int>> readers;
  for (int i = 0; i < kReaders; ++i) {
    readers.push_back(std::async(std::launch::async, [&] {
      int n = 0;
      Client client;
      auto status = client.read_events(
          url("shared"), std::nullopt, [&](const SseEvent&) { return ++n < 2; }, 15s);
      EXPECT_TRUE(status);
      return n;
    }));
  }
  ASSERT_TRUE(subscribed("shared", kReaders));
  log_.publish("shared", "a", "1");
  log_.publish("shared", "b", "2");
  for (auto& r : readers) {
    ASSERT_EQ(r.wait_for(10s), std::future_status::ready);
    EXPECT_EQ(r.get(), 2);
  }
}

TEST(HubTest, NotifyAfterUnsubscribeDoesNotCall) {
  Hub hub;
  std::atomic<int> calls{0};
  {
    auto sub = hub.subscribe("t", [&] { ++calls; });
    hub.notify("t");
    hub.notify("other");
    EXPECT_EQ(hub.subscribers("t"), 1u);
    auto moved = std::move(sub);
    hub.notify("t");
  }
  hub.notify("t");
  EXPECT_EQ(calls.load(), 2);
  EXPECT_EQ(hub.subscribers("t"), 0u);
}

TEST(HubTest, ConcurrentSubscribersAndPublishers) {
  auto hub = std::make_shared<Hub>();
  std::atomic<bool> stop{false};
  std::atomic<long> calls{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      while (!stop) {
        auto sub = hub->subscribe("x", [&] { ++calls; });
        std::this_thread::yield();
      }
    });
  }
  for (int i = 0; i < 20000; ++i) hub->notify(i % 2 ? "x" : "y");
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(hub->subscribers("x"), 0u);
}

}  // namespace
}  // namespace smacert::http

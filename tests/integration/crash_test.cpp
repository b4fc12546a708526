// kill -9 during a stream of applications, then restart on the same data
// folder: every accepted application is issued exactly once (or still
// waiting, then issued when the window opens), a request whose answer was
// lost is settled by resending it with its Idempotency-Key, OCSP agrees with
// the store, no half-done device change is left, and the audit chain holds.
#include <atomic>
#include <chrono>
#include <thread>

#include "core/encoding.h"
#include "integration/support/actors.h"
#include "integration/support/server_process.h"
#include "integration/support/store_view.h"
#include "support/temp_dir.h"

namespace smacert::integration {
namespace {

using namespace std::chrono_literals;

template <class F>
bool eventually(F done, std::chrono::seconds limit = 20s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

struct Request {
  std::size_t holder;
  SoftPhone phone;
  nlohmann::json body;
  std::string key;  // Idempotency-Key
  enum { unsent, accepted, lost, refused } outcome = unsent;
  std::string application_id;
  std::string answer;
};

class Crash : public ::testing::Test {
 protected:
  static constexpr int kThreads = 4;
  static constexpr std::size_t kHolders = 16;

  // Makes the holders (new application, then device change, per holder),
  // streams them from kThreads threads and kills the server once half of
  // the expected answers came back.
  void stream_and_kill(ServerProcess& server) {
    Api api(server.url(), server.admin_token());
    for (std::size_t h = 0; h < kHolders; ++h) cards_.push_back(issue_card(api));
    std::atomic<int> answered{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        Api api(server.url(), server.admin_token());
        for (std::size_t h = static_cast<std::size_t>(t); h < kHolders; h += kThreads) {
          for (const char* kind : {"new", "device_change"}) {
            Request r;
            r.holder = h;
            r.phone = make_phone(2, 3, kind[0] == 'n' ? "crash-a" : "crash-b");
            ApplicationSpec spec;
            spec.kind = kind;
            // Not Api::challenge(): after the kill a failed call is expected here.
            auto ch = api.post("/v1/challenges", {{"purpose", "application"}});
            if (ch.status != 201) return;  // the server is gone
            spec.challenge = ch.json.value("nonce", "");
            r.body = application_body(cards_[h], r.phone, spec);
            r.key = "crash-" + r.phone.device_id;
            auto reply = apply_body(api, r.phone, r.body, r.key);
            r.answer = ::testing::PrintToString(reply);
            if (reply.status == 202) {
              r.outcome = Request::accepted;
              r.application_id = reply.json.value("application_id", "");
              ++answered;
            } else {
              r.outcome = reply.answered() ? Request::refused : Request::lost;
            }
            bool stop = r.outcome != Request::accepted;
            {
              std::lock_guard lock(mutex_);
              requests_.push_back(std::move(r));
            }
            if (stop) return;  // a lost "new" is settled before its device change
          }
        }
      });
    ASSERT_TRUE(eventually([&] { return answered.load() >= static_cast<int>(kHolders); }))
        << "the stream stalled: " << server.log();
    server.kill9();
    for (auto& t : threads) t.join();
    int accepted = 0, lost = 0;
    for (const auto& r : requests_) {
      accepted += r.outcome == Request::accepted ? 1 : 0;
      lost += r.outcome == Request::lost ? 1 : 0;
    }
    // The kill must have cut the stream, or this test proves nothing.
    EXPECT_LT(accepted, static_cast<int>(2 * kHolders)) << "the stream ended before the kill";
    std::printf("[ crash    ] %d accepted before kill -9, %d answers lost\n", accepted, lost);
  }

  // Resends every request whose answer was lost, with its Idempotency-Key.
  void settle_lost(ServerProcess& server) {
    Api api(server.url(), server.admin_token());
    for (auto& r : requests_) {
      ASSERT_NE(r.outcome, Request::refused) << r.answer;
      if (r.outcome != Request::lost) continue;
      SoftPhone p = r.phone;
      auto reply = apply_body(api, p, r.body, r.key);
      ASSERT_EQ(reply.status, 202) << "resending " << r.key << ": " << reply;
      r.outcome = Request::accepted;
      r.application_id = reply.json.value("application_id", "");
      ++settled_;
    }
  }

  // Every accepted application issued exactly once; OCSP agrees; invariants.
  void check_store(ServerProcess& server, TimePoint at) {
    Api api(server.url(), server.admin_token());
    StoreView v(server.store_url());
    auto sign_ca = api.ca_certificate("sign");
    auto auth_ca = api.ca_certificate("auth");
    std::set<std::string> accepted;
    for (const auto& r : requests_) {
      if (r.outcome != Request::accepted) continue;
      accepted.insert(r.application_id);
      auto app = v.application(r.application_id);
      ASSERT_TRUE(app) << "accepted application " << r.application_id << " was lost";
      EXPECT_EQ(app->status, "issued") << r.application_id;
      int certs = 0;
      for (const auto& c : v.certificates_of_device(r.phone.device_id))
        if (c.application_id == r.application_id) ++certs;
      EXPECT_EQ(certs, 2) << "application " << r.application_id << " must be issued exactly once";
    }
    std::map<std::string, int> issue_audits;
    for (const auto& e : v.audit())
      if (e.action == "certificate.issue") ++issue_audits[e.subject];
    for (std::size_t h = 0; h < kHolders; ++h) {
      std::set<std::string> active_devices;
      for (const auto& c : v.certificates_of_holder(cards_[h].holder_id)) {
        EXPECT_FALSE(c.der.empty()) << "serial " << c.serial << " reserved but never signed";
        EXPECT_EQ(issue_audits[c.serial], 1) << "issuance of " << c.serial << " audited once";
        if (active_phone_certificate(c)) active_devices.insert(c.device_id);
        if (!c.application_id.empty()) {
          EXPECT_TRUE(accepted.count(c.application_id))
              << "certificate for an application nobody was told about: " << c.application_id;
        }
        auto st = api.ocsp(c.ca, c.der, c.ca == "sign" ? sign_ca.get() : auth_ca.get(), at);
        ASSERT_TRUE(st) << st.error().message;
        bool good = std::holds_alternative<pki::Good>(*st);
        EXPECT_EQ(good, c.status == "active") << c.serial << " is " << c.status << " in the store";
      }
      EXPECT_LE(active_devices.size(), 1u) << "holder " << cards_[h].holder_id;
      // A device change is whole: the superseded phone is told to wipe once.
      for (const auto& r : requests_) {
        if (r.holder != h || r.outcome != Request::accepted) continue;
        int wipes = 0;
        for (const auto& e : v.events(r.phone.device_id)) wipes += e.type == "wipe" ? 1 : 0;
        bool superseded = !active_devices.count(r.phone.device_id);
        EXPECT_EQ(wipes, superseded ? 1 : 0) << r.phone.device_id;
      }
    }
    EXPECT_TRUE(v.verify_audit_chain());
  }

  std::vector<SoftCard> cards_;
  std::mutex mutex_;
  std::vector<Request> requests_;
  int settled_ = 0;
};

TEST_F(Crash, Kill9DuringAStreamOfApplicationsLosesNothing) {
  smacert::testing::TempDir dir("it-crash");
  ServerProcess server(dir.path() / "data");
  ASSERT_TRUE(server.start());
  stream_and_kill(server);
  ASSERT_TRUE(server.start()) << "restart on the same data folder";
  settle_lost(server);
  check_store(server, std::chrono::system_clock::now());
  EXPECT_EQ(server.terminate(), 0);
}

// The window is closed (it opens three hours after the real now, Japan
// time), so accepted applications wait; they survive the crash and are
// issued when the test clock reaches the opening.
TEST_F(Crash, WaitingApplicationsSurviveKill9AndAreIssuedWhenTheWindowOpens) {
  long long now = to_unix(std::chrono::system_clock::now());
  long long jst_minutes = ((now + 9 * 3600) % 86400) / 60;
  auto hhmm = [](long long m) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02lld:%02lld", (m / 60) % 24, m % 60);
    return std::string(buf);
  };
  long long open = (jst_minutes + 180) % 1440, close = (jst_minutes + 360) % 1440;
  smacert::testing::TempDir dir("it-crash-wait");
  ServerOptions o;
  o.test_clock = true;
  o.config_toml = "[issuance]\nwindow = \"" + hhmm(open) + "-" + hhmm(close) + "\"\n";
  ServerProcess server(dir.path() / "data", o);
  ASSERT_TRUE(server.start());
  stream_and_kill(server);
  ASSERT_TRUE(server.start());
  settle_lost(server);
  {
    StoreView v(server.store_url());
    for (const auto& r : requests_) {
      auto app = v.application(r.application_id);
      ASSERT_TRUE(app) << r.application_id;
      EXPECT_EQ(app->status, "waiting");
      EXPECT_TRUE(v.certificates_of_device(r.phone.device_id).empty());
    }
  }
  Api api(server.url(), server.admin_token());
  long long to_open = ((open - jst_minutes + 1440) % 1440) * 60 + 60;
  TimePoint opened = api.advance_clock(to_open);
  ASSERT_TRUE(eventually([&] {
    StoreView v(server.store_url());
    for (const auto& r : requests_) {
      auto app = v.application(r.application_id);
      if (!app || app->status != "issued") return false;
    }
    return true;
  })) << server.log();
  check_store(server, opened);
  EXPECT_EQ(server.terminate(), 0);
}

}  // namespace
}  // namespace smacert::integration

// Two `smacert serve` processes on one PostgreSQL database (docs/scale-out.md):
// device changes of one holder sent at the same moment to different nodes
// keep the one-phone invariant (the holder row lock), every superseded phone
// gets exactly one wipe event, both nodes' OCSP answers agree with the store
// within a second, and a phone's push stream on one node hears about a
// device change committed by the other (LISTEN/NOTIFY → StoreFollower).
// Registered only in the pg: run of the integration tests.
#include <atomic>
#include <latch>
#include <sstream>
#include <thread>

#include "http/client.h"
#include "integration/support/actors.h"
#include "integration/support/api.h"
#include "integration/support/server_process.h"
#include "integration/support/store_view.h"
#include "support/temp_dir.h"

namespace smacert::integration {
namespace {

using SteadyClock = std::chrono::steady_clock;

class TwoNodes : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(test_pg_conninfo().empty()) << "runs on PostgreSQL only (SMACERT_TEST_PG)";
    ServerOptions a;
    a.test_clock = true;
    node_a_ = std::make_unique<ServerProcess>(dir_.path() / "a", a);
    ASSERT_TRUE(node_a_->start());
    // The same CA keys, push key and admin token (one template), and the
    // same database.
    ServerOptions b = a;
    b.store_url = node_a_->store_url();
    node_b_ = std::make_unique<ServerProcess>(dir_.path() / "b", b);
    ASSERT_TRUE(node_b_->start());
    api_a_ = std::make_unique<Api>(node_a_->url(), node_a_->admin_token());
    api_b_ = std::make_unique<Api>(node_b_->url(), node_b_->admin_token());
  }
  void TearDown() override {
    for (auto* n : {node_a_.get(), node_b_.get()}) {
      if (n && n->running()) {
        EXPECT_EQ(n->terminate(), 0) << n->log();
      }
    }
  }

  smacert::testing::TempDir dir_{"it-two-nodes"};
  std::unique_ptr<ServerProcess> node_a_, node_b_;
  std::unique_ptr<Api> api_a_, api_b_;
};

struct Holder {
  SoftCard card;
  std::vector<SoftPhone> phones;  // 0: the old phone; 1 and 2 race
  std::vector<std::string> failures;
};

TEST_F(TwoNodes, RacingDeviceChangesOnTwoNodesKeepOnePhoneAndOcspAgrees) {
  constexpr int kHolders = 6;
  std::vector<Holder> holders(kHolders);
  for (auto& h : holders) {
    h.card = issue_card(*api_a_);
    ASSERT_FALSE(h.card.sign_serial.empty());
    for (int p = 0; p < 3; ++p) h.phones.push_back(make_phone(2 + 2 * p, 3 + 2 * p, "tn"));
    auto first = apply(*api_b_, h.card, h.phones[0]);
    ASSERT_EQ(first.status, 202) << first;
  }

  // A watcher reads the store throughout the race.
  std::atomic<bool> done{false};
  std::vector<std::string> violations;
  std::thread watcher([&] {
    while (!done) {
      for (auto& v : two_phone_violations(phone_certificate_snapshot(node_a_->store_url())))
        if (violations.size() < 10) violations.push_back(std::move(v));
    }
  });

  // Phone 1 applies at node A and phone 2 at node B, at the same moment.
  std::vector<nlohmann::json> bodies[2];
  for (auto& h : holders)
    for (int i = 0; i < 2; ++i) {
      Api& api = i == 0 ? *api_a_ : *api_b_;
      bodies[i].push_back(application_body(h.card, h.phones[1 + i],
                                           application_spec("device_change", api.challenge())));
    }
  std::latch go(2 * kHolders);
  std::vector<std::thread> senders;
  std::mutex mutex;
  for (int k = 0; k < kHolders; ++k)
    for (int i = 0; i < 2; ++i)
      senders.emplace_back([&, k, i] {
        const ServerProcess& node = i == 0 ? *node_a_ : *node_b_;
        Api api(node.url(), node.admin_token());
        SoftPhone phone = holders[k].phones[1 + i];
        api.get("/healthz");  // connected before the start line
        go.arrive_and_wait();
        Reply r = apply_body(api, phone, bodies[i][k]);
        std::lock_guard lock(mutex);
        if (r.status == 202) {
          holders[k].phones[1 + i] = phone;
        } else {
          std::ostringstream o;
          o << "phone " << 1 + i << " at node " << (i == 0 ? "A" : "B") << ": " << r;
          holders[k].failures.push_back(o.str());
        }
      });
  for (auto& t : senders) t.join();
  done = true;
  watcher.join();
  EXPECT_TRUE(violations.empty()) << violations.front();

  // Both nodes answer OCSP as the store says, within a second of the race.
  auto sign_ca = api_a_->ca_certificate("sign");
  auto auth_ca = api_a_->ca_certificate("auth");
  const auto deadline = SteadyClock::now() + std::chrono::seconds(1);
  StoreView view(node_a_->store_url());
  for (auto& h : holders) {
    SCOPED_TRACE("holder " + h.card.holder_id);
    for (const auto& f : h.failures) ADD_FAILURE() << f;  // both are accepted, one after the other
    int active_phones = 0;
    for (const auto& phone : h.phones) {
      bool active = false, superseded = false;
      for (const auto& c : view.certificates_of_device(phone.device_id)) {
        active = active || active_phone_certificate(c);
        superseded = superseded || c.status == "revoked";
        for (Api* api : {api_a_.get(), api_b_.get()}) {
          bool agrees = false;
          std::string last;
          do {
            auto st = api->ocsp(c.ca, c.der, c.ca == "sign" ? sign_ca.get() : auth_ca.get(),
                                api->advance_clock(0));
            ASSERT_TRUE(st) << st.error().message;
            agrees = c.status == "active" ? std::holds_alternative<pki::Good>(*st)
                                          : std::holds_alternative<pki::Revoked>(*st);
            last = std::holds_alternative<pki::Good>(*st) ? "good" : "revoked";
            if (!agrees) std::this_thread::sleep_for(std::chrono::milliseconds(50));
          } while (!agrees && SteadyClock::now() < deadline);
          EXPECT_TRUE(agrees) << api->base_url() << " says " << last << " for " << c.serial
                              << ", the store says " << c.status;
        }
      }
      active_phones += active ? 1 : 0;
      int wipes = 0;
      for (const auto& e : view.events(phone.device_id)) wipes += e.type == "wipe" ? 1 : 0;
      if (active) {
        EXPECT_EQ(wipes, 0) << "the phone in use was told to wipe";
      } else if (superseded) {
        EXPECT_EQ(wipes, 1) << "phone " << phone.device_id << " must get exactly one wipe event";
      }
    }
    EXPECT_EQ(active_phones, 1);
  }
  EXPECT_TRUE(view.verify_audit_chain());
}

TEST_F(TwoNodes, PushStreamOnOneNodeHearsADeviceChangeCommittedByTheOther) {
  SoftCard card = issue_card(*api_a_);
  SoftPhone old_phone = make_phone(2, 3, "tn-old");
  SoftPhone new_phone = make_phone(4, 5, "tn-new");
  ASSERT_EQ(apply(*api_a_, card, old_phone).status, 202);

  // The old phone listens at node B …
  std::atomic<bool> listening{false};
  std::atomic<bool> wiped{false};
  Status streamed;
  std::thread stream([&] {
    http::Client client;
    listening = true;
    streamed = client.read_events(
        node_b_->url() + "/v1/devices/" + old_phone.device_id + "/events", std::nullopt,
        [&](const http::SseEvent& e) {
          if (e.type != "wipe") return true;
          wiped = true;
          return false;
        },
        std::chrono::seconds(10), {{"Authorization", "Bearer " + old_phone.token}});
  });
  while (!listening) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the stream is open
  // … while the new phone's device change is committed by node A.
  auto changed = apply(*api_a_, card, new_phone, application_spec("device_change"));
  ASSERT_EQ(changed.status, 202) << changed;
  const auto sent = SteadyClock::now();
  stream.join();
  EXPECT_TRUE(streamed) << streamed.error().message;
  EXPECT_TRUE(wiped) << "node B never pushed the wipe committed by node A";
  EXPECT_LT(SteadyClock::now() - sent, std::chrono::seconds(5));
}

}  // namespace
}  // namespace smacert::integration

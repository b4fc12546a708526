// The one-phone invariant under concurrency (spec/system.md): many holders at
// once, each with two or three phones whose applications interleave and
// sometimes arrive at the same moment. A watcher reads the store throughout
// and never sees two phones of one holder with active certificates; at the
// end every superseded phone has exactly one wipe event and the OCSP
// responder says revoked (superseded) for old serials and good for new ones.
#include <atomic>
#include <latch>
#include <sstream>
#include <thread>

#include "core/encoding.h"
#include "integration/support/live_server.h"

namespace smacert::integration {
namespace {

class DeviceChangeConcurrency : public LiveServerTest {};

struct Attempt {
  int phone;         // index into the round's phones
  std::string kind;  // "new" | "device_change"
};

// One holder's history: steps run one after another; the attempts of a step
// are sent at the same moment.
struct Round {
  SoftCard card;
  std::vector<SoftPhone> phones;
  std::vector<std::vector<Attempt>> steps;
  std::vector<std::string> accepted;  // application ids, in no particular order
  std::vector<std::string> failures;  // unexpected answers
};

void run_step(const std::string& url, const std::string& token, Round& round,
              const std::vector<Attempt>& step, std::mutex& mutex) {
  // Everything is prepared (challenge fetched, card signature made) first, so
  // that the requests leave together.
  std::vector<nlohmann::json> bodies;
  {
    Api api(url, token);
    for (const auto& a : step) {
      ApplicationSpec spec;
      spec.kind = a.kind;
      spec.challenge = api.challenge();
      bodies.push_back(application_body(round.card, round.phones[a.phone], spec));
    }
  }
  std::latch go(static_cast<std::ptrdiff_t>(step.size()));
  std::vector<std::thread> threads;
  std::vector<SoftPhone> results(step.size());
  std::vector<Reply> replies(step.size());
  for (std::size_t i = 0; i < step.size(); ++i)
    threads.emplace_back([&, i] {
      Api api(url, token);
      results[i] = round.phones[step[i].phone];
      api.get("/healthz");  // connect before the start line
      go.arrive_and_wait();
      replies[i] = apply_body(api, results[i], bodies[i]);
    });
  for (auto& t : threads) t.join();
  std::lock_guard lock(mutex);
  for (std::size_t i = 0; i < step.size(); ++i) {
    const auto& r = replies[i];
    if (r.status == 202) {
      round.phones[step[i].phone] = results[i];
      round.accepted.push_back(r.json.value("application_id", ""));
      if (r.json.value("status", "") != "issued")
        round.failures.push_back("accepted but " + r.json.value("status", ""));
    } else if (r.status != 409) {
      // 409: another phone is active (new) or this phone was superseded.
      std::ostringstream o;
      o << step[i].kind << " from phone " << step[i].phone << ": " << r;
      round.failures.push_back(o.str());
    }
  }
}

TEST_F(DeviceChangeConcurrency, NeverTwoActivePhonesOneWipePerOldPhoneOcspAgrees) {
  // A = 0, B = 1, C = 2.
  const std::vector<std::vector<std::vector<Attempt>>> histories{
      {{{0, "new"}}, {{1, "device_change"}, {2, "device_change"}}},
      {{{0, "new"}, {1, "new"}},
       {{2, "device_change"}, {0, "device_change"}, {1, "device_change"}}},
      {{{0, "new"}}, {{0, "device_change"}, {1, "device_change"}, {2, "device_change"}}},
      {{{0, "new"}}, {{1, "device_change"}}, {{2, "device_change"}, {0, "device_change"}}},
      {{{0, "new"}, {1, "device_change"}}, {{1, "device_change"}, {0, "device_change"}}},
      {{{0, "new"}}, {{1, "device_change"}}, {{0, "device_change"}}},
  };
  std::vector<Round> rounds(histories.size() * 2);
  for (std::size_t i = 0; i < rounds.size(); ++i) {
    rounds[i].card = issue_card(api());
    ASSERT_FALSE(rounds[i].card.sign_serial.empty());
    for (int p = 0; p < 3; ++p) rounds[i].phones.push_back(make_phone(2 + 2 * p, 3 + 2 * p, "dc"));
    rounds[i].steps = histories[i % histories.size()];
  }

  // The watcher: one consistent read of the store after another.
  std::atomic<bool> done{false};
  std::atomic<int> snapshots{0};
  std::vector<std::string> violations;
  std::thread watcher([&] {
    while (!done) {
      auto map = phone_certificate_snapshot(server().store_url());
      ++snapshots;
      for (auto& v : two_phone_violations(map))
        if (violations.size() < 10) violations.push_back(std::move(v));
    }
  });

  std::mutex mutex;
  std::vector<std::thread> holders;
  const std::string url = server().url(), token = server().admin_token();
  for (auto& round : rounds)
    holders.emplace_back([&, r = &round] {
      for (const auto& step : r->steps) run_step(url, token, *r, step, mutex);
    });
  for (auto& t : holders) t.join();
  done = true;
  watcher.join();
  EXPECT_TRUE(violations.empty()) << violations.front();
  EXPECT_GT(snapshots.load(), 1);

  auto sign_ca = api().ca_certificate("sign");
  auto auth_ca = api().ca_certificate("auth");
  TimePoint now = api().advance_clock(0);
  auto view_ = view();
  for (const auto& round : rounds) {
    SCOPED_TRACE("holder " + round.card.holder_id);
    for (const auto& f : round.failures) ADD_FAILURE() << f;
    EXPECT_FALSE(round.accepted.empty());
    for (const auto& id : round.accepted) EXPECT_EQ(view_.application(id)->status, "issued");

    int active_phones = 0;
    for (const auto& phone : round.phones) {
      auto certs = view_.certificates_of_device(phone.device_id);
      bool active = false, superseded = false;
      for (const auto& c : certs) {
        active = active || active_phone_certificate(c);
        if (c.status == "revoked") {
          EXPECT_EQ(c.revocation_reason, static_cast<int>(pki::RevocationReason::superseded));
          superseded = true;
        }
        auto st = api().ocsp(c.ca, c.der, c.ca == "sign" ? sign_ca.get() : auth_ca.get(), now);
        ASSERT_TRUE(st) << st.error().message;
        if (c.status == "active") {
          EXPECT_TRUE(std::holds_alternative<pki::Good>(*st)) << c.serial;
        } else {
          auto* rv = std::get_if<pki::Revoked>(&*st);
          ASSERT_NE(rv, nullptr) << c.serial << " is " << c.status << " in the store";
          EXPECT_EQ(rv->reason, pki::RevocationReason::superseded);
        }
      }
      active_phones += active ? 1 : 0;
      int wipes = 0;
      for (const auto& e : view_.events(phone.device_id)) wipes += e.type == "wipe" ? 1 : 0;
      auto device = view_.device(phone.device_id);
      if (active) {
        EXPECT_EQ(wipes, 0) << "the phone in use was told to wipe";
        EXPECT_EQ(device->status, "active");
      } else if (superseded || (device && device->status != "active")) {
        EXPECT_EQ(wipes, 1) << "phone " << phone.device_id << " must get exactly one wipe event";
        EXPECT_EQ(device->status, "wipe_pending");
      } else {
        EXPECT_EQ(wipes, 0);
      }
    }
    EXPECT_EQ(active_phones, 1);
  }
  EXPECT_TRUE(view_.verify_audit_chain());
}

}  // namespace
}  // namespace smacert::integration

// Operating hours (issuance.window = "07:00-19:30", Japan time): an
// application at 19:45 is accepted at once but issued at 07:00 the next
// morning, by the server's own background work once its clock gets there.
#include <chrono>
#include <thread>

#include "core/encoding.h"
#include "integration/support/actors.h"
#include "integration/support/server_process.h"
#include "integration/support/store_view.h"
#include "support/temp_dir.h"

namespace smacert::integration {
namespace {

// 19:45 JST (10:45Z) of the day after the real today, so that the clock
// never goes before the CA certificates were made.
TimePoint evening_after_today() {
  long long now = to_unix(std::chrono::system_clock::now());
  long long day = (now / 86400 + 1) * 86400;
  return from_unix(day + 10 * 3600 + 45 * 60);
}

// Polls (bounded) until `done` holds.
template <class F>
bool eventually(F done, std::chrono::seconds limit = std::chrono::seconds(15)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

TEST(OperatingHours, ApplicationAt1945IsIssuedAt0700NextDay) {
  smacert::testing::TempDir dir("it-window");
  ServerOptions o;
  o.test_clock = true;
  o.config_toml = "[issuance]\nwindow = \"07:00-19:30\"\n";
  ServerProcess server(dir.path() / "data", o);
  ASSERT_TRUE(server.start());
  Api api(server.url(), server.admin_token());

  TimePoint evening = evening_after_today();
  ASSERT_EQ(api.set_clock(to_rfc3339(evening)), evening);
  auto card = issue_card(api);  // the counter is not bound by the window
  auto phone = make_phone(2, 3);
  auto a = apply(api, card, phone);
  ASSERT_EQ(a.status, 202) << a;
  EXPECT_EQ(a.json.value("status", ""), "waiting");
  const TimePoint seven = evening + std::chrono::hours(11) + std::chrono::minutes(15);
  EXPECT_EQ(a.json.value("ready_at", ""), to_rfc3339(seven)) << "07:00 JST is 22:00Z";

  // Nothing issued yet: no phone certificate, no push event.
  {
    StoreView v(server.store_url());
    EXPECT_TRUE(v.certificates_of_device(phone.device_id).empty());
    EXPECT_TRUE(v.events(phone.device_id).empty());
    EXPECT_EQ(v.application(phone.application_id)->status, "waiting");
  }
  auto g = api.get("/v1/applications/" + phone.application_id, phone.token);
  ASSERT_EQ(g.status, 200) << g;
  EXPECT_EQ(g.json.value("status", ""), "waiting");
  EXPECT_TRUE(g.json["certificates"].empty());

  // 06:59:59: still closed. A second holder applying now waits too.
  api.set_clock(to_rfc3339(seven - std::chrono::seconds(1)));
  auto card2 = issue_card(api, 0, 1);
  auto phone2 = make_phone(4, 5);
  auto early = apply(api, card2, phone2);
  ASSERT_EQ(early.status, 202) << early;
  EXPECT_EQ(early.json.value("status", ""), "waiting");
  EXPECT_EQ(StoreView(server.store_url()).application(phone.application_id)->status, "waiting");

  // 07:00: the window opens and the server issues both, oldest first.
  api.set_clock(to_rfc3339(seven));
  ASSERT_TRUE(eventually([&] {
    StoreView v(server.store_url());
    return v.application(phone.application_id)->status == "issued" &&
           v.application(phone2.application_id)->status == "issued";
  })) << server.log();
  StoreView v(server.store_url());
  auto app = v.application(phone.application_id);
  EXPECT_EQ(app->ready_at, to_unix(seven));
  auto certs = v.certificates_of_device(phone.device_id);
  ASSERT_EQ(certs.size(), 2u);
  for (const auto& c : certs) {
    EXPECT_EQ(c.status, "active");
    EXPECT_GE(c.issued_at, to_unix(seven));
    auto issuer = api.ca_certificate(c.ca);
    auto st = api.ocsp(c.ca, c.der, issuer.get(), seven);
    ASSERT_TRUE(st) << st.error().message;
    EXPECT_TRUE(std::holds_alternative<pki::Good>(*st));
  }
  auto events = v.events(phone.device_id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "registration_ready");
  EXPECT_EQ(register_phone(api, phone).status, 200);

  // Inside the window an application is issued at once.
  api.set_clock(to_rfc3339(seven + std::chrono::hours(12) + std::chrono::minutes(29)));  // 19:29
  auto card3 = issue_card(api);
  auto phone3 = make_phone(6, 7);
  auto day = apply(api, card3, phone3);
  ASSERT_EQ(day.status, 202) << day;
  EXPECT_EQ(day.json.value("status", ""), "issued");
  EXPECT_TRUE(v.verify_audit_chain());
  EXPECT_EQ(server.terminate(), 0);
}

// Two first applications ("new", no consent to revoke) from two phones of one
// holder, both accepted while the window is closed: at the opening the first
// is issued and the second refused ("rejected"), since only a device change
// the holder consented to may revoke another phone.
TEST(OperatingHours, TwoWaitingFirstApplicationsDoNotRevokeWithoutConsent) {
  smacert::testing::TempDir dir("it-window-new");
  ServerOptions o;
  o.test_clock = true;
  o.config_toml = "[issuance]\nwindow = \"07:00-19:30\"\n";
  ServerProcess server(dir.path() / "data", o);
  ASSERT_TRUE(server.start());
  Api api(server.url(), server.admin_token());
  TimePoint evening = evening_after_today();
  api.set_clock(to_rfc3339(evening));
  auto card = issue_card(api);
  auto first = make_phone(2, 3, "first");
  auto second = make_phone(4, 5, "second");
  auto a = apply(api, card, first);
  ASSERT_EQ(a.status, 202) << a;
  auto b = apply(api, card, second);
  ASSERT_EQ(b.status, 202) << b;  // accepted: no phone has certificates yet
  EXPECT_EQ(b.json.value("status", ""), "waiting");

  api.set_clock(to_rfc3339(evening + std::chrono::hours(11) + std::chrono::minutes(15)));
  ASSERT_TRUE(eventually([&] {
    StoreView v(server.store_url());
    return v.application(first.application_id)->status != "waiting" &&
           v.application(second.application_id)->status != "waiting";
  })) << server.log();
  StoreView v(server.store_url());
  EXPECT_EQ(v.application(first.application_id)->status, "issued");
  for (const auto& c : v.certificates_of_device(first.device_id))
    EXPECT_EQ(c.status, "active") << "the first phone was revoked by an application whose card "
                                     "did not consent to revoking it";
  int wipes = 0;
  for (const auto& e : v.events(first.device_id)) wipes += e.type == "wipe" ? 1 : 0;
  EXPECT_EQ(wipes, 0);
  EXPECT_EQ(v.application(second.application_id)->status, "rejected");
  int active_phones = 0;
  for (const auto* p : {&first, &second}) {
    bool active = false;
    for (const auto& c : v.certificates_of_device(p->device_id))
      active = active || active_phone_certificate(c);
    active_phones += active ? 1 : 0;
  }
  EXPECT_EQ(active_phones, 1);
  EXPECT_EQ(server.terminate(), 0);
}

}  // namespace
}  // namespace smacert::integration

// Sessions are sealed tokens (HMAC-SHA256 under the session key): any node
// with the key accepts them, a node with another key or a changed byte does
// not, and a session ends with its phone's authentication certificate.
#include "service_fixture.h"

namespace smacert::service::testing {
namespace {

class Sessions : public ServiceFixture {
 protected:
  // A registered phone of a new holder, logged in.
  Session log_in() {
    card_ = issue_card();
    phone_ = new_phone("phone-s1");
    apply_and_register(card_, phone_, "new");
    for (auto& c : certs_of(phone_.device_id))
      if (c.kind == "phone_auth") auth_ = c;
    auto nonce = service_->new_challenge("session", "");
    auto s = service_->login(
        {auth_.der, nonce->nonce,
         sign(phone_.auth_key.get(), protocol::login_bytes("smacert", nonce->nonce))});
    EXPECT_TRUE(s) << (s ? "" : s.error().message);
    return s ? *s : Session{};
  }

  SoftCard card_;
  SoftPhone phone_;
  store::CertificateRecord auth_;
};

TEST_F(Sessions, ANodeWithTheSameKeyAcceptsTheTokenAndNoOtherDoes) {
  ServiceConfig shared;
  shared.session_key = Bytes(32, 0x5a);
  start(shared);
  const Session s = log_in();
  ASSERT_FALSE(s.token.empty());
  EXPECT_EQ(s.token.rfind("s1.", 0), 0u);

  // "Another node": a new Service on the same store with the same key.
  start(shared);
  auto again = service_->session(s.token);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->holder_id, s.holder_id);
  EXPECT_EQ(again->device_id, phone_.device_id);
  EXPECT_EQ(again->serial, auth_.serial);

  // A node with another key: no session.
  ServiceConfig other;
  other.session_key = Bytes(32, 0x33);
  start(other);
  auto refused = service_->session(s.token);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::unauthorized);
}

TEST_F(Sessions, AChangedOrMalformedTokenIsRefused) {
  const Session s = log_in();
  std::vector<std::string> bad = {"",
                                  "s1.",
                                  "s1..",
                                  "s2." + s.token.substr(3),
                                  s.token + "A",
                                  std::string(5000, 'a'),
                                  s.token.substr(0, 20)};
  for (std::size_t i = 3; i < s.token.size(); i += 7) {
    std::string t = s.token;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    bad.push_back(t);
  }
  for (const auto& t : bad) {
    auto r = service_->session(t);
    ASSERT_FALSE(r) << t;
    EXPECT_EQ(r.error().code, Errc::unauthorized) << t;
  }
  EXPECT_TRUE(service_->session(s.token));
}

TEST_F(Sessions, ASessionEndsWhenItExpiresOrItsCertificateIsRevoked) {
  ServiceConfig config;
  config.session_ttl = Seconds(600);
  start(config);
  const Session s = log_in();
  ASSERT_TRUE(service_->session(s.token));
  clock_.advance(Seconds(601));
  EXPECT_FALSE(service_->session(s.token));
  clock_.advance(Seconds(-601));
  ASSERT_TRUE(service_->session(s.token));

  auto revoked = service_->revoke_by_holder(s, auth_.serial);
  ASSERT_TRUE(revoked) << revoked.error().message;
  auto ended = service_->session(s.token);
  ASSERT_FALSE(ended);
  EXPECT_EQ(ended.error().code, Errc::unauthorized);
}

}  // namespace
}  // namespace smacert::service::testing

// Re-signing the pre-signed OCSP answers as their nextUpdate nears
// (Service::refresh_ocsp): the store keeps what the responder serves, in few
// transactions, and an answer the store contradicts is never written.
#include "service_fixture.h"

namespace smacert::service::testing {
namespace {

class OcspRefreshTest : public ServiceFixture {
 protected:
  // serial → ocsp_next_update as stored
  std::map<std::string, long long> next_updates() {
    auto tx = store_->begin();
    EXPECT_TRUE(tx);
    std::map<std::string, long long> out;
    auto rows = (*tx)->ocsp_responses_expiring(std::numeric_limits<long long>::max(), 100000);
    EXPECT_TRUE(rows);
    for (const auto& c : *rows) out[c.serial] = c.ocsp_next_update;
    return out;
  }
  std::shared_ptr<const pki::OcspEntry> served(const std::string& ca, const std::string& serial) {
    return responder_->find(*pki::parse_ca_kind(ca), *pki::serial_bytes(serial));
  }
};

TEST_F(OcspRefreshTest, ReSignedAnswersAreStoredInOneTransactionPerBatch) {
  for (int i = 0; i < 3; ++i) issue_card();
  auto before = next_updates();
  ASSERT_EQ(before.size(), 6u);
  EXPECT_EQ(*service_->refresh_ocsp(), 0u) << "nothing is due yet";

  clock_.advance(std::chrono::hours(13));  // past half of the 24 h validity
  const auto commits = store_->write_stats().commits;
  auto refreshed = service_->refresh_ocsp();
  ASSERT_TRUE(refreshed) << refreshed.error().message;
  EXPECT_EQ(*refreshed, 6u);
  EXPECT_EQ(store_->write_stats().commits, commits + 1) << "six answers, one COMMIT";
  auto after = next_updates();
  ASSERT_EQ(after.size(), 6u);
  for (const auto& [serial, next] : after) {
    EXPECT_EQ(next, before[serial] + 13 * 3600) << serial;
    auto tx = store_->begin();
    auto stored = *(*tx)->find_certificate(serial);
    EXPECT_EQ(stored->ocsp_response, served(stored->ca, serial)->response)
        << "the store holds what the responder serves";
  }
}

// Another node (here: a write straight to the store) revoked a certificate
// after this node's memory last heard of it: the refresh must not write a
// "good" answer over the store's revocation, and the responder takes the
// store's answer.
TEST_F(OcspRefreshTest, TheStoresRevocationWinsOverAStaleGoodAnswer) {
  auto card = issue_card();
  const std::string serial = card.sign_serial();
  {
    auto tx = store_->begin();
    auto rec = *(*tx)->find_certificate(serial);
    auto answer =
        responder_->sign_entry(pki::CaKind::sign, *pki::serial_bytes(serial),
                               pki::Revoked{clock_.now(), pki::RevocationReason::key_compromise});
    ASSERT_TRUE(answer);
    ASSERT_TRUE((*tx)->set_certificate_status(serial, "active", "revoked", 1, to_unix(clock_.now()),
                                              (*answer)->response,
                                              to_unix((*answer)->next_update)));
    ASSERT_TRUE((*tx)->commit());
  }
  EXPECT_FALSE(std::holds_alternative<pki::Revoked>(served("sign", serial)->status))
      << "this node has not heard of it yet";
  clock_.advance(std::chrono::hours(13));
  ASSERT_TRUE(service_->refresh_ocsp());
  auto tx = store_->begin();
  auto stored = *(*tx)->find_certificate(serial);
  EXPECT_EQ(stored->status, "revoked");
  auto answer = served("sign", serial);
  EXPECT_TRUE(std::holds_alternative<pki::Revoked>(answer->status));
  EXPECT_EQ(answer->response, stored->ocsp_response);
}

}  // namespace
}  // namespace smacert::service::testing

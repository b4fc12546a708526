// The seed's flow in process: counter → first application → registration →
// device change → old phone wiped, with the invariants of spec/system.md.
#include <set>
#include <thread>

#include "service_fixture.h"
#include "store/store.h"

namespace smacert::service::testing {
namespace {

using pki::RevocationReason;

TEST_F(ServiceFixture, CounterIssuesBothCardCertificatesWithGoodOcsp) {
  auto card = issue_card();
  ASSERT_EQ(card.issued.certificates.size(), 2u);
  auto tx = store_->begin();
  auto certs = *(*tx)->certificates_of_holder(card.issued.holder_id);
  ASSERT_EQ(certs.size(), 2u);
  for (auto& c : certs) {
    EXPECT_EQ(c.status, "active");
    EXPECT_TRUE(std::holds_alternative<pki::Good>(ocsp_status(c)));
    // Valid until the 5th birthday after issuance, 23:59:59 JST.
    EXPECT_EQ(to_rfc3339(from_unix(c.not_after)), "2031-01-01T14:59:59Z");
  }
  tx->reset();
  EXPECT_TRUE(store::verify_audit_chain(*store_));
}

TEST_F(ServiceFixture, NoSignatureCertificateUnder15) {
  SoftCard card{rsa(), rsa(), {}};
  auto r = service_->issue_card({"見本　太郎", "東京都千代田区霞が関", "2015-01-01", 1,
                                 csr_for(card.sign_key.get()), csr_for(card.auth_key.get())});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::policy);
  auto auth_only = service_->issue_card(
      {"見本　太郎", "東京都千代田区霞が関", "2015-01-01", 1, {}, csr_for(card.auth_key.get())});
  EXPECT_TRUE(auth_only) << auth_only.error().message;
}

TEST_F(ServiceFixture, FirstApplicationIssuesRegistersAndLogsIn) {
  auto card = issue_card();
  auto phone = new_phone("old-phone-1");
  apply_and_register(card, phone, "new");
  auto certs = certs_of(phone.device_id);
  ASSERT_EQ(certs.size(), 2u);
  for (auto& c : certs) {
    EXPECT_EQ(c.status, "active");
    // Never outlives the card certificate of the same kind.
    EXPECT_LE(c.not_after, to_unix(card.issued.certificates[0].not_after));
  }
  auto ev = events_of(phone);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, "registration_ready");
  // The event is signed by the service's push key.
  auto payload = nlohmann::json::parse(ev[0].payload);
  auto pub = pki::parse_public_key_der(events_->public_key_der());
  EXPECT_TRUE(
      pki::verify_sha256_signature(pub->get(),
                                   protocol::event_bytes(phone.device_id, "registration_ready",
                                                         payload["data"].get<std::string>()),
                                   *base64_decode(payload["signature"].get<std::string>())));

  // Operation check: login with the phone auth key.
  auto nonce = service_->new_challenge("session", "");
  const auto& auth = certs[0].kind == "phone_auth" ? certs[0] : certs[1];
  auto session =
      service_->login({auth.der, nonce->nonce,
                       sign(phone.auth_key.get(), protocol::login_bytes("smacert", nonce->nonce))});
  ASSERT_TRUE(session) << session.error().message;
  auto page = service_->my_page(*session);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->certificates.size(), 2u);
  EXPECT_TRUE(page->certificates[0].registered);
  // The nonce is single use.
  EXPECT_FALSE(service_->login(
      {auth.der, nonce->nonce,
       sign(phone.auth_key.get(), protocol::login_bytes("smacert", nonce->nonce))}));
}

TEST_F(ServiceFixture, DeviceChangeRevokesTheOldPhoneInTheSameTransactionAndWipesItOnce) {
  auto card = issue_card();
  auto old_phone = new_phone("old-phone-1");
  apply_and_register(card, old_phone, "new");
  auto old_certs = certs_of(old_phone.device_id);

  // The first application's two certificates were signed before its write
  // transaction and taken by it.
  EXPECT_EQ(service_->stats().signed_ahead_used.load(), 2u);
  auto new_phone_ = new_phone("new-phone-1");
  apply_and_register(card, new_phone_, "device_change");
  // The device change: two certificates and the two OCSP answers revoking
  // the old phone, all signed ahead, none dropped.
  EXPECT_EQ(service_->stats().signed_ahead_used.load(), 6u);
  EXPECT_EQ(service_->stats().signed_ahead_dropped.load(), 0u);

  for (auto& c : certs_of(old_phone.device_id)) {
    EXPECT_EQ(c.status, "revoked");
    EXPECT_EQ(c.revocation_reason, static_cast<int>(RevocationReason::superseded));
    EXPECT_TRUE(is_revoked(ocsp_status(c), RevocationReason::superseded));
  }
  for (auto& c : certs_of(new_phone_.device_id)) {
    EXPECT_EQ(c.status, "active");
    EXPECT_TRUE(std::holds_alternative<pki::Good>(ocsp_status(c)));
  }
  // The old phone is told once: after its registration_ready, one wipe that
  // names both revoked serials, and no revoked event per certificate.
  auto ev = events_of(old_phone);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].type, "registration_ready");
  EXPECT_EQ(ev[1].type, "wipe");
  auto wipe =
      nlohmann::json::parse(nlohmann::json::parse(ev[1].payload)["data"].get<std::string>());
  EXPECT_EQ(wipe["reason"], "device_change");
  std::set<std::string> named, revoked;
  for (const auto& s : wipe["revoked"]) named.insert(s.get<std::string>());
  for (const auto& c : old_certs) revoked.insert(c.serial);
  EXPECT_EQ(named, revoked);
  // The old phone erases its data and says so.
  ASSERT_TRUE(service_->acknowledge_wipe(old_phone.device_id, old_phone.token, ev.back().seq));
  auto tx = store_->begin();
  EXPECT_EQ((*(*tx)->find_device(old_phone.device_id))->status, "wiped");
  tx->reset();
  // Its token still reads nothing new, and the audit chain holds.
  EXPECT_TRUE(store::verify_audit_chain(*store_));
  // A first application from a third phone is refused while the new one has certificates.
  auto third = new_phone("third-phone");
  auto r = service_->submit_application(application(card, third, "new"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::conflict);
}

// Application ids sort in the order the applications were accepted (the
// milliseconds first), so that each insert lands at the right edge of the
// table's key; the rest of the id stays random.
TEST_F(ServiceFixture, ApplicationIdsSortByTimeOfAcceptance) {
  auto card = issue_card();
  auto first = new_phone("order-phone-1");
  apply_and_register(card, first, "new");
  clock_.advance(std::chrono::milliseconds(1));
  auto second = new_phone("order-phone-2");
  apply_and_register(card, second, "device_change");
  clock_.advance(std::chrono::hours(24 * 365));
  auto third = new_phone("order-phone-3");
  apply_and_register(card, third, "device_change");
  for (const auto* id : {&first.application_id, &second.application_id, &third.application_id}) {
    ASSERT_EQ(id->size(), 4u + 24u) << *id;
    EXPECT_EQ(id->substr(0, 4), "app-");
    EXPECT_EQ(id->find_first_not_of("0123456789abcdef", 4), std::string::npos) << *id;
  }
  EXPECT_LT(first.application_id, second.application_id);
  EXPECT_LT(second.application_id, third.application_id);
  // The time part is the clock's milliseconds since 1970.
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
          .count();
  EXPECT_EQ(std::stoll(third.application_id.substr(4, 12), nullptr, 16), ms);
  // The rest is random.
  EXPECT_NE(third.application_id.substr(16), second.application_id.substr(16));
}

TEST_F(ServiceFixture, OnlyTheAuthCertificateMayBeChosen) {
  auto card = issue_card();
  auto phone = new_phone("phone-auth-only");
  auto r = service_->submit_application(application(card, phone, "new", false, true));
  ASSERT_TRUE(r) << r.error().message;
  auto certs = certs_of(phone.device_id);
  ASSERT_EQ(certs.size(), 1u);
  EXPECT_EQ(certs[0].kind, "phone_auth");
}

TEST_F(ServiceFixture, ConcurrentDeviceChangesNeverLeaveTwoPhonesActive) {
  auto card = issue_card();
  auto first = new_phone("phone-0000");
  apply_and_register(card, first, "new");
  // Two waves of three new phones applying at the same moment.
  std::vector<SoftPhone> phones;
  for (int round = 0; round < 2; ++round) {
    std::vector<ApplicationRequest> requests;
    for (int i = 1; i <= 3; ++i) {
      phones.push_back(new_phone("phone-" + std::to_string(round) + "00" + std::to_string(i)));
      requests.push_back(application(card, phones.back(), "device_change"));
    }
    std::vector<std::thread> threads;
    std::atomic<int> accepted{0};
    for (auto& r : requests) {
      threads.emplace_back([&, r] {
        auto a = service_->submit_application(r);
        if (a)
          ++accepted;
        else
          ADD_FAILURE() << a.error().message;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(accepted.load(), 3);
    std::set<std::string> active_devices;
    auto tx = store_->begin();
    auto all = *(*tx)->certificates_of_holder(card.issued.holder_id);
    for (auto& c : all)
      if (!c.device_id.empty() && c.status == "active") active_devices.insert(c.device_id);
    EXPECT_EQ(active_devices.size(), 1u);
    // OCSP agrees with the store for every certificate.
    for (auto& c : all) {
      auto st = ocsp_status(c);
      EXPECT_EQ(std::holds_alternative<pki::Good>(st), c.status == "active") << c.serial;
    }
  }
  // Every old phone was told to wipe exactly once.
  int told = 0;
  for (auto* p : {&first, &phones[0], &phones[1], &phones[2], &phones[3], &phones[4], &phones[5]}) {
    int wipes = 0;
    for (auto& e : events_of(*p)) wipes += e.type == "wipe";
    EXPECT_LE(wipes, 1) << p->device_id;
    told += wipes;
  }
  EXPECT_EQ(told, 6);  // all but the last phone to be issued
  EXPECT_TRUE(store::verify_audit_chain(*store_));
  // Each change signed four things ahead against the snapshot it read (two
  // certificates, two answers revoking the phone it saw); a change that
  // committed after another of its wave found another phone to revoke and
  // signed those answers in its transaction, dropping the ones made ahead.
  const auto& s = service_->stats();
  EXPECT_EQ(s.signed_ahead_used.load() + s.signed_ahead_dropped.load(), 2u + 6 * 4);
  EXPECT_GE(s.signed_ahead_used.load(), 2u + 6 * 2);
}

TEST_F(ServiceFixture, OutsideTheWindowAnApplicationWaitsForTheMorning) {
  ServiceConfig config;
  config.window = *IssuanceWindow::parse("07:00-19:30");
  start(config);
  auto card = issue_card();
  // 19:45 JST = 10:45 UTC.
  clock_.set(from_unix(1795575600 + 7 * 3600 + 45 * 60));
  auto phone = new_phone("evening-phone");
  auto r = service_->submit_application(application(card, phone, "new"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, "waiting");
  EXPECT_EQ(to_rfc3339(r->ready_at), "2026-11-25T22:00:00Z");  // 07:00 JST next day
  EXPECT_TRUE(certs_of(phone.device_id).empty());
  EXPECT_EQ(*service_->issue_due_applications(), 0u);
  clock_.set(from_unix(1795575600 + 19 * 3600));  // 07:00 JST
  EXPECT_EQ(*service_->issue_due_applications(), 1u);
  EXPECT_EQ(certs_of(phone.device_id).size(), 2u);
  EXPECT_EQ(events_of(phone).back().type, "registration_ready");
}

TEST_F(ServiceFixture, TwoWaitingFirstApplicationsDoNotRevokeEachOther) {
  ServiceConfig config;
  config.window = *IssuanceWindow::parse("07:00-19:30");
  start(config);
  auto card = issue_card();
  clock_.set(from_unix(1795575600 + 7 * 3600 + 45 * 60));  // 19:45 JST
  auto a = new_phone("evening-a");
  auto b = new_phone("evening-b");
  ASSERT_TRUE(service_->submit_application(application(card, a, "new")));
  ASSERT_TRUE(service_->submit_application(application(card, b, "new")));
  clock_.set(from_unix(1795575600 + 19 * 3600));  // 07:00 JST
  EXPECT_EQ(*service_->issue_due_applications(), 1u);
  // The first is issued; the second, a "new" application without the
  // consent to revoke, is refused instead of superseding the first.
  EXPECT_EQ(certs_of(a.device_id).size(), 2u);
  for (auto& c : certs_of(a.device_id)) EXPECT_EQ(c.status, "active");
  EXPECT_TRUE(certs_of(b.device_id).empty());
  EXPECT_EQ(events_of(b).back().type, "application_rejected");
}

TEST_F(ServiceFixture, RecordsChangeRevokesSignatureCertificatesOnly) {
  auto card = issue_card();
  auto phone = new_phone("phone-records");
  apply_and_register(card, phone, "new");
  ASSERT_TRUE(
      service_->change_records(card.issued.holder_id, {std::nullopt, "大阪府大阪市北区１－１"}));
  auto tx = store_->begin();
  auto all = *(*tx)->certificates_of_holder(card.issued.holder_id);
  for (auto& c : all) {
    bool sign = c.kind == "card_sign" || c.kind == "phone_sign";
    EXPECT_EQ(c.status, sign ? "revoked" : "active") << c.kind;
    if (sign) {
      EXPECT_TRUE(is_revoked(ocsp_status(c), RevocationReason::affiliation_changed));
    }
  }
}

TEST_F(ServiceFixture, HotlineSuspendsAndResumes) {
  auto card = issue_card();
  auto phone = new_phone("phone-lost");
  apply_and_register(card, phone, "new");
  auto auth = certs_of(phone.device_id)[0];
  auto s = service_->change_status(auth.serial, StatusAction::suspend,
                                   RevocationReason::certificate_hold, "hotline");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_TRUE(is_revoked(ocsp_status(*s), RevocationReason::certificate_hold));
  EXPECT_EQ(events_of(phone).back().type, "suspended");
  EXPECT_EQ(service_
                ->change_status(auth.serial, StatusAction::suspend,
                                RevocationReason::certificate_hold, "hotline")
                .error()
                .code,
            Errc::conflict);
  auto r = service_->change_status(auth.serial, StatusAction::resume, RevocationReason::unspecified,
                                   "hotline");
  ASSERT_TRUE(r);
  EXPECT_TRUE(std::holds_alternative<pki::Good>(ocsp_status(*r)));
  EXPECT_EQ(events_of(phone).back().type, "resumed");
  EXPECT_EQ(
      service_
          ->change_status("00ff", StatusAction::revoke, RevocationReason::unspecified, "hotline")
          .error()
          .code,
      Errc::not_found);
}

TEST_F(ServiceFixture, ARestartedServiceAnswersOcspFromTheStore) {
  auto card = issue_card();
  auto phone = new_phone("phone-restart");
  apply_and_register(card, phone, "new");
  auto c = certs_of(phone.device_id)[0];
  ASSERT_TRUE(service_->change_status(c.serial, StatusAction::revoke,
                                      RevocationReason::key_compromise, "hotline"));
  start(ServiceConfig{});  // a new responder, loaded from the store
  EXPECT_TRUE(
      is_revoked(ocsp_status(certs_of(phone.device_id)[0]), RevocationReason::key_compromise));
}

TEST_F(ServiceFixture, CrlListsRevokedAndSuspended) {
  auto card = issue_card();
  auto phone = new_phone("phone-crl");
  apply_and_register(card, phone, "new");
  auto certs = certs_of(phone.device_id);
  auto empty = service_->crl(pki::CaKind::auth);
  ASSERT_TRUE(empty);
  for (auto& c : certs)
    ASSERT_TRUE(service_->change_status(c.serial, StatusAction::revoke,
                                        RevocationReason::key_compromise, "hotline"));
  for (auto kind : {pki::CaKind::sign, pki::CaKind::auth}) {
    auto der = service_->crl(kind);
    ASSERT_TRUE(der);
    auto crl = pki::parse_crl(**der);
    EXPECT_EQ(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl->get())), 1);
  }
}

// The CRL in memory follows each change (pki::CrlBuilder updated after the
// commit) and says what a CRL built from the store's rows says.
TEST_F(ServiceFixture, CrlFollowsSuspendResumeAndRevokeWithoutReloading) {
  auto card = issue_card();
  auto phone = new_phone("phone-crl-steps");
  apply_and_register(card, phone, "new");
  auto cert = certs_of(phone.device_id)[0];
  auto ca = *pki::parse_ca_kind(cert.ca);
  auto listed = [&]() {
    auto der = service_->crl(ca);
    EXPECT_TRUE(der);
    auto crl = pki::parse_crl(**der);
    EXPECT_TRUE(crl);
    EXPECT_EQ(X509_CRL_verify(crl->get(), service_->authorities().of(ca).key()), 1);
    std::map<std::string, int> out;
    STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl->get());
    for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
      X509_REVOKED* r = sk_X509_REVOKED_value(revoked, i);
      auto* code = static_cast<ASN1_ENUMERATED*>(
          X509_REVOKED_get_ext_d2i(r, NID_crl_reason, nullptr, nullptr));
      out[pki::serial_hex(X509_REVOKED_get0_serialNumber(r))] =
          code ? static_cast<int>(ASN1_ENUMERATED_get(code)) : 0;
      ASN1_ENUMERATED_free(code);
    }
    return out;
  };
  EXPECT_TRUE(listed().empty());  // the builder is loaded here, before the changes
  ASSERT_TRUE(service_->change_status(cert.serial, StatusAction::suspend,
                                      RevocationReason::certificate_hold, "hotline"));
  EXPECT_EQ(listed(), (std::map<std::string, int>{{cert.serial, 6}}));
  ASSERT_TRUE(service_->change_status(cert.serial, StatusAction::resume,
                                      RevocationReason::unspecified, "hotline"));
  EXPECT_TRUE(listed().empty());
  ASSERT_TRUE(service_->change_status(cert.serial, StatusAction::revoke,
                                      RevocationReason::key_compromise, "hotline"));
  auto after = listed();
  EXPECT_EQ(after, (std::map<std::string, int>{{cert.serial, 1}}));

  // The slow path: every revoked row of the store, built from scratch.
  auto tx = store_->begin();
  ASSERT_TRUE(tx);
  auto rows = (*tx)->revoked_certificates(cert.ca);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].serial, cert.serial);
  EXPECT_EQ((*rows)[0].revocation_reason, 1);
}

}  // namespace
}  // namespace smacert::service::testing

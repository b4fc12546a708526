// An in-process service on a real SQLite store and real CAs, plus a software
// "card" and "phones" that build requests the way the phone app does.
#pragma once

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "pki/authority.h"
#include "protocol/canonical.h"
#include "service/service.h"
#include "store/sqlite_store.h"
#include "support/temp_dir.h"

namespace smacert::service::testing {

using smacert::testing::TempDir;

// A card's keys and certificates, held in software for these tests (the
// applet has its own tests; here the service is under test).
struct SoftCard {
  pki::PkeyPtr sign_key, auth_key;
  CardIssued issued;
  Bytes sign_cert() const {
    for (auto& c : issued.certificates)
      if (c.kind == "card_sign") return c.der;
    return {};
  }
  std::string sign_serial() const {
    for (auto& c : issued.certificates)
      if (c.kind == "card_sign") return c.serial;
    return {};
  }
};

struct SoftPhone {
  std::string device_id;
  pki::PkeyPtr sign_key, auth_key;
  std::string token;
  std::string application_id;
};

class ServiceFixture : public ::testing::Test {
 protected:
  ServiceFixture()
      // 2026-11-25 12:00 JST: inside any sensible window.
      : clock_(from_unix(1795575600)) {}

  void SetUp() override { start(ServiceConfig{}); }

  void start(ServiceConfig config) {
    service_.reset();
    responder_.reset();
    store_.reset();
    auto store = store::SqliteStore::open(dir_.path() / "store.db");
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    if (!authorities_.sign) {
      auto a = pki::Authorities::open_or_create(dir_.path(), pki::PkiConfig{}, clock_, random_);
      ASSERT_TRUE(a) << a.error().message;
      authorities_ = std::move(*a);
      auto e = EventSigner::open_or_create(dir_.path() / "push.key");
      ASSERT_TRUE(e);
      events_ = std::move(*e);
    }
    responder_ = std::make_unique<pki::OcspResponder>(authorities_, clock_);
    service_ = std::make_unique<Service>(*store_, authorities_, *responder_, *events_, clock_,
                                         random_, config);
    ASSERT_TRUE(service_->load_ocsp());
  }

  static pki::PkeyPtr rsa() { return std::move(*pki::generate_key(pki::KeyAlgorithm::rsa2048)); }
  static Bytes csr_for(EVP_PKEY* key) {
    pki::SoftwareSigner s{pki::PkeyPtr(EVP_PKEY_dup(key))};
    return pki::to_der(pki::make_csr(s, "x")->get());
  }
  static Bytes sign(EVP_PKEY* key, const Bytes& msg) {
    pki::SoftwareSigner s{pki::PkeyPtr(EVP_PKEY_dup(key))};
    return *s.sign_sha256(pki::sha256(msg));
  }

  SoftCard issue_card(const std::string& birth = "1980-01-01") {
    SoftCard card{rsa(), rsa(), {}};
    auto r = service_->issue_card({"見本　花子", "東京都千代田区霞が関１－２－３", birth, 2,
                                   csr_for(card.sign_key.get()), csr_for(card.auth_key.get())});
    EXPECT_TRUE(r) << r.error().message;
    if (r) card.issued = *r;
    return card;
  }

  SoftPhone new_phone(const std::string& id) { return SoftPhone{id, rsa(), rsa(), "", ""}; }

  // Builds the application as the phone does (⑤–⑪) and has the card sign it (⑧).
  ApplicationRequest application(const SoftCard& card, const SoftPhone& phone,
                                 const std::string& kind, bool sign = true, bool auth = true) {
    auto ch = service_->new_challenge("application", "");
    EXPECT_TRUE(ch);
    ApplicationRequest r;
    r.kind = kind;
    r.challenge = ch->nonce;
    r.device = {phone.device_id, "android", "Pixel 9"};
    r.card_certificate = card.sign_cert();
    if (sign) r.sign_csr = csr_for(phone.sign_key.get());
    if (auth) r.auth_csr = csr_for(phone.auth_key.get());
    r.consent_terms = true;
    r.consent_revoke_old = kind == "device_change";
    resign(card, r);
    return r;
  }
  void resign(const SoftCard& card, ApplicationRequest& r) {
    protocol::ApplicationFields f{
        r.kind,          r.challenge,         r.device.id, r.device.platform,
        r.device.model,  card.sign_serial(),  r.sign_csr,  r.auth_csr,
        r.consent_terms, r.consent_revoke_old};
    r.card_signature = sign(card.sign_key.get(), protocol::application_bytes(f));
  }

  // Apply and register: the whole first application of a phone.
  void apply_and_register(const SoftCard& card, SoftPhone& phone, const std::string& kind) {
    auto accepted = service_->submit_application(application(card, phone, kind));
    ASSERT_TRUE(accepted) << accepted.error().message;
    ASSERT_EQ(accepted->status, "issued");
    phone.token = accepted->device_token;
    phone.application_id = accepted->application_id;
    register_phone(phone);
  }
  void register_phone(SoftPhone& phone) {
    auto nonce = service_->new_challenge("registration", phone.application_id);
    ASSERT_TRUE(nonce);
    Registration reg{nonce->nonce,
                     sign(phone.sign_key.get(),
                          protocol::registration_bytes(phone.application_id, nonce->nonce, "sign")),
                     sign(phone.auth_key.get(), protocol::registration_bytes(
                                                    phone.application_id, nonce->nonce, "auth"))};
    auto st = service_->register_application(phone.application_id, phone.token, reg);
    ASSERT_TRUE(st) << st.error().message;
  }

  std::vector<store::CertificateRecord> certs_of(const std::string& device_id) {
    auto tx = store_->begin();
    return *(*tx)->certificates_of_device(device_id);
  }
  std::vector<store::EventRecord> events_of(const SoftPhone& p) {
    auto tx = store_->begin();
    return *(*tx)->events_after(p.device_id, 0, 100);
  }
  // A fingerprint of everything the store holds that a rejected request must not change.
  std::string store_state() {
    auto tx = store_->begin();
    auto audit = *(*tx)->audit_entries(0, 100000);
    std::string s = std::to_string(audit.size());
    if (!audit.empty()) s += audit.back().hash;
    return s;
  }

  pki::CertStatus ocsp_status(const store::CertificateRecord& c) {
    auto serial = *pki::serial_bytes(c.serial);
    auto kind = *pki::parse_ca_kind(c.ca);
    auto cert = pki::parse_certificate(c.der);
    OcspRequestHelper req(cert->get(), authorities_.of(kind).certificate());
    auto resp = responder_->respond(req.der);
    auto st = pki::check_ocsp_response(*resp, cert->get(), authorities_.of(kind).certificate(),
                                       clock_.now());
    EXPECT_TRUE(st) << st.error().message;
    return st ? *st : pki::CertStatus{pki::Unknown{}};
  }

  struct OcspRequestHelper {
    OcspRequestHelper(X509* cert, X509* issuer) {
      pki::OcspRequestPtr req(OCSP_REQUEST_new());
      OCSP_request_add0_id(req.get(), OCSP_cert_to_id(EVP_sha1(), cert, issuer));
      unsigned char* p = nullptr;
      int len = i2d_OCSP_REQUEST(req.get(), &p);
      der.assign(p, p + len);
      OPENSSL_free(p);
    }
    Bytes der;
  };

  TempDir dir_{"service"};
  ManualClock clock_;
  OsRandom random_;
  pki::Authorities authorities_;
  std::unique_ptr<EventSigner> events_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<pki::OcspResponder> responder_;
  std::unique_ptr<Service> service_;
};

inline bool is_revoked(const pki::CertStatus& s, pki::RevocationReason r) {
  auto* rv = std::get_if<pki::Revoked>(&s);
  return rv && rv->reason == r;
}

}  // namespace smacert::service::testing

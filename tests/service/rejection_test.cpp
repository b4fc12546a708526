// Every rejection is a clear error and leaves the store as it was.
#include "service_fixture.h"

namespace smacert::service::testing {
namespace {

class RejectionTest : public ServiceFixture {
 protected:
  void SetUp() override {
    ServiceFixture::SetUp();
    card_ = issue_card();
    phone_ = new_phone("phone-rejections");
  }
  void expect_rejected(const ApplicationRequest& r, Errc code, const std::string& words) {
    auto before = store_state();
    auto result = service_->submit_application(r);
    ASSERT_FALSE(result) << "accepted: " << words;
    EXPECT_EQ(result.error().code, code) << result.error().message;
    EXPECT_NE(result.error().message.find(words), std::string::npos) << result.error().message;
    EXPECT_EQ(store_state(), before) << "the store changed for: " << words;
    EXPECT_TRUE(certs_of(phone_.device_id).empty());
  }
  SoftCard card_;
  SoftPhone phone_;
};

TEST_F(RejectionTest, TamperedCardSignature) {
  auto r = application(card_, phone_, "new");
  r.card_signature[10] ^= 1;
  expect_rejected(r, Errc::verification, "card's signature");
  r = application(card_, phone_, "new");
  r.device.model = "Other";  // signed fields changed after signing
  expect_rejected(r, Errc::verification, "card's signature");
}

TEST_F(RejectionTest, ReplayedAndExpiredChallenges) {
  auto r = application(card_, phone_, "new");
  ASSERT_TRUE(service_->submit_application(r));
  auto other = new_phone("phone-replay");
  auto again = application(card_, other, "new");
  again.challenge = r.challenge;
  resign(card_, again);
  phone_ = std::move(other);
  expect_rejected(again, Errc::conflict, "already used");
  auto late = application(card_, phone_, "new");
  clock_.advance(std::chrono::minutes(6));
  expect_rejected(late, Errc::expired, "challenge");
  auto unknown = application(card_, phone_, "new");
  unknown.challenge = "bm90LWEtY2hhbGxlbmdl";
  resign(card_, unknown);
  expect_rejected(unknown, Errc::not_found, "challenge");
}

TEST_F(RejectionTest, CardCertificateFromAForeignCa) {
  smacert::testing::TempDir other_dir("foreign");
  auto foreign = pki::Authorities::open_or_create(other_dir.path(), {}, clock_, random_);
  auto key = rsa();
  pki::SoftwareSigner s{pki::PkeyPtr(EVP_PKEY_dup(key.get()))};
  auto csr = pki::CertificateRequest::parse(pki::to_der(pki::make_csr(s, "x")->get()));
  ASSERT_TRUE(csr);
  pki::HolderFacts f{"見本　花子", "", "1980-01-01", 2, "東京都千代田区霞が関", ""};
  auto cert = foreign->sign->issue({pki::CertificateKind::card_sign, &*csr, "X1", f,
                                    pki::random_serial(random_), clock_.now(),
                                    clock_.now() + std::chrono::hours(100), std::nullopt});
  ASSERT_TRUE(cert);
  auto parsed = pki::parse_certificate(*cert);
  ASSERT_TRUE(parsed);
  SoftCard fake{std::move(key), rsa(), {}};
  fake.issued.certificates.push_back(
      {"card_sign", pki::serial_hex(X509_get0_serialNumber(parsed->get())), *cert, clock_.now()});
  expect_rejected(application(fake, phone_, "new"), Errc::verification,
                  "is not one the smacert CAs issued");
}

// A certificate for the card's own key with the card certificate's serial,
// made by another CA: the signature verifies, but it is not the
// certificate the store holds under that serial.
TEST_F(RejectionTest, CardCertificateWithARegisteredSerialButOtherBytes) {
  smacert::testing::TempDir other_dir("foreign");
  auto foreign = pki::Authorities::open_or_create(other_dir.path(), {}, clock_, random_);
  pki::SoftwareSigner s{pki::PkeyPtr(EVP_PKEY_dup(card_.sign_key.get()))};
  auto csr = pki::CertificateRequest::parse(pki::to_der(pki::make_csr(s, "x")->get()));
  ASSERT_TRUE(csr);
  pki::HolderFacts f{"見本　花子", "", "1980-01-01", 2, "東京都千代田区霞が関", ""};
  auto cert =
      foreign->sign->issue({pki::CertificateKind::card_sign, &*csr, "X1", f, card_.sign_serial(),
                            clock_.now(), clock_.now() + std::chrono::hours(100), std::nullopt});
  ASSERT_TRUE(cert);
  SoftCard lookalike{pki::PkeyPtr(EVP_PKEY_dup(card_.sign_key.get())), rsa(), {}};
  lookalike.issued.certificates.push_back({"card_sign", card_.sign_serial(), *cert, clock_.now()});
  expect_rejected(application(lookalike, phone_, "new"), Errc::verification,
                  "the card certificate is not one the smacert CAs issued");
}

TEST_F(RejectionTest, ExpiredCardCertificate) {
  clock_.advance(std::chrono::hours(24 * 366 * 6));  // past the 5th birthday after issuance
  expect_rejected(application(card_, phone_, "new"), Errc::verification,
                  "the card certificate is valid only from");
}

TEST_F(RejectionTest, RevokedOrSuspendedCardCertificate) {
  ASSERT_TRUE(service_->change_status(card_.sign_serial(), StatusAction::suspend,
                                      pki::RevocationReason::certificate_hold, "hotline"));
  expect_rejected(application(card_, phone_, "new"), Errc::forbidden, "suspended");
  ASSERT_TRUE(service_->change_status(card_.sign_serial(), StatusAction::revoke,
                                      pki::RevocationReason::key_compromise, "hotline"));
  expect_rejected(application(card_, phone_, "new"), Errc::forbidden, "revoked");
}

TEST_F(RejectionTest, CsrForAKeyThePhoneDoesNotHold) {
  auto r = application(card_, phone_, "new");
  // A CSR whose key was swapped after signing: no proof of possession.
  auto csr = pki::parse_csr(r.auth_csr);
  auto stranger = rsa();
  X509_REQ_set_pubkey(csr->get(), stranger.get());
  r.auth_csr = pki::to_der(csr->get());
  resign(card_, r);
  expect_rejected(r, Errc::verification, "proof of possession");
}

TEST_F(RejectionTest, WeakKey) {
  auto r = application(card_, phone_, "new");
  pki::PkeyPtr weak(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(1024)));
  r.sign_csr = csr_for(weak.get());
  resign(card_, r);
  expect_rejected(r, Errc::policy, "RSA-1024");
}

TEST_F(RejectionTest, MissingConsentsAndChoices) {
  auto r = application(card_, phone_, "device_change");
  r.consent_revoke_old = false;
  resign(card_, r);
  expect_rejected(r, Errc::invalid_argument, "revoke the old phone");
  r = application(card_, phone_, "new");
  r.consent_terms = false;
  resign(card_, r);
  expect_rejected(r, Errc::invalid_argument, "terms");
  r = application(card_, phone_, "new", false, false);
  expect_rejected(r, Errc::invalid_argument, "at least one certificate");
  r = application(card_, phone_, "upgrade");
  expect_rejected(r, Errc::invalid_argument, "kind");
  r = application(card_, phone_, "new");
  r.device.id = "short";
  expect_rejected(r, Errc::invalid_argument, "device.id");
}

TEST_F(RejectionTest, IdempotencyKeyReturnsTheFirstAnswerOrConflicts) {
  auto r = application(card_, phone_, "new");
  r.idempotency_key = "key-1";
  auto first = service_->submit_application(r);
  ASSERT_TRUE(first);
  auto before = store_state();
  auto second = service_->submit_application(r);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_TRUE(second->replayed);
  EXPECT_EQ(second->application_id, first->application_id);
  EXPECT_EQ(store_state(), before);
  auto other = application(card_, phone_, "new");
  other.idempotency_key = "key-1";
  auto clash = service_->submit_application(other);
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().code, Errc::conflict);
}

TEST_F(RejectionTest, RegistrationWithTheWrongKeyChangesNothing) {
  auto accepted = service_->submit_application(application(card_, phone_, "new"));
  ASSERT_TRUE(accepted);
  phone_.token = accepted->device_token;
  phone_.application_id = accepted->application_id;
  auto nonce = service_->new_challenge("registration", phone_.application_id);
  auto stranger = rsa();
  Registration reg{nonce->nonce,
                   sign(phone_.sign_key.get(),
                        protocol::registration_bytes(phone_.application_id, nonce->nonce, "sign")),
                   sign(stranger.get(),
                        protocol::registration_bytes(phone_.application_id, nonce->nonce, "auth"))};
  auto before = store_state();
  auto st = service_->register_application(phone_.application_id, phone_.token, reg);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::verification);
  EXPECT_EQ(store_state(), before);
  // A wrong device token learns nothing.
  EXPECT_EQ(service_->register_application(phone_.application_id, "wrong", reg).error().code,
            Errc::not_found);
  // The right keys then work, with the same nonce (it was not spent).
  reg.auth_signature =
      sign(phone_.auth_key.get(),
           protocol::registration_bytes(phone_.application_id, nonce->nonce, "auth"));
  EXPECT_TRUE(service_->register_application(phone_.application_id, phone_.token, reg));
}

}  // namespace
}  // namespace smacert::service::testing

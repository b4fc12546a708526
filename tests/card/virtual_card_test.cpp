// Issuing a virtual My Number Card and using it through JpkiClient and
// CardSigner, with its state in an image file.
#include "card/virtual_card.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "card/card_fixture.h"
#include "card/jpki_client.h"
#include "card/stored_applet.h"
#include "support/temp_dir.h"

namespace smacert::card {
namespace {

using namespace testing;
using smacert::testing::TempDir;

CardIssueRequest sample_request() {
  CardIssueRequest r;
  r.facts = smacert::testing::sample_facts();
  r.auth_pin = "1234";
  r.sign_password = "ABC123";
  return r;
}

class VirtualCardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto req = sample_request();
    req.reserve_serial = [this](pki::CertificateKind k, const std::string& serial) -> Status {
      reserved_.emplace_back(k, serial);
      return {};
    };
    auto image = issue_virtual_card(req, pki_.authorities(), pki_.clock(), pki_.random());
    ASSERT_TRUE(image) << image.error().message;
    ASSERT_TRUE(save_card_image(path_, *image));
    auto card = StoredApplet::open(path_, pki_.random());
    ASSERT_TRUE(card) << card.error().message;
    card_.emplace(std::move(*card));
  }

  TestPki pki_;
  TempDir dir_{"card"};
  std::filesystem::path path_ = dir_ / "card.json";
  std::vector<std::pair<pki::CertificateKind, std::string>> reserved_;
  std::optional<StoredApplet> card_;
};

TEST_F(VirtualCardTest, HoldsBothCertificatesOfTheCardProfiles) {
  JpkiClient client(*card_);
  EXPECT_EQ(client.token_label().value_or(""), "JPKIAPICCTOKEN2");
  auto auth = client.read_certificate(kAuthCertFile);
  ASSERT_TRUE(auth) << auth.error().message;
  auto auth_cert = pki::parse_certificate(*auth);
  ASSERT_TRUE(auth_cert);
  EXPECT_EQ(X509_check_issued(pki_.ca(pki::CaKind::auth).certificate(), auth_cert->get()),
            X509_V_OK);
  EXPECT_EQ(pki::describe_key(X509_get0_pubkey(auth_cert->get())), "RSA-2048");

  auto locked = client.read_certificate(kSignCertFile);
  ASSERT_FALSE(locked);
  EXPECT_EQ(locked.error().code, Errc::unauthorized);
  ASSERT_TRUE(client.verify(PinRef::Sign, "abc123"));
  auto sign = client.read_certificate(kSignCertFile);
  ASSERT_TRUE(sign) << sign.error().message;
  auto sign_cert = pki::parse_certificate(*sign);
  ASSERT_TRUE(sign_cert);
  EXPECT_EQ(X509_check_issued(pki_.ca(pki::CaKind::sign).certificate(), sign_cert->get()),
            X509_V_OK);
  EXPECT_EQ(client.read_certificate(kSignCaFile).value_or(Bytes{}),
            pki::to_der(pki_.ca(pki::CaKind::sign).certificate()));
  EXPECT_EQ(client.read_certificate(kAuthCaFile).value_or(Bytes{}),
            pki::to_der(pki_.ca(pki::CaKind::auth).certificate()));

  // Valid until the card expiry rule; serials reserved before signing.
  auto expiry = pki::card_certificate_expiry("1980-01-01", pki_.clock().now());
  ASSERT_TRUE(expiry);
  EXPECT_EQ(pki::not_after(auth_cert->get()), *expiry);
  ASSERT_EQ(reserved_.size(), 2u);
  EXPECT_EQ(reserved_[0].first, pki::CertificateKind::card_auth);
  EXPECT_EQ(reserved_[0].second, pki::serial_hex(X509_get0_serialNumber(auth_cert->get())));
  EXPECT_EQ(reserved_[1].second, pki::serial_hex(X509_get0_serialNumber(sign_cert->get())));
  ASSERT_TRUE(card_->applet().image().holder);
  EXPECT_EQ(card_->applet().image().holder->facts.name, "見本　花子");
}

TEST_F(VirtualCardTest, SignsThroughTheCardSigner) {
  auto signer = CardSigner::open(*card_, PinRef::Auth, "1234");
  ASSERT_TRUE(signer) << signer.error().message;
  auto sig = signer->sign_sha256(pki::sha256(as_bytes("challenge")));
  ASSERT_TRUE(sig) << sig.error().message;
  EXPECT_TRUE(pki::verify_sha256_signature(signer->public_key(), as_bytes("challenge"), *sig));
  auto wrong = CardSigner::open(*card_, PinRef::Sign, "WRONG9");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Errc::unauthorized);
  EXPECT_NE(wrong.error().message.find("4 tries left"), std::string::npos) << wrong.error().message;
}

TEST_F(VirtualCardTest, TriesAreSavedAsTheyChange) {
  {
    JpkiClient client(*card_);
    for (int i = 0; i < 2; ++i) EXPECT_FALSE(client.verify(PinRef::Auth, "0000"));
    auto last = client.verify(PinRef::Auth, "0000");
    ASSERT_FALSE(last);
    EXPECT_EQ(last.error().code, Errc::locked);
  }
  auto reopened = StoredApplet::open(path_, pki_.random());
  ASSERT_TRUE(reopened);
  JpkiClient client(*reopened);
  EXPECT_EQ(client.tries_left(PinRef::Auth).value_or(99), 0u);
  auto blocked = client.verify(PinRef::Auth, "1234");
  ASSERT_FALSE(blocked);
  EXPECT_EQ(blocked.error().code, Errc::locked) << "blocked survives a restart";
  EXPECT_EQ(client.tries_left(PinRef::Sign).value_or(99), 5u);
}

TEST_F(VirtualCardTest, TheImageIsPrivateAndVersioned) {
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto bytes = read_file(path_);
  ASSERT_TRUE(bytes);
  std::string text(as_chars(*bytes));
  EXPECT_EQ(text.find("ABC123"), std::string::npos) << "no plain password";
  EXPECT_NE(text.find("pbkdf2-sha256"), std::string::npos);
  EXPECT_NE(text.find("\"version\": 1"), std::string::npos);
  auto again = parse_card_image(text);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(serialize_card_image(*again), text);

  std::string newer = text;
  newer.replace(newer.find("\"version\": 1"), 12, "\"version\": 9");
  auto refused = parse_card_image(newer);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::invalid_argument);
  for (std::string_view bad : {"", "[]", "{}", "{\"format\": 1}", "not json"})
    EXPECT_FALSE(parse_card_image(bad)) << bad;
  std::string truncated = text.substr(0, text.size() / 2);
  EXPECT_FALSE(parse_card_image(truncated));
}

TEST_F(VirtualCardTest, AnIssuedCardRefusesPersonalisation) {
  JpkiClient client(*card_);
  auto gen = client.generate_key_pair(PinRef::Auth);
  ASSERT_FALSE(gen);
  EXPECT_NE(gen.error().message.find("6D00"), std::string::npos);
  EXPECT_FALSE(client.erase());
  EXPECT_FALSE(client.set_pin(PinRef::Auth, "9999"));
}

TEST(VirtualCardIssue, RefusesBadSecretsAndMinors) {
  TestPki pki;
  auto r = sample_request();
  r.auth_pin = "12345";
  EXPECT_FALSE(issue_virtual_card(r, pki.authorities(), pki.clock(), pki.random()));
  r = sample_request();
  r.sign_password = "abcdef";
  EXPECT_FALSE(issue_virtual_card(r, pki.authorities(), pki.clock(), pki.random()));
  r = sample_request();
  r.facts.birth_date = "2020-01-01";
  auto minor = issue_virtual_card(r, pki.authorities(), pki.clock(), pki.random());
  ASSERT_FALSE(minor);
  EXPECT_EQ(minor.error().code, Errc::policy);
  r = sample_request();
  r.reserve_serial = [](pki::CertificateKind, const std::string&) -> Status {
    return fail(Errc::unavailable, "store down");
  };
  auto stopped = issue_virtual_card(r, pki.authorities(), pki.clock(), pki.random());
  ASSERT_FALSE(stopped);
  EXPECT_EQ(stopped.error().code, Errc::unavailable) << "nothing is signed without the serial";
}

}  // namespace
}  // namespace smacert::card

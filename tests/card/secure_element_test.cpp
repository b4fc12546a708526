// The phone's secure element: the JPKI applet plus key generation, PIN
// setting, certificate writing and erase (spec/jpki-card.md §3), driven
// through JpkiClient as the phone app will, with its image on disk.
#include "card/secure_element.h"

#include <gtest/gtest.h>

#include "card/card_fixture.h"
#include "card/jpki_client.h"
#include "support/temp_dir.h"

namespace smacert::card {
namespace {

using namespace testing;
using smacert::testing::TempDir;

class SecureElementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto se = create_secure_element(path_, PhonePlatform::Android, pki_.random());
    ASSERT_TRUE(se) << se.error().message;
    se_.emplace(std::move(*se));
  }
  // Issues a phone certificate of `kind` for the element's key (the CSR signed in the element).
  Bytes issue_for(PinRef pin, const std::string& secret, pki::PkeyPtr pub) {
    CardSigner signer(*se_, pin, secret, std::move(pub));
    auto made = pki::make_csr(signer, "PHONE");
    EXPECT_TRUE(made) << made.error().message;
    auto csr = pki::CertificateRequest::parse(pki::to_der(made->get()));
    EXPECT_TRUE(csr) << csr.error().message;
    auto kind =
        pin == PinRef::Auth ? pki::CertificateKind::phone_auth : pki::CertificateKind::phone_sign;
    auto now = pki_.clock().now();
    pki::IssueRequest r{kind,
                        &*csr,
                        "PHONE0001",
                        smacert::testing::sample_facts(),
                        pki::random_serial(pki_.random()),
                        now,
                        now + std::chrono::hours(24 * 30),
                        now + std::chrono::hours(24 * 365)};
    auto cert = pki_.ca(pki::ca_of(kind)).issue(r);
    EXPECT_TRUE(cert) << cert.error().message;
    return *cert;
  }

  TestPki pki_;
  TempDir dir_{"se"};
  std::filesystem::path path_ = dir_ / "secure-element.json";
  std::optional<StoredApplet> se_;
};

TEST_F(SecureElementTest, LabelsThePlatform) {
  JpkiClient client(*se_);
  auto label = client.token_label();
  ASSERT_TRUE(label) << label.error().message;
  EXPECT_EQ(*label, "JPKIAPGPSETOKEN");
  auto ios = create_secure_element(dir_ / "ios.json", PhonePlatform::Ios, pki_.random());
  ASSERT_TRUE(ios);
  JpkiClient ios_client(*ios);
  EXPECT_EQ(ios_client.token_label().value_or(""), "JPKIAPIOSTOKEN");
  EXPECT_FALSE(create_secure_element(path_, PhonePlatform::Android, pki_.random()))
      << "an element is never silently replaced";
}

TEST_F(SecureElementTest, FullLifeGenerateSetWriteUseErase) {
  JpkiClient client(*se_);
  auto auth_pub = client.generate_key_pair(PinRef::Auth);
  ASSERT_TRUE(auth_pub) << auth_pub.error().message;
  EXPECT_EQ(pki::describe_key(auth_pub->get()), "RSA-2048");
  auto sign_pub = client.generate_key_pair(PinRef::Sign);
  ASSERT_TRUE(sign_pub);
  ASSERT_TRUE(client.set_pin(PinRef::Auth, "4321"));
  ASSERT_TRUE(client.set_pin(PinRef::Sign, "PHONE1"));
  auto again = client.set_pin(PinRef::Auth, "1111");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::conflict) << "a set PIN changes only after VERIFY";

  Bytes auth_der = issue_for(PinRef::Auth, "4321", std::move(*auth_pub));
  Bytes sign_der = issue_for(PinRef::Sign, "PHONE1", std::move(*sign_pub));
  auto wrong = client.write_file(kAuthCertFile, sign_der);
  ASSERT_FALSE(wrong) << "a certificate for another key";
  EXPECT_EQ(wrong.error().code, Errc::invalid_argument);
  ASSERT_TRUE(client.write_file(kAuthCertFile, auth_der));
  ASSERT_TRUE(client.write_file(kSignCertFile, sign_der));
  ASSERT_TRUE(
      client.write_file(kAuthCaFile, pki::to_der(pki_.ca(pki::CaKind::auth).certificate())));
  EXPECT_FALSE(client.write_file(kAuthKeyFile, auth_der)) << "keys are not files to write";
  EXPECT_FALSE(client.write_file(kSignCaFile, to_bytes("not DER")));

  // On the phone the auth certificate is behind the auth PIN.
  JpkiClient reader(*se_);
  auto locked = reader.read_certificate(kAuthCertFile);
  ASSERT_FALSE(locked);
  EXPECT_EQ(locked.error().code, Errc::unauthorized);
  ASSERT_TRUE(reader.verify(PinRef::Auth, "4321"));
  EXPECT_EQ(reader.read_certificate(kAuthCertFile).value_or(Bytes{}), auth_der);

  // The state is on disk: a reopened element keeps keys, PINs and tries.
  EXPECT_FALSE(reader.verify(PinRef::Sign, "WRONG1"));
  auto reopened = StoredApplet::open(path_, pki_.random());
  ASSERT_TRUE(reopened) << reopened.error().message;
  JpkiClient after(*reopened);
  EXPECT_EQ(after.tries_left(PinRef::Sign).value_or(99), 4u);
  auto signer = CardSigner::open(*reopened, PinRef::Sign, "phone1");
  ASSERT_TRUE(signer) << signer.error().message;
  auto digest = pki::sha256(as_bytes("document"));
  auto sig = signer->sign_sha256(digest);
  ASSERT_TRUE(sig) << sig.error().message;
  EXPECT_TRUE(pki::verify_sha256_signature(signer->public_key(), as_bytes("document"), *sig));
  EXPECT_EQ(after.tries_left(PinRef::Sign).value_or(99), 5u) << "a correct entry resets";

  // ERASE: every key, certificate and PIN.
  ASSERT_TRUE(after.erase());
  auto image = load_card_image(path_);
  ASSERT_TRUE(image);
  EXPECT_TRUE(image->files.empty());
  EXPECT_TRUE(image->key(PinRef::Auth).empty() && image->key(PinRef::Sign).empty());
  EXPECT_FALSE(image->pin(PinRef::Auth) || image->pin(PinRef::Sign));
  EXPECT_EQ(image->token, TokenKind::Android);
  EXPECT_FALSE(after.verify(PinRef::Auth, "4321"));
}

TEST_F(SecureElementTest, EnforcesThePhoneRules) {
  JpkiClient client(*se_);
  for (std::string_view bad : {"123", "12345", "12a4", "    "})
    EXPECT_FALSE(client.set_pin(PinRef::Auth, bad)) << bad;
  for (std::string_view bad :
       {"ABC12", "ABCDEFGHIJ1234567", "ABCDEF", "123456", "abc123", "ABC-12"})
    EXPECT_FALSE(client.set_pin(PinRef::Sign, bad)) << bad;
  EXPECT_TRUE(client.set_pin(PinRef::Auth, "0000"));
  EXPECT_TRUE(client.set_pin(PinRef::Sign, "A1B2C3D4E5F6G7H8"));
  ASSERT_TRUE(client.verify(PinRef::Sign, "a1b2c3d4e5f6g7h8")) << "upper-cased by the client";
  EXPECT_FALSE(client.change_pin(PinRef::Sign, "NODIGITS"));
  EXPECT_TRUE(client.change_pin(PinRef::Sign, "NEW123"));
  EXPECT_TRUE(client.verify(PinRef::Sign, "NEW123"));
}

TEST_F(SecureElementTest, AKeyIsUnusableUntilItsPinIsSet) {
  JpkiClient client(*se_);
  ASSERT_TRUE(client.generate_key_pair(PinRef::Auth));
  auto tries = client.tries_left(PinRef::Auth);
  ASSERT_FALSE(tries);
  EXPECT_EQ(tries.error().code, Errc::locked) << "6984: no reference data yet";
  auto sig = client.sign(PinRef::Auth, pki::sha256(as_bytes("x")));
  ASSERT_FALSE(sig);
  EXPECT_EQ(sig.error().code, Errc::unauthorized);
}

TEST_F(SecureElementTest, RegeneratingAKeyDropsItsCertificate) {
  JpkiClient client(*se_);
  auto pub = client.generate_key_pair(PinRef::Sign);
  ASSERT_TRUE(pub);
  ASSERT_TRUE(client.set_pin(PinRef::Sign, "PHONE1"));
  Bytes der = issue_for(PinRef::Sign, "PHONE1", std::move(*pub));
  ASSERT_TRUE(client.write_file(kSignCertFile, der));
  ASSERT_TRUE(client.generate_key_pair(PinRef::Sign));
  auto image = load_card_image(path_);
  ASSERT_TRUE(image);
  EXPECT_EQ(image->file(kSignCertFile), nullptr);
}

}  // namespace
}  // namespace smacert::card

// The seed's device change and its variants, through the `smacert` commands
// against a real service process (issue 6's scenarios).
#include <nlohmann/json.hpp>

#include "cli_service.h"

namespace smacert::e2e {
namespace {

nlohmann::json json_of(const RunResult& r) {
  auto j = nlohmann::json::parse(r.output, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.output;
  return j;
}

class DeviceChange : public CliService {};

TEST_F(DeviceChange, TheSeedScenarioEndToEnd) {
  issue_card();
  phone_with_certificates("old", "apply", "1111");
  ASSERT_EQ(smacert("phone check --dir " + sh(path("old")) + " --auth-pin 1111").rc, 0);
  auto old_status = json_of(smacert("--json phone status --dir " + sh(path("old"))));
  auto old_certs = old_status["certificates"];
  ASSERT_EQ(old_certs.size(), 2u);

  // The new phone changes device (④–⑪), gets its push (登録準備が完了しています), registers.
  phone_with_certificates("new", "change", "2222");
  // The old phone, online, is wiped on its next sync and acknowledges.
  auto sync = smacert("--lang ja phone sync --dir " + sh(path("old")) + " --wait 10");
  ASSERT_EQ(sync.rc, 0) << sync.output;
  EXPECT_NE(sync.output.find("古いスマホの電子証明書を削除しました"), std::string::npos)
      << sync.output;
  auto wiped = json_of(smacert("--json phone status --dir " + sh(path("old"))));
  EXPECT_TRUE(wiped["wiped"].get<bool>());
  auto check_old = smacert("phone check --dir " + sh(path("old")) + " --auth-pin 1111");
  EXPECT_EQ(check_old.rc, 1) << check_old.output;

  // Biometrics on the new phone, then the operation check with them.
  ASSERT_EQ(smacert("phone biometrics enroll --dir " + sh(path("new")) + " --auth-pin 2222").rc, 0);
  auto check = smacert("phone check --dir " + sh(path("new")) + " --biometric");
  ASSERT_EQ(check.rc, 0) << check.output;

  // OCSP, asked by openssl: revoked (superseded) for the old serials, good for the new.
  auto new_status = json_of(smacert("--json phone status --dir " + sh(path("new"))));
  auto ocsp = [&](const std::string& serial, const std::string& kind) {
    auto rec = run("curl -s -H \"Authorization: Bearer $(cat " + sh(path("data/admin.token")) +
                   ")\" " + url_ + "/admin/v1/certificates/" + serial);
    auto j = nlohmann::json::parse(rec.output, nullptr, false);
    std::ofstream(path(serial + ".b64")) << j.value("certificate", "");
    run("base64 -d " + sh(path(serial + ".b64")) + " | openssl x509 -inform DER -out " +
        sh(path(serial + ".pem")));
    std::string ca =
        path(std::string("data/ca/") + (kind == "phone_sign" ? "sign" : "auth") + "/ca.pem");
    return run("openssl ocsp -issuer " + sh(ca) + " -cert " + sh(path(serial + ".pem")) + " -url " +
               url_ + "/ocsp/" + (kind == "phone_sign" ? "sign" : "auth") + " -CAfile " + sh(ca))
        .output;
  };
  for (const auto& c : old_certs) {
    auto out = ocsp(c["serial"], c["kind"]);
    EXPECT_NE(out.find("Response verify OK"), std::string::npos) << out;
    EXPECT_NE(out.find(": revoked"), std::string::npos) << out;
    EXPECT_NE(out.find("Reason: superseded"), std::string::npos) << out;
  }
  for (const auto& c : new_status["certificates"]) {
    auto out = ocsp(c["serial"], c["kind"]);
    EXPECT_NE(out.find("Response verify OK"), std::string::npos) << out;
    EXPECT_NE(out.find(": good"), std::string::npos) << out;
  }

  // A CMS signature from the new phone verifies with openssl, and its
  // certificate carries the holder's facts.
  run("printf '契約書\\n' > " + sh(path("doc.txt")));
  auto sign = smacert("phone sign --dir " + sh(path("new")) + " --sign-password PHONE12 --in " +
                      sh(path("doc.txt")) + " --out " + sh(path("doc.p7s")));
  ASSERT_EQ(sign.rc, 0) << sign.output;
  auto verify =
      run("openssl cms -verify -binary -inform DER -in " + sh(path("doc.p7s")) + " -content " +
          sh(path("doc.txt")) + " -CAfile " + sh(path("data/ca/sign/ca.pem")) + " -out /dev/null");
  EXPECT_EQ(verify.rc, 0) << verify.output;
  EXPECT_NE(verify.output.find("CMS Verification successful"), std::string::npos);
  auto facts = run("openssl pkcs7 -inform DER -print_certs -in " + sh(path("doc.p7s")) +
                   " | openssl x509 -noout -ext subjectAltName");
  EXPECT_NE(facts.output.find("1.2.392.200149.8.5.5.1::見本　花子"), std::string::npos)
      << facts.output;
}

TEST_F(DeviceChange, AnOfflineOldPhoneIsRevokedAtOnceAndErasedOnItsNextSync) {
  issue_card();
  phone_with_certificates("old", "apply", "1111");
  auto before = json_of(smacert("--json phone status --dir " + sh(path("old"))));
  // The old phone stays offline while the new one changes device …
  phone_with_certificates("new", "change", "2222");
  // … its certificates are already revoked (the service says so) …
  auto serial = before["certificates"][0]["serial"].get<std::string>();
  auto rec = run("curl -s -H \"Authorization: Bearer $(cat " + sh(path("data/admin.token")) +
                 ")\" " + url_ + "/admin/v1/certificates/" + serial);
  EXPECT_NE(rec.output.find("\"status\":\"revoked\""), std::string::npos) << rec.output;
  // … and when it comes back, it erases itself.
  auto sync = smacert("phone sync --dir " + sh(path("old")));
  ASSERT_EQ(sync.rc, 0) << sync.output;
  EXPECT_TRUE(
      json_of(smacert("--json phone status --dir " + sh(path("old"))))["wiped"].get<bool>());
}

TEST_F(DeviceChange, OnlyTheAuthCertificateChosen) {
  issue_card();
  phone_with_certificates("p", "apply", "1111", "auth");
  auto s = json_of(smacert("--json phone status --dir " + sh(path("p"))));
  ASSERT_EQ(s["certificates"].size(), 1u);
  EXPECT_EQ(s["certificates"][0]["kind"], "phone_auth");
  EXPECT_EQ(smacert("phone check --dir " + sh(path("p")) + " --auth-pin 1111").rc, 0);
}

TEST_F(DeviceChange, PasswordRulesAreCheckedBeforeAnythingIsSent) {
  issue_card();
  ASSERT_EQ(smacert("phone new --dir " + sh(path("p"))).rc, 0);
  auto apply = [&](const std::string& sign_pw, const std::string& extra = "") {
    return smacert("--lang ja phone apply --dir " + sh(path("p")) + " --card " +
                   sh(path("card.json")) + " --card-password WRONG1 --sign-password " + sign_pw +
                   " --auth-pin 1111 --agree " + extra);
  };
  for (std::string bad : {"ABC12", "ABCDEFGH123456789", "abc123", "ABCDEFG", "1234567"}) {
    auto r = apply(bad);
    EXPECT_EQ(r.rc, 2) << bad << ": " << r.output;
    EXPECT_NE(r.output.find("6~16ケタ、英大文字と数字の組み合わせ"), std::string::npos) << r.output;
  }
  auto mismatch = apply("ABC123", "--sign-password-confirm ABC124");
  EXPECT_EQ(mismatch.rc, 2);
  EXPECT_NE(mismatch.output.find("一致しません"), std::string::npos) << mismatch.output;
  auto pin = smacert("phone apply --dir " + sh(path("p")) + " --card " + sh(path("card.json")) +
                     " --card-password WRONG1 --sign-password ABC123 --auth-pin 12345 --agree");
  EXPECT_EQ(pin.rc, 2) << pin.output;
  // Nothing reached the card (the wrong card password above cost no try) nor
  // the service (no application).
  auto info = json_of(smacert("--json card info --card " + sh(path("card.json"))));
  EXPECT_EQ(info["pins"]["sign"]["tries_left"], 5) << info;
  auto s = json_of(smacert("--json phone status --dir " + sh(path("p"))));
  EXPECT_EQ(s["application_status"], "");
}

TEST_F(DeviceChange, WrongCardPasswordCountsDownAndLocksAtFive) {
  issue_card();
  ASSERT_EQ(smacert("phone new --dir " + sh(path("p"))).rc, 0);
  auto apply = [&](const std::string& card_pw) {
    return smacert("phone apply --dir " + sh(path("p")) + " --card " + sh(path("card.json")) +
                   " --card-password " + card_pw +
                   " --sign-password ABC123 --auth-pin 1111 --agree");
  };
  for (int i = 0; i < 4; ++i) {
    auto r = apply("WRONG1");
    EXPECT_EQ(r.rc, 1) << r.output;
    std::string left = 4 - i == 1 ? "1 try left" : std::to_string(4 - i) + " tries left";
    EXPECT_NE(r.output.find(left), std::string::npos) << r.output;
  }
  auto ok = apply("CARD1234");
  ASSERT_EQ(ok.rc, 0) << ok.output;  // a right entry resets the count
  ASSERT_EQ(smacert("phone new --dir " + sh(path("q"))).rc, 0);
  RunResult last;
  for (int i = 0; i < 5; ++i)
    last = smacert("phone apply --dir " + sh(path("q")) + " --card " + sh(path("card.json")) +
                   " --card-password WRONG1 --sign-password ABC123 --auth-pin 1111 --agree");
  EXPECT_EQ(last.rc, 4) << last.output;
  auto locked = smacert("phone apply --dir " + sh(path("q")) + " --card " + sh(path("card.json")) +
                        " --card-password CARD1234 --sign-password ABC123 --auth-pin 1111 --agree");
  EXPECT_EQ(locked.rc, 4) << locked.output;
}

TEST_F(DeviceChange, ThreeWrongPhonePinsLock) {
  issue_card();
  phone_with_certificates("p", "apply", "1111");
  for (int i = 0; i < 2; ++i)
    EXPECT_EQ(smacert("phone check --dir " + sh(path("p")) + " --auth-pin 9999").rc, 1);
  EXPECT_EQ(smacert("phone check --dir " + sh(path("p")) + " --auth-pin 9999").rc, 4);
  EXPECT_EQ(smacert("phone check --dir " + sh(path("p")) + " --auth-pin 1111").rc, 4);
}

TEST_F(DeviceChange, HotlineSuspensionFailsTheCheckUntilResumed) {
  issue_card();
  phone_with_certificates("p", "apply", "1111");
  auto s = smacert("counter suspend --card " + sh(path("card.json")) + " --phone");
  ASSERT_EQ(s.rc, 0) << s.output;
  auto check = smacert("phone check --dir " + sh(path("p")) + " --auth-pin 1111");
  EXPECT_EQ(check.rc, 3) << check.output;
  EXPECT_NE(check.output.find("suspended"), std::string::npos) << check.output;
  ASSERT_EQ(smacert("counter resume --card " + sh(path("card.json")) + " --phone").rc, 0);
  EXPECT_EQ(smacert("phone check --dir " + sh(path("p")) + " --auth-pin 1111").rc, 0);
}

TEST_F(DeviceChange, AnAddressChangeRevokesThePhoneSignatureCertificateOnly) {
  issue_card();
  phone_with_certificates("p", "apply", "1111");
  auto r = smacert("counter change-address --card " + sh(path("card.json")) +
                   " --address '大阪府大阪市北区中之島１－３－２０'");
  ASSERT_EQ(r.rc, 0) << r.output;
  auto s = json_of(smacert("--json phone status --dir " + sh(path("p")) + " --auth-pin 1111"));
  for (const auto& c : s["my_page"]["certificates"])
    EXPECT_EQ(c["status"], c["kind"] == "phone_sign" ? "revoked" : "active") << c;
  EXPECT_EQ(smacert("phone check --dir " + sh(path("p")) + " --auth-pin 1111").rc, 0);
}

TEST_F(DeviceChange, MyPageRevocationOfTheOtherPhoneAndOfThisOne) {
  issue_card();
  phone_with_certificates("a", "apply", "1111");
  phone_with_certificates("b", "change", "2222");
  // The device change already superseded a's certificates (a holder never
  // has two active phones), so My Page has nothing left to revoke there.
  auto r = smacert("phone revoke --dir " + sh(path("b")) + " --other-phone --auth-pin 2222");
  EXPECT_EQ(r.rc, 1) << r.output;
  EXPECT_NE(r.output.find("no other phone has active certificates"), std::string::npos) << r.output;
  // Revoke this phone (利用をやめる): its certificates go and it erases itself.
  auto self = smacert("--json phone revoke --dir " + sh(path("b")) + " --auth-pin 2222");
  ASSERT_EQ(self.rc, 0) << self.output;
  EXPECT_EQ(json_of(self)["revoked"].size(), 2u);
  EXPECT_NE(smacert("phone check --dir " + sh(path("b")) + " --auth-pin 2222").rc, 0);
}

}  // namespace
}  // namespace smacert::e2e

// A relying party against a real `smacert serve` on loopback: the CLI
// (`smacert verify cert|signature`, OCSP and CRL over HTTP, exit codes) and
// the /rp/v1 endpoints, for a card issued at the counter, then revoked and
// suspended there.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/encoding.h"
#include "core/files.h"
#include "http/client.h"
#include "pki/authority.h"
#include "pki/cms.h"
#include "protocol/canonical.h"
#include "rp/server_process.h"
#include "support/process.h"
#include "support/test_pki.h"

namespace smacert::rp {
namespace {

using smacert::testing::run;
using smacert::testing::sh;

struct IssuedKey {
  pki::PkeyPtr key;
  pki::X509Ptr cert;
  std::string serial;
};

// A card issued at the counter (POST /admin/v1/cards) for software keys.
struct Card {
  IssuedKey sign, auth;
};

class RpServer : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.start());
    auto token = read_file(server_.data_dir() / "admin.token");
    ASSERT_TRUE(token);
    std::string t(as_chars(*token));
    while (!t.empty() && t.back() == '\n') t.pop_back();
    admin_token_ = t;
  }

  Card issue_card() {
    Card card;
    nlohmann::json body{{"name", "見本　太郎"},
                        {"address", "東京都千代田区霞が関１－２－３"},
                        {"birth_date", "1990-04-01"},
                        {"sex", 1}};
    pki::PkeyPtr keys[2];
    for (int i = 0; i < 2; ++i) {
      auto key = pki::generate_key(pki::KeyAlgorithm::rsa2048);
      EXPECT_TRUE(key);
      pki::SoftwareSigner s(pki::PkeyPtr(EVP_PKEY_dup(key->get())));
      auto csr = pki::make_csr(s, "csr");
      EXPECT_TRUE(csr);
      body[i == 0 ? "sign_csr" : "auth_csr"] = base64_encode(pki::to_der(csr->get()));
      keys[i] = std::move(*key);
    }
    auto [status, answer] = admin("/admin/v1/cards", body);
    EXPECT_EQ(status, 201) << answer.dump();
    for (const auto& c : answer["certificates"]) {
      auto der = base64_decode(c["certificate"].get<std::string>());
      EXPECT_TRUE(der);
      auto cert = pki::parse_certificate(*der);
      EXPECT_TRUE(cert);
      bool sign = c["kind"] == "card_sign";
      IssuedKey& k = sign ? card.sign : card.auth;
      k.key = std::move(keys[sign ? 0 : 1]);
      k.cert = std::move(*cert);
      k.serial = c["serial"].get<std::string>();
    }
    return card;
  }

  void set_status(const std::string& serial, const std::string& action,
                  const std::string& reason = {}) {
    nlohmann::json body = nlohmann::json::object();
    if (!reason.empty()) body["reason"] = reason;
    auto [status, answer] = admin("/admin/v1/certificates/" + serial + "/" + action, body);
    ASSERT_EQ(status, 200) << answer.dump();
  }

  std::string write(const std::string& name, std::string_view bytes) {
    auto p = server_.dir() / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p.string();
  }

  Bytes sign_document(const IssuedKey& k, ByteView data) {
    pki::SoftwareSigner s(pki::PkeyPtr(EVP_PKEY_dup(k.key.get())));
    auto cms = pki::cms_sign_detached(data, s, k.cert.get(), {}, std::chrono::system_clock::now());
    EXPECT_TRUE(cms) << cms.error().message;
    return cms ? *cms : Bytes{};
  }

  Bytes sign_login(const IssuedKey& k, const std::string& audience, const std::string& nonce) {
    pki::SoftwareSigner s(pki::PkeyPtr(EVP_PKEY_dup(k.key.get())));
    auto sig = s.sign_sha256(pki::sha256(protocol::login_bytes(audience, nonce)));
    EXPECT_TRUE(sig);
    return sig ? *sig : Bytes{};
  }

  // `smacert verify …` with the server's URL; exit code and combined output.
  smacert::testing::RunResult verify(const std::string& args) {
    return run(sh(testing::smacert_bin()) + " verify " + args + " --server " + sh(server_.url()));
  }

  // A POST to the service with its status and JSON body.
  std::pair<int, nlohmann::json> post(const std::string& path, const nlohmann::json& body,
                                      const http::Headers& headers = {}) {
    auto r = client_.post(server_.url() + path, body.dump(), "application/json", headers);
    EXPECT_TRUE(r) << r.error().message;
    if (!r) return {0, {}};
    return {r->status, nlohmann::json::parse(r->body, nullptr, false)};
  }

  // The counter's calls, with the admin token.
  std::pair<int, nlohmann::json> admin(const std::string& path, const nlohmann::json& body) {
    http::Headers h;
    h.set("Authorization", "Bearer " + admin_token_);
    return post(path, body, h);
  }

  testing::ServerProcess server_;
  std::string admin_token_;
  http::Client client_;
};

TEST_F(RpServer, VerifyCertOverOcspAndCrlWithExitCodes) {
  Card card = issue_card();
  ASSERT_TRUE(card.sign.cert && card.auth.cert);
  auto sign_pem = write("sign.pem", pki::to_pem(card.sign.cert.get()));
  auto auth_pem = write("auth.pem", pki::to_pem(card.auth.cert.get()));

  // Good, with the four facts, in English and Japanese, and as JSON.
  auto r = verify("cert --cert " + sh(sign_pem) + " --lang en");
  EXPECT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("Name: 見本　太郎"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Date of birth: 1990-04-01 (Heisei)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("good (OCSP)"), std::string::npos) << r.output;
  r = verify("cert --cert " + sh(sign_pem) + " --lang ja");
  EXPECT_EQ(r.rc, 0) << r.output;
  for (const char* label :
       {"氏名: 見本　太郎", "住所: 東京都千代田区", "生年月日: 1990-04-01 (平成)", "性別: 男"})
    EXPECT_NE(r.output.find(label), std::string::npos) << label << "\n" << r.output;
  r = run(sh(testing::smacert_bin()) + " --json verify cert --cert " + sh(sign_pem) + " --server " +
          sh(server_.url()) + " 2>/dev/null");
  EXPECT_EQ(r.rc, 0) << r.output;
  auto doc = nlohmann::json::parse(r.output, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << r.output;
  EXPECT_EQ(doc["valid"], true);
  EXPECT_EQ(doc["certificate"]["serial"], card.sign.serial);
  EXPECT_EQ(doc["certificate"]["kind"], "card_sign");
  EXPECT_EQ(doc["facts"]["birth_date"], "1990-04-01");
  EXPECT_EQ(doc["facts"]["sex"], 1);
  r = verify("cert --crl --cert " + sh(auth_pem));
  EXPECT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("(CRL)"), std::string::npos) << r.output;

  // Revoked at the counter: OCSP and the CRL both say so, with the reason.
  set_status(card.sign.serial, "revoke", "keyCompromise");
  r = verify("cert --cert " + sh(sign_pem) + " --lang en");
  EXPECT_EQ(r.rc, 1) << r.output;
  EXPECT_NE(r.output.find("revoked (keyCompromise"), std::string::npos) << r.output;
  r = verify("cert --crl --cert " + sh(sign_pem) + " --lang en");
  EXPECT_EQ(r.rc, 1) << r.output;
  EXPECT_NE(r.output.find("revoked (CRL, keyCompromise"), std::string::npos) << r.output;

  // Suspended by the 24/7 line.
  set_status(card.auth.serial, "suspend");
  r = verify("cert --cert " + sh(auth_pem) + " --lang en");
  EXPECT_EQ(r.rc, 1) << r.output;
  EXPECT_NE(r.output.find("suspended"), std::string::npos) << r.output;

  // A certificate of another CA does not chain.
  pki::PkiConfig p256;
  p256.algorithm = pki::KeyAlgorithm::p256;
  smacert::testing::TestPki other(p256);
  auto foreign =
      other.issue(pki::CertificateKind::card_sign, std::nullopt, pki::KeyAlgorithm::p256);
  r = verify("cert --cert " + sh(write("foreign.pem", pki::to_pem(foreign.cert.get()))));
  EXPECT_EQ(r.rc, 1) << r.output;
  EXPECT_NE(r.output.find("does not chain"), std::string::npos) << r.output;

  // With the responder gone, the roots come from the data folder and the
  // OCSP check cannot be made: exit 5.
  EXPECT_EQ(server_.stop(), 0);
  r = run(sh(testing::smacert_bin()) + " verify cert --cert " + sh(auth_pem) + " --ca-dir " +
          sh(server_.data_dir().string()));
  EXPECT_EQ(r.rc, 5) << r.output;
  EXPECT_NE(r.output.find("cannot be reached"), std::string::npos) << r.output;
}

TEST_F(RpServer, VerifySignatureCommand) {
  Card card = issue_card();
  ASSERT_TRUE(card.sign.cert);
  std::string text = "申込書: 口座開設\n";
  auto in = write("doc.txt", text);
  auto p7s = sign_document(card.sign, as_bytes(text));
  auto sig = write("doc.p7s", as_chars(p7s));

  auto r = verify("signature --in " + sh(in) + " --sig " + sh(sig) + " --lang en");
  EXPECT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("The signature is valid"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Address: 東京都千代田区霞が関１－２－３"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("Sex: male"), std::string::npos) << r.output;
  // Roots from the data folder instead of the server, revocation by CRL.
  r = run(sh(testing::smacert_bin()) + " verify signature --in " + sh(in) + " --sig " + sh(sig) +
          " --crl --ca-dir " + sh(server_.data_dir().string()));
  EXPECT_EQ(r.rc, 0) << r.output;

  auto tampered = write("tampered.txt", "申込書: 口座解約\n");
  r = verify("signature --in " + sh(tampered) + " --sig " + sh(sig));
  EXPECT_EQ(r.rc, 1) << r.output;
  EXPECT_NE(r.output.find("does not verify"), std::string::npos) << r.output;

  set_status(card.sign.serial, "revoke", "affiliationChanged");
  r = verify("signature --in " + sh(in) + " --sig " + sh(sig));
  EXPECT_EQ(r.rc, 1) << r.output;
  EXPECT_NE(r.output.find("revoked (affiliationChanged"), std::string::npos) << r.output;
}

TEST_F(RpServer, RelyingPartyEndpoints) {
  Card card = issue_card();
  ASSERT_TRUE(card.sign.cert && card.auth.cert);

  // POST /rp/v1/signatures/verify
  std::string text = "order #42";
  auto p7s = sign_document(card.sign, as_bytes(text));
  auto [status, body] = post("/rp/v1/signatures/verify", {{"data", base64_encode(as_bytes(text))},
                                                          {"signature", base64_encode(p7s)}});
  EXPECT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["valid"], true);
  EXPECT_EQ(body["signer"]["serial"], card.sign.serial);
  EXPECT_EQ(body["facts"]["name"], "見本　太郎");
  EXPECT_EQ(body["facts"]["birth_date"], "1990-04-01");
  EXPECT_EQ(body["facts"]["sex"], 1);
  EXPECT_TRUE(body["signing_time"].is_string());
  std::tie(status, body) =
      post("/rp/v1/signatures/verify",
           {{"data", base64_encode(as_bytes("order #43"))}, {"signature", base64_encode(p7s)}});
  EXPECT_EQ(status, 422) << body.dump();
  std::tie(status, body) = post("/rp/v1/signatures/verify",
                                {{"data", "x"}, {"signature", base64_encode(p7s)}, {"extra", 1}});
  EXPECT_EQ(status, 400) << body.dump();

  // POST /rp/v1/challenges, then /rp/v1/logins.
  std::tie(status, body) = post("/rp/v1/challenges", {{"audience", "bank.example"}});
  ASSERT_EQ(status, 201) << body.dump();
  EXPECT_EQ(body["audience"], "bank.example");
  std::string nonce = body["nonce"];
  nlohmann::json login{{"certificate", base64_encode(pki::to_der(card.auth.cert.get()))},
                       {"nonce", nonce},
                       {"signature", base64_encode(sign_login(card.auth, "bank.example", nonce))}};
  std::tie(status, body) = post("/rp/v1/logins", login);
  EXPECT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["status"], "ok");
  EXPECT_EQ(body["serial"], card.auth.serial);
  EXPECT_TRUE(body["not_after"].is_string());
  EXPECT_TRUE(body["subject"].is_string());
  std::tie(status, body) = post("/rp/v1/logins", login);  // the same nonce again
  EXPECT_EQ(status, 409) << body.dump();
  EXPECT_NE(body["message"].get<std::string>().find("already used"), std::string::npos);

  // Bound to bank.example: a signature for another audience fails, and so
  // does claiming another audience.
  for (bool claim : {false, true}) {
    std::tie(status, body) = post("/rp/v1/challenges", {{"audience", "bank.example"}});
    ASSERT_EQ(status, 201);
    nonce = body["nonce"];
    login["nonce"] = nonce;
    login["signature"] = base64_encode(sign_login(card.auth, "evil.example", nonce));
    if (claim) login["audience"] = "evil.example";
    std::tie(status, body) = post("/rp/v1/logins", login);
    EXPECT_EQ(status, 422) << body.dump();
  }
  // Unbound: the login names its audience (as `smacert phone login --rp URL`
  // does), and the answer repeats it for the relying party to check.
  std::tie(status, body) = post("/rp/v1/challenges", nlohmann::json::object());
  ASSERT_EQ(status, 201);
  EXPECT_FALSE(body.contains("audience"));
  nonce = body["nonce"];
  login["nonce"] = nonce;
  login["audience"] = "https://shop.example";
  login["signature"] = base64_encode(sign_login(card.auth, "https://shop.example", nonce));
  std::tie(status, body) = post("/rp/v1/logins", login);
  EXPECT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["audience"], "https://shop.example");
  login.erase("audience");
  const std::string default_audience = "smacert-rp";

  // Suspended at the hotline: the login is refused and says why.
  set_status(card.auth.serial, "suspend");
  std::tie(status, body) = post("/rp/v1/challenges", nlohmann::json::object());
  nonce = body["nonce"];
  login["nonce"] = nonce;
  login["signature"] = base64_encode(sign_login(card.auth, default_audience, nonce));
  std::tie(status, body) = post("/rp/v1/logins", login);
  EXPECT_EQ(status, 403) << body.dump();
  EXPECT_NE(body["message"].get<std::string>().find("suspended"), std::string::npos);

  // Revoked: so is the signature.
  set_status(card.sign.serial, "revoke", "cessationOfOperation");
  std::tie(status, body) =
      post("/rp/v1/signatures/verify",
           {{"data", base64_encode(as_bytes(text))}, {"signature", base64_encode(p7s)}});
  EXPECT_EQ(status, 422) << body.dump();
  EXPECT_NE(body["message"].get<std::string>().find("revoked (cessationOfOperation"),
            std::string::npos)
      << body.dump();

  // A nonce that was never issued.
  login["nonce"] = "never-issued";
  std::tie(status, body) = post("/rp/v1/logins", login);
  EXPECT_EQ(status, 422) << body.dump();
}

}  // namespace
}  // namespace smacert::rp

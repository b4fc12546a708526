// Every rejection the issue lists, against the real server: each answer is
// a clear 4xx with {"error","message"}, and the store is byte-for-byte
// unchanged (every row of every table), not only the status code.
#include <openssl/x509.h>

#include "core/encoding.h"
#include "integration/support/live_server.h"
#include "pki/signer.h"
#include "protocol/canonical.h"

namespace smacert::integration {
namespace {

class Rejections : public LiveServerTest {
 protected:
  void SetUp() override {
    LiveServerTest::SetUp();
    card_ = issue_card(api());
    phone_ = make_phone(2, 3);
  }

  // The answer is `status` with an error code and a sentence, and nothing changed.
  void expect_rejected(const Reply& r, int status, const std::vector<std::string>& before,
                       const std::string& what) {
    EXPECT_EQ(r.status, status) << what << ": " << r;
    EXPECT_FALSE(r.error_code().empty()) << what << ": " << r;
    EXPECT_FALSE(r.message().empty()) << what << ": " << r;
    EXPECT_TRUE(same_rows(before, rows())) << what;
  }
  nlohmann::json valid_application(const std::string& kind = "new") {
    ApplicationSpec spec;
    spec.kind = kind;
    spec.challenge = api().challenge();
    return application_body(card_, phone_, spec);
  }
  // Re-signs a body edited after signing, as a card would sign the edited one.
  nlohmann::json resigned(nlohmann::json body, const SoftCard& card) {
    auto b = [&](const char* k) -> Bytes {
      return body["csrs"].contains(k) ? *base64_decode(body["csrs"][k].get<std::string>())
                                      : Bytes{};
    };
    auto serial = pki::serial_hex(X509_get0_serialNumber(
        pki::parse_certificate(*base64_decode(body["card_certificate"].get<std::string>()))
            ->get()));
    auto str = [&](const nlohmann::json& j) { return j.get<std::string>(); };
    protocol::ApplicationFields f{str(body["kind"]),
                                  str(body["challenge"]),
                                  str(body["device"]["id"]),
                                  str(body["device"]["platform"]),
                                  str(body["device"]["model"]),
                                  serial,
                                  b("sign"),
                                  b("auth"),
                                  body["consents"]["terms"].get<bool>(),
                                  body["consents"]["revoke_old"].get<bool>()};
    body["card_signature"] =
        base64_encode(sign_with(card.sign_key, protocol::application_bytes(f)));
    return body;
  }
  Reply post_application(const nlohmann::json& body) {
    return api().post("/v1/applications", body);
  }
  Reply post_raw(const std::string& path, const std::string& body, const std::string& bearer = {}) {
    http::Headers h{{"Content-Type", "application/json"}};
    if (!bearer.empty()) h.set("Authorization", "Bearer " + bearer);
    return api().raw("POST", path, body, h);
  }
  // A phone with an issued, unregistered application.
  void apply_phone() {
    auto r = apply(api(), card_, phone_);
    ASSERT_EQ(r.status, 202) << r;
  }

  SoftCard card_;
  SoftPhone phone_;
};

TEST_F(Rejections, MalformedJsonOnEveryJsonEndpoint) {
  apply_phone();
  const std::string token = server().admin_token();
  std::vector<std::pair<std::string, std::string>> endpoints{
      {"/v1/challenges", ""},
      {"/v1/applications", ""},
      {"/v1/applications/" + phone_.application_id + "/registration", phone_.token},
      {"/v1/devices/" + phone_.device_id + "/wipe-ack", phone_.token},
      {"/v1/sessions", ""},
      {"/v1/certificates/00/revoke", ""},
      {"/admin/v1/cards", token},
      {"/admin/v1/holders/" + card_.holder_id + "/records", token},
      {"/admin/v1/certificates/" + card_.sign_serial + "/suspend", token},
      {"/admin/v1/clock", token}};
  auto before = rows();
  for (const auto& [path, bearer] : endpoints)
    for (std::string body :
         {"{\"kind\": ", "[1, 2]", "\"text\"", "{\"a\":1}{", "\xff\xfe{}", "nul"})
      expect_rejected(post_raw(path, body, bearer), 400, before, path + " with " + body);
}

TEST_F(Rejections, MissingFieldsOfAnApplication) {
  auto valid = valid_application();
  auto before = rows();
  for (const char* field :
       {"kind", "challenge", "device", "card_certificate", "card_signature", "csrs", "consents"}) {
    auto body = valid;
    body.erase(field);
    expect_rejected(post_application(body), 400, before, std::string("without ") + field);
  }
  for (const char* field : {"id", "platform"}) {
    auto body = valid;
    body["device"].erase(field);
    expect_rejected(post_application(body), 400, before, std::string("without device.") + field);
  }
  auto no_csr = valid;
  no_csr["csrs"] = nlohmann::json::object();
  expect_rejected(post_application(resigned(no_csr, card_)), 400, before, "without any CSR");

  auto card = card_request(card_.sign_key, card_.auth_key);
  for (const char* field : {"name", "address", "birth_date", "sex", "auth_csr"}) {
    auto body = card;
    body.erase(field);
    expect_rejected(api().admin("/admin/v1/cards", body), 400, before,
                    std::string("card without ") + field);
  }
  expect_rejected(api().post("/v1/sessions", {{"nonce", "x"}}), 400, before, "session");
}

TEST_F(Rejections, WrongTypesAndUnknownFields) {
  auto valid = valid_application();
  auto before = rows();
  std::vector<std::pair<std::string, std::function<void(nlohmann::json&)>>> edits{
      {"kind number", [](auto& b) { b["kind"] = 5; }},
      {"challenge array", [](auto& b) { b["challenge"] = nlohmann::json::array(); }},
      {"device string", [](auto& b) { b["device"] = "phone"; }},
      {"device.id number", [](auto& b) { b["device"]["id"] = 12345678; }},
      {"card_certificate number", [](auto& b) { b["card_certificate"] = 12; }},
      {"card_certificate not base64", [](auto& b) { b["card_certificate"] = "%%%not base64%%%"; }},
      {"card_certificate not DER", [](auto& b) { b["card_certificate"] = "AAAA"; }},
      {"csrs.sign bool", [](auto& b) { b["csrs"]["sign"] = true; }},
      {"consents.terms string", [](auto& b) { b["consents"]["terms"] = "yes"; }},
      {"unknown field", [](auto& b) { b["kindd"] = "new"; }},
      {"unknown device field", [](auto& b) { b["device"]["imei"] = "1"; }},
      {"kind unknown", [](auto& b) { b["kind"] = "upgrade"; }},
      {"platform unknown", [](auto& b) { b["device"]["platform"] = "symbian"; }},
      {"device id too short", [](auto& b) { b["device"]["id"] = "abc"; }},
  };
  for (const auto& [what, edit] : edits) {
    auto body = valid;
    edit(body);
    auto r = post_application(body);
    expect_rejected(r, 400, before, what);
  }
  auto card = card_request(card_.sign_key, card_.auth_key);
  for (auto [what, value] :
       {std::pair{"sex string", nlohmann::json("2")}, std::pair{"sex 10", nlohmann::json(10)},
        std::pair{"sex float", nlohmann::json(1.5)}}) {
    auto body = card;
    body["sex"] = value;
    expect_rejected(api().admin("/admin/v1/cards", body), 400, before, what);
  }
  expect_rejected(api().post("/v1/challenges", {{"purpose", "anything"}}), 400, before,
                  "challenge purpose");
}

TEST_F(Rejections, OversizedBodiesAre413) {
  apply_phone();
  auto body = valid_application();
  body["card_signature"] = std::string(80 * 1024, 'A');
  auto model = valid_application();
  model["device"]["model"] = std::string(65, 'm');
  auto before = rows();
  expect_rejected(post_application(body), 413, before, "application of 80 KiB");
  auto card = card_request(card_.sign_key, card_.auth_key);
  card["name"] = std::string(100 * 1024, 'x');
  expect_rejected(api().admin("/admin/v1/cards", card), 413, before, "card of 100 KiB");
  expect_rejected(post_raw("/v1/applications/" + phone_.application_id + "/registration",
                           std::string(2 * 1024 * 1024, ' '), phone_.token),
                  413, before, "registration of 2 MiB");
  // A field over its own bound inside a small body: 400.
  expect_rejected(post_application(model), 400, before, "device.model over 64 bytes");
}

TEST_F(Rejections, ReplayedChallenge) {
  auto body = valid_application();
  auto first = apply_body(api(), phone_, body);
  ASSERT_EQ(first.status, 202) << first;
  // The same challenge again, for another phone of another holder.
  auto other_card = issue_card(api());
  auto other = make_phone(4, 5);
  auto replay = application_body(other_card, other,
                                 application_spec("new", body["challenge"].get<std::string>()));
  auto before = rows();
  expect_rejected(post_application(replay), 409, before, "replayed challenge");
  // A challenge of another purpose.
  auto session_nonce = api().challenge("session");
  before = rows();
  expect_rejected(
      post_application(application_body(other_card, other, application_spec("new", session_nonce))),
      400, before, "session nonce used for an application");
  expect_rejected(post_application(
                      application_body(other_card, other, application_spec("new", "never-issued"))),
                  404, before, "unknown challenge");
}

TEST_F(Rejections, ExpiredChallenge) {
  auto body = valid_application();
  api().advance_clock(301);  // challenges.ttl is 300 s
  auto before = rows();
  expect_rejected(post_application(body), 410, before, "expired challenge");
}

TEST_F(Rejections, TamperedCardSignature) {
  auto before_body = valid_application();
  auto before = rows();
  auto flipped = before_body;
  auto sig = *base64_decode(flipped["card_signature"].get<std::string>());
  sig[sig.size() / 2] ^= 0x01;
  flipped["card_signature"] = base64_encode(sig);
  expect_rejected(post_application(flipped), 422, before, "flipped signature bit");
  // Signed, then changed: another device id, or the revoke consent added.
  auto moved = before_body;
  moved["device"]["id"] = unique_id("thief");
  expect_rejected(post_application(moved), 422, before, "device id changed after signing");
  auto other_csr = before_body;
  other_csr["csrs"]["sign"] = base64_encode(csr_for(shared_key(6)));
  expect_rejected(post_application(other_csr), 422, before, "CSR swapped after signing");
  // Signed by another card's key.
  auto wrong_key = before_body;
  SoftCard impostor = card_;
  impostor.sign_key = shared_key(7);
  expect_rejected(post_application(resigned(wrong_key, impostor)), 422, before,
                  "signed by another key");
}

TEST_F(Rejections, CardCertificateFromAForeignCa) {
  auto real = pki::parse_certificate(card_.sign_cert);
  ASSERT_TRUE(real);
  std::vector<nlohmann::json> bodies{valid_application(), valid_application(), valid_application()};
  auto before = rows();
  // Same subject, serial, issuer name and key as the real card, but signed by
  // another key (a look-alike CA); then a CA with a name of its own.
  for (bool own_name : {false, true}) {
    pki::X509Ptr forged(X509_dup(real->get()));
    if (own_name) {
      pki::X509NamePtr name(X509_NAME_new());
      X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>("Foreign CA"), -1, -1, 0);
      X509_set_issuer_name(forged.get(), name.get());
    }
    ASSERT_GT(X509_sign(forged.get(), shared_key(8), EVP_sha256()), 0);
    auto& body = bodies[own_name ? 1 : 0];
    body["card_certificate"] = base64_encode(pki::to_der(forged.get()));
    expect_rejected(post_application(resigned(body, card_)), 422, before,
                    own_name ? "foreign CA" : "look-alike CA");
  }
  // Our auth CA's card certificate is not a signature certificate.
  auto& body = bodies[2];
  body["card_certificate"] = base64_encode(card_.auth_cert);
  SoftCard auth_as_sign = card_;
  auth_as_sign.sign_key = card_.auth_key;
  expect_rejected(post_application(resigned(body, auth_as_sign)), 422, before,
                  "card auth certificate as signature certificate");
}

TEST_F(Rejections, SuspendedOrRevokedCardCertificate) {
  auto s = api().admin("/admin/v1/certificates/" + card_.sign_serial + "/suspend",
                       nlohmann::json::object());
  ASSERT_EQ(s.status, 200) << s;
  auto body = valid_application();
  auto before = rows();
  expect_rejected(post_application(body), 403, before, "suspended card");
  auto r = api().admin("/admin/v1/certificates/" + card_.sign_serial + "/revoke",
                       {{"reason", "keyCompromise"}});
  ASSERT_EQ(r.status, 200) << r;
  before = rows();
  expect_rejected(post_application(body), 403, before, "revoked card");
}

TEST_F(Rejections, CsrForAKeyThePhoneDoesNotHold) {
  // The CSR names key 6 but is signed by key 2: no proof of possession.
  auto csr = pki::parse_csr(csr_for(phone_.sign_key));
  ASSERT_TRUE(csr);
  X509_REQ_set_pubkey(csr->get(), shared_key(6));
  ASSERT_GT(X509_REQ_sign(csr->get(), phone_.sign_key, EVP_sha256()), 0);
  auto body = valid_application();
  body["csrs"]["sign"] = base64_encode(pki::to_der(csr->get()));
  auto before = rows();
  expect_rejected(post_application(resigned(body, card_)), 422, before, "CSR without possession");
}

TEST_F(Rejections, WeakKeys) {
  auto weak = new_rsa_key(1024);
  auto body = valid_application();
  body["csrs"]["auth"] = base64_encode(csr_for(weak.get()));
  auto before = rows();
  expect_rejected(post_application(resigned(body, card_)), 422, before, "RSA-1024 phone key");
  auto card = card_request(card_.sign_key, weak.get());
  expect_rejected(api().admin("/admin/v1/cards", card), 422, before, "RSA-1024 card key");
}

TEST_F(Rejections, DeviceChangeWithoutConsentAndNewWhileAnotherPhoneIsActive) {
  apply_phone();
  auto second = make_phone(4, 5);
  auto before = rows();
  ApplicationSpec no_consent;
  no_consent.kind = "device_change";
  no_consent.revoke_old = false;
  no_consent.challenge = api().challenge();
  before = rows();
  expect_rejected(post_application(application_body(card_, second, no_consent)), 400, before,
                  "device change without consent");
  ApplicationSpec no_terms;
  no_terms.kind = "device_change";
  no_terms.terms = false;
  no_terms.challenge = api().challenge();
  before = rows();
  expect_rejected(post_application(application_body(card_, second, no_terms)), 400, before,
                  "device change without the terms");
  // A first application cannot take over from the active phone either.
  ApplicationSpec as_new;
  as_new.challenge = api().challenge();
  before = rows();
  expect_rejected(post_application(application_body(card_, second, as_new)), 409, before,
                  "new application while another phone is active");
  for (const auto& c : view().certificates_of_device(phone_.device_id))
    EXPECT_EQ(c.status, "active");
}

TEST_F(Rejections, RegistrationWithTheWrongKeyTokenOrNonce) {
  apply_phone();
  const std::string path = "/v1/applications/" + phone_.application_id + "/registration";
  auto wrong = registration_body(api(), phone_, shared_key(6), phone_.auth_key);
  auto before = rows();
  expect_rejected(api().post(path, wrong, phone_.token), 422, before, "wrong sign key");
  auto half = registration_body(api(), phone_, phone_.sign_key, nullptr);
  before = rows();
  expect_rejected(api().post(path, half, phone_.token), 400, before, "no auth signature");
  auto good = registration_body(api(), phone_, phone_.sign_key, phone_.auth_key);
  before = rows();
  expect_rejected(api().post(path, good, "not-the-token"), 404, before, "wrong device token");
  // A nonce made for another application.
  auto other_nonce = api().challenge("registration", "app-other");
  auto foreign = good;
  foreign["nonce"] = other_nonce;
  before = rows();
  expect_rejected(api().post(path, foreign, phone_.token), 400, before,
                  "nonce of another application");
  EXPECT_EQ(view().application(phone_.application_id)->status, "issued");
  // The good one still works afterwards.
  EXPECT_EQ(api().post(path, good, phone_.token).status, 200);
}

TEST_F(Rejections, AdminCallsWithoutOrWithAWrongToken) {
  const std::string token = server().admin_token();
  auto card = card_request(card_.sign_key, card_.auth_key);
  std::vector<std::pair<std::string, nlohmann::json>> calls{
      {"/admin/v1/cards", card},
      {"/admin/v1/holders/" + card_.holder_id + "/records", {{"name", "別人　太郎"}}},
      {"/admin/v1/certificates/" + card_.sign_serial + "/revoke", nlohmann::json::object()},
      {"/admin/v1/certificates/" + card_.sign_serial + "/suspend", nlohmann::json::object()},
      {"/admin/v1/clock", {{"advance", 86400}}}};
  auto before = rows();
  for (const auto& [path, body] : calls) {
    const std::vector<std::string> headers{"",
                                           "Bearer",
                                           "Bearer wrong",
                                           "Bearer " + token + "x",
                                           "Bearer " + token.substr(1),
                                           "Basic " + token,
                                           "bearer " + token};
    for (const std::string& auth : headers) {
      http::Headers h{{"Content-Type", "application/json"}};
      if (!auth.empty()) h.set("Authorization", auth);
      expect_rejected(api().raw("POST", path, body.dump(), h), 401, before,
                      path + " with '" + auth.substr(0, 10) + "'");
    }
  }
}

TEST_F(Rejections, DeviceCallsWithAWrongToken) {
  apply_phone();
  auto before = rows();
  expect_rejected(api().get("/v1/devices/" + phone_.device_id + "/events?format=json", "wrong"),
                  401, before, "events with a wrong token");
  expect_rejected(api().get("/v1/devices/" + phone_.device_id + "/events"), 401, before,
                  "event stream without a token");
  expect_rejected(api().get("/v1/applications/" + phone_.application_id, "wrong"), 404, before,
                  "application with a wrong token");
  expect_rejected(
      api().post("/v1/devices/" + phone_.device_id + "/wipe-ack", {{"seq", 1}}, "wrong"), 401,
      before, "wipe-ack with a wrong token");
  expect_rejected(
      api().post("/v1/devices/" + phone_.device_id + "/wipe-ack", {{"seq", 1}}, phone_.token), 409,
      before, "wipe-ack of a phone not asked to wipe");
  expect_rejected(api().get("/v1/me/certificates", "no-session"), 401, before, "My Page");
}

}  // namespace
}  // namespace smacert::integration

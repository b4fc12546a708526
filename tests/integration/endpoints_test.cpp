// Every endpoint on its success path, against the real server process: the
// public ones (health, metrics, CA, OCSP, CRL), the phone app's flow of the
// seed (apply, push, register, login, My Page, device change, wipe) and the
// counter's lifecycle actions; each result is checked in the store and at
// the OCSP responder, not only in the status code.
#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>

#include "core/encoding.h"
#include "integration/support/live_server.h"
#include "pki/key.h"
#include "pki/signer.h"
#include "protocol/canonical.h"

namespace smacert::integration {
namespace {

using pki::RevocationReason;

class Endpoints : public LiveServerTest {
 protected:
  TimePoint now() { return api().advance_clock(0); }

  pki::CertStatus status_of(const std::string& ca, const Bytes& der) {
    auto issuer = api().ca_certificate(ca);
    auto st = api().ocsp(ca, der, issuer.get(), now());
    EXPECT_TRUE(st) << st.error().message;
    return st ? *st : pki::CertStatus{pki::Unknown{}};
  }
  static bool good(const pki::CertStatus& s) { return std::holds_alternative<pki::Good>(s); }
  static bool revoked(const pki::CertStatus& s, RevocationReason r) {
    auto* rv = std::get_if<pki::Revoked>(&s);
    return rv != nullptr && rv->reason == r;
  }

  // Checks the service's signature on a push event (payload from the store or the wire).
  void expect_signed_event(const std::string& device, const std::string& payload_json,
                           const std::string& type, const std::string& push_key_b64) {
    auto payload = nlohmann::json::parse(payload_json);
    EXPECT_EQ(payload.value("type", ""), type);
    EXPECT_EQ(payload.value("device", ""), device);
    auto key = pki::parse_public_key_der(*base64_decode(push_key_b64));
    ASSERT_TRUE(key);
    auto sig = base64_decode(payload.value("signature", ""));
    ASSERT_TRUE(sig);
    EXPECT_TRUE(pki::verify_sha256_signature(
        key->get(), protocol::event_bytes(device, type, payload.value("data", "")), *sig))
        << "the " << type << " event for " << device << " is not signed by the push key";
  }

  std::string login(const SoftPhone& phone, const Bytes& auth_cert) {
    std::string nonce = api().challenge("session");
    auto r = api().post(
        "/v1/sessions",
        {{"certificate", base64_encode(auth_cert)},
         {"nonce", nonce},
         {"signature",
          base64_encode(sign_with(phone.auth_key, protocol::login_bytes("smacert", nonce)))}});
    EXPECT_EQ(r.status, 201) << r;
    return r.json.is_object() ? r.json.value("token", "") : "";
  }
};

TEST_F(Endpoints, PublicHealthMetricsAndCaCertificates) {
  auto h = api().get("/healthz");
  EXPECT_EQ(h.status, 200) << h;
  EXPECT_EQ(h.json.value("status", ""), "ok");

  auto m = api().get("/metrics");
  EXPECT_EQ(m.status, 200) << m;
  for (const char* name : {"smacert_certificates_issued_total", "smacert_applications_waiting",
                           "smacert_ocsp_responses", "smacert_ocsp_memory_bytes"})
    EXPECT_NE(m.body.find(name), std::string::npos) << name;

  for (std::string kind : {"sign", "auth"}) {
    auto r = api().get("/ca/" + kind + ".pem");
    ASSERT_EQ(r.status, 200) << r;
    std::ifstream f(server().ca_pem(kind));
    std::stringstream file;
    file << f.rdbuf();
    EXPECT_EQ(r.body, file.str()) << "/ca/" << kind << ".pem is not the CA of the data folder";
  }
}

TEST_F(Endpoints, CrlsAreSignedByTheirCaAndUnknownPathsAre404) {
  for (std::string kind : {"sign", "auth"}) {
    auto r = api().get("/crl/" + kind + ".crl");
    ASSERT_EQ(r.status, 200) << r;
    const unsigned char* p = reinterpret_cast<const unsigned char*>(r.body.data());
    pki::X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(r.body.size())));
    ASSERT_TRUE(crl) << kind << ".crl is not DER";
    auto ca = api().ca_certificate(kind);
    EXPECT_EQ(X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_subject_name(ca.get())), 0);
    EXPECT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(ca.get())), 1);
  }
  auto nope = api().get("/crl/other.crl");
  EXPECT_EQ(nope.status, 404) << nope;
  EXPECT_FALSE(nope.message().empty());
  auto ocsp = api().raw("POST", "/ocsp/other", "x", {{"Content-Type", "application/ocsp-request"}});
  EXPECT_EQ(ocsp.status, 404) << ocsp;
}

TEST_F(Endpoints, OcspAnswersMalformedAndUnknownRequests) {
  auto bad =
      api().raw("POST", "/ocsp/sign", "not DER", {{"Content-Type", "application/ocsp-request"}});
  ASSERT_EQ(bad.status, 200) << bad;
  const unsigned char* p = reinterpret_cast<const unsigned char*>(bad.body.data());
  pki::OcspResponsePtr resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(bad.body.size())));
  ASSERT_TRUE(resp);
  EXPECT_EQ(OCSP_response_status(resp.get()), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);

  // A certificate of our CA whose serial the store never saw: "unknown".
  auto card = issue_card(api());
  auto issued = pki::parse_certificate(card.sign_cert);
  ASSERT_TRUE(issued);
  pki::X509Ptr copy(X509_dup(issued->get()));
  pki::OsslPtr<ASN1_INTEGER, ASN1_INTEGER_free> serial(ASN1_INTEGER_new());
  ASN1_INTEGER_set(serial.get(), 0x5eed);
  X509_set_serialNumber(copy.get(), serial.get());
  ASSERT_GT(X509_sign(copy.get(), shared_key(9), EVP_sha256()), 0);  // re-encodes
  auto issuer = api().ca_certificate("sign");
  auto st = api().ocsp("sign", pki::to_der(copy.get()), issuer.get(), now());
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_TRUE(std::holds_alternative<pki::Unknown>(*st)) << "status index " << st->index();
  EXPECT_TRUE(good(status_of("sign", card.sign_cert)));
  EXPECT_TRUE(good(status_of("auth", card.auth_cert)));
}

// The seed from the first application to the old phone's wipe, over HTTP.
TEST_F(Endpoints, SeedFlowApplyPushRegisterLoginDeviceChangeWipe) {
  auto card = issue_card(api());
  EXPECT_EQ(view().certificates_of_holder(card.holder_id).size(), 2u);

  auto old_phone = make_phone(2, 3, "old");
  auto a = apply(api(), card, old_phone);
  ASSERT_EQ(a.status, 202) << a;
  EXPECT_EQ(a.json.value("status", ""), "issued");
  ASSERT_FALSE(old_phone.token.empty());
  std::string push_key = a.json.value("push_key", "");

  // The application and its certificates.
  auto g = api().get("/v1/applications/" + old_phone.application_id, old_phone.token);
  ASSERT_EQ(g.status, 200) << g;
  EXPECT_EQ(g.json.value("status", ""), "issued");
  EXPECT_EQ(g.json["certificates"].size(), 2u);
  auto certs = phone_certificates(api(), old_phone);
  ASSERT_EQ(certs.count("phone_sign"), 1u);
  ASSERT_EQ(certs.count("phone_auth"), 1u);
  EXPECT_TRUE(good(status_of("sign", certs["phone_sign"])));
  EXPECT_TRUE(good(status_of("auth", certs["phone_auth"])));

  // 登録準備が完了しています: as JSON and as a Server-Sent Events stream.
  auto ev =
      api().get("/v1/devices/" + old_phone.device_id + "/events?format=json", old_phone.token);
  ASSERT_EQ(ev.status, 200) << ev;
  ASSERT_EQ(ev.json["events"].size(), 1u);
  EXPECT_EQ(ev.json["events"][0].value("type", ""), "registration_ready");
  expect_signed_event(old_phone.device_id, ev.json["events"][0]["event"].dump(),
                      "registration_ready", push_key);
  http::Client sse;
  std::vector<http::SseEvent> streamed;
  auto read = sse.read_events(
      server().url() + "/v1/devices/" + old_phone.device_id + "/events", std::nullopt,
      [&](const http::SseEvent& e) {
        streamed.push_back(e);
        return false;
      },
      std::chrono::seconds(10), {{"Authorization", "Bearer " + old_phone.token}});
  ASSERT_TRUE(read) << read.error().message;
  ASSERT_EQ(streamed.size(), 1u);
  EXPECT_EQ(streamed[0].type, "registration_ready");
  expect_signed_event(old_phone.device_id, streamed[0].data, "registration_ready", push_key);

  // ⑫–⑬ registration, then the operation check (login) and My Page.
  auto reg = register_phone(api(), old_phone);
  ASSERT_EQ(reg.status, 200) << reg;
  EXPECT_EQ(view().application(old_phone.application_id)->status, "registered");
  std::string session = login(old_phone, certs["phone_auth"]);
  ASSERT_FALSE(session.empty());
  auto page = api().get("/v1/me/certificates", session);
  ASSERT_EQ(page.status, 200) << page;
  ASSERT_EQ(page.json["certificates"].size(), 2u);
  for (const auto& c : page.json["certificates"]) {
    EXPECT_TRUE(c.value("this_device", false));
    EXPECT_TRUE(c.value("registered", false));
    EXPECT_EQ(c.value("status", ""), "active");
  }

  // 機種変更 from the new phone: the old one is revoked (superseded) and told to wipe.
  auto new_phone = make_phone(4, 5, "new");
  auto dc = apply(api(), card, new_phone, application_spec("device_change"));
  ASSERT_EQ(dc.status, 202) << dc;
  EXPECT_EQ(dc.json.value("status", ""), "issued");
  auto new_certs = phone_certificates(api(), new_phone);
  EXPECT_TRUE(revoked(status_of("sign", certs["phone_sign"]), RevocationReason::superseded));
  EXPECT_TRUE(revoked(status_of("auth", certs["phone_auth"]), RevocationReason::superseded));
  EXPECT_TRUE(good(status_of("sign", new_certs["phone_sign"])));
  EXPECT_TRUE(good(status_of("auth", new_certs["phone_auth"])));
  for (const auto& c : view().certificates_of_device(old_phone.device_id)) {
    EXPECT_EQ(c.status, "revoked");
    EXPECT_EQ(c.revocation_reason, static_cast<int>(RevocationReason::superseded));
  }
  EXPECT_EQ(view().device(old_phone.device_id)->status, "wipe_pending");
  // The old session no longer works with revoked certificates... and the wipe event is there once.
  auto old_events =
      api().get("/v1/devices/" + old_phone.device_id + "/events?format=json", old_phone.token);
  ASSERT_EQ(old_events.status, 200) << old_events;
  int wipes = 0;
  std::int64_t wipe_seq = 0;
  for (const auto& e : old_events.json["events"])
    if (e.value("type", "") == "wipe") {
      ++wipes;
      wipe_seq = e.value("seq", std::int64_t{0});
      expect_signed_event(old_phone.device_id, e["event"].dump(), "wipe", push_key);
    }
  EXPECT_EQ(wipes, 1);

  // The old phone erases itself and acknowledges (twice is harmless).
  auto ack = api().post("/v1/devices/" + old_phone.device_id + "/wipe-ack", {{"seq", wipe_seq}},
                        old_phone.token);
  EXPECT_EQ(ack.status, 200) << ack;
  EXPECT_EQ(view().device(old_phone.device_id)->status, "wiped");
  auto again = api().post("/v1/devices/" + old_phone.device_id + "/wipe-ack", {{"seq", wipe_seq}},
                          old_phone.token);
  EXPECT_EQ(again.status, 200) << again;
  // The new phone registers.
  EXPECT_EQ(register_phone(api(), new_phone).status, 200);
  EXPECT_TRUE(view().verify_audit_chain());
}

TEST_F(Endpoints, HolderRevokesWithASessionOrWithTheCard) {
  auto card = issue_card(api());
  auto phone = make_phone(2, 3);
  ASSERT_EQ(apply(api(), card, phone).status, 202);
  ASSERT_EQ(register_phone(api(), phone).status, 200);
  auto certs = phone_certificates(api(), phone);
  std::string session = login(phone, certs["phone_auth"]);
  ASSERT_FALSE(session.empty());
  auto sign_serial =
      pki::serial_hex(X509_get0_serialNumber(pki::parse_certificate(certs["phone_sign"])->get()));
  auto r =
      api().post("/v1/certificates/" + sign_serial + "/revoke", nlohmann::json::object(), session);
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.json.value("status", ""), "revoked");
  EXPECT_EQ(view().certificate(sign_serial)->status, "revoked");
  EXPECT_FALSE(good(status_of("sign", certs["phone_sign"])));

  // A lost phone: the card signs the revocation of the auth certificate.
  auto auth_serial =
      pki::serial_hex(X509_get0_serialNumber(pki::parse_certificate(certs["phone_auth"])->get()));
  std::string nonce = api().challenge("card_revocation");
  auto c = api().post(
      "/v1/certificates/" + auth_serial + "/revoke",
      {{"card_certificate", base64_encode(card.sign_cert)},
       {"nonce", nonce},
       {"signature", base64_encode(sign_with(
                         card.sign_key, protocol::card_revocation_bytes(auth_serial, nonce)))}});
  ASSERT_EQ(c.status, 200) << c;
  EXPECT_EQ(view().certificate(auth_serial)->status, "revoked");
  EXPECT_FALSE(good(status_of("auth", certs["phone_auth"])));
}

TEST_F(Endpoints, CounterSuspendsResumesRevokesAndChangesRecords) {
  auto card = issue_card(api());
  auto phone = make_phone(2, 3);
  ASSERT_EQ(apply(api(), card, phone).status, 202);
  auto certs = phone_certificates(api(), phone);
  auto serial_of = [](const Bytes& der) {
    return pki::serial_hex(X509_get0_serialNumber(pki::parse_certificate(der)->get()));
  };
  std::string auth = serial_of(certs["phone_auth"]);

  auto s = api().admin("/admin/v1/certificates/" + auth + "/suspend", nlohmann::json::object());
  ASSERT_EQ(s.status, 200) << s;
  EXPECT_EQ(s.json.value("status", ""), "suspended");
  EXPECT_EQ(view().certificate(auth)->status, "suspended");
  EXPECT_TRUE(revoked(status_of("auth", certs["phone_auth"]), RevocationReason::certificate_hold));

  auto r = api().admin("/admin/v1/certificates/" + auth + "/resume", nlohmann::json::object());
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(view().certificate(auth)->status, "active");
  EXPECT_TRUE(good(status_of("auth", certs["phone_auth"])));

  auto v = api().admin("/admin/v1/certificates/" + auth + "/revoke", {{"reason", "keyCompromise"}});
  ASSERT_EQ(v.status, 200) << v;
  EXPECT_TRUE(revoked(status_of("auth", certs["phone_auth"]), RevocationReason::key_compromise))
      << v;
  // The phone hears of each change.
  std::vector<std::string> types;
  for (const auto& e : view().events(phone.device_id)) types.push_back(e.type);
  EXPECT_EQ(types,
            (std::vector<std::string>{"registration_ready", "suspended", "resumed", "revoked"}));

  // Records change: every signature certificate goes, the auth ones stay.
  auto rc = api().admin("/admin/v1/holders/" + card.holder_id + "/records",
                        {{"address", "大阪府大阪市北区１－１"}});
  ASSERT_EQ(rc.status, 200) << rc;
  EXPECT_FALSE(good(status_of("sign", card.sign_cert)));
  EXPECT_FALSE(good(status_of("sign", certs["phone_sign"])));
  EXPECT_TRUE(good(status_of("auth", card.auth_cert)));
  for (const auto& c : view().certificates_of_holder(card.holder_id))
    EXPECT_EQ(c.status, c.kind == "card_auth" ? "active" : "revoked") << c.kind;

  // Every one of these is in the audit log, and the chain holds.
  std::set<std::string> actions;
  for (const auto& e : view().audit())
    if (e.subject == auth) actions.insert(e.action);
  EXPECT_GE(actions.size(), 3u) << "suspend, resume and revoke of " << auth << " must be audited";
  EXPECT_TRUE(view().verify_audit_chain());
}

TEST_F(Endpoints, IdempotencyKeyReplayAnswersTheFirstApplication) {
  auto card = issue_card(api());
  auto phone = make_phone(2, 3);
  ApplicationSpec spec;
  spec.challenge = api().challenge();
  auto body = application_body(card, phone, spec);
  auto first = apply_body(api(), phone, body, "idem-1-" + phone.device_id);
  ASSERT_EQ(first.status, 202) << first;
  auto before = rows();
  SoftPhone replayer = phone;
  auto second = apply_body(api(), replayer, body, "idem-1-" + phone.device_id);
  ASSERT_EQ(second.status, 202) << second;
  EXPECT_EQ(second.json.value("application_id", ""), first.json.value("application_id", "x"));
  EXPECT_FALSE(second.json.contains("device_token")) << "the token is shown once";
  EXPECT_TRUE(same_rows(before, rows()));

  // The same key for another application: a conflict, nothing changes.
  auto other = application_body(card, phone, application_spec("new", api().challenge()));
  before = rows();
  auto clash = apply_body(api(), replayer, other, "idem-1-" + phone.device_id);
  EXPECT_EQ(clash.status, 409) << clash;
  EXPECT_TRUE(same_rows(before, rows()));
}

}  // namespace
}  // namespace smacert::integration

// Setting up, applying (②–⑪), push sync, registration (⑫–⑬).
#include "phone/app.h"

#include "card/jpki_client.h"
#include "card/secure_element.h"
#include "card/stored_applet.h"
#include "core/encoding.h"
#include "core/files.h"
#include "pki/authority.h"
#include "pki/key.h"
#include "protocol/canonical.h"

namespace smacert::phone {
namespace {

namespace fs = std::filesystem;
using card::PinRef;

Error local(Errc code, std::string message) {
  return Error{code, std::move(message)};
}

}  // namespace

Result<PhoneApp> PhoneApp::create(const fs::path& dir, const std::string& platform,
                                  const std::string& model, const std::string& server,
                                  Random& random) {
  if (platform != "android" && platform != "ios")
    return fail(Errc::invalid_argument, "platform must be android or ios");
  if (fs::exists(dir / "phone.json"))
    return fail(Errc::conflict, dir.string() + " already holds a phone");
  SMACERT_TRY_STATUS(ensure_directory(dir, 0700));
  PhoneState s;
  s.device_id = "dev-" + hex_encode(random.bytes(12));
  s.platform = platform;
  s.model = model.empty() ? (platform == "ios" ? "iPhone" : "Android phone") : model;
  s.server = server;
  auto se = card::create_secure_element(
      dir / "se.img", platform == "ios" ? card::PhonePlatform::Ios : card::PhonePlatform::Android,
      random);
  if (!se) return fail(se.error());
  auto ks = Keystore::open(dir, random);
  if (!ks) return fail(ks.error());
  PhoneApp app(dir, std::move(s), std::move(*ks), random);
  SMACERT_TRY_STATUS(app.save());
  return app;
}

Result<PhoneApp> PhoneApp::open(const fs::path& dir, Random& random,
                                const std::string& server_override) {
  auto s = load_state(dir);
  if (!s) return fail(s.error());
  if (!server_override.empty()) s->server = server_override;
  auto ks = Keystore::open(dir, random);
  if (!ks) return fail(ks.error());
  return PhoneApp(dir, std::move(*s), std::move(*ks), random);
}

http::ApiClient PhoneApp::service(bool with_token) const {
  return http::ApiClient(state_.server, with_token ? state_.device_token : std::string());
}

Status PhoneApp::require_not_wiped() const {
  if (state_.wiped)
    return fail(local(Errc::conflict,
                      "this phone's certificates were erased (device change); "
                      "apply again to use it"));
  return {};
}

Result<ApplyResult> PhoneApp::apply(const ApplyInput& in) {
  // Step 0 (⑤, ⑥, ⑨, ⑩, ⑪): everything the user typed is checked before
  // anything touches the card, the element or the network.
  if (in.kind != "new" && in.kind != "device_change")
    return fail(local(Errc::invalid_argument, "kind must be new or device_change"));
  if (!in.want_sign && !in.want_auth)
    return fail(local(Errc::invalid_argument, "choose at least one certificate (⑤)"));
  if (!in.agree_terms)
    return fail(local(Errc::invalid_argument, "the terms must be accepted (⑥ 確認しました)"));
  if (in.kind == "device_change" && !in.agree_revoke_old)
    return fail(local(
        Errc::invalid_argument,
        "a device change revokes the old phone's certificates: agree to it (⑨ 同意して次へ)"));
  if (auto r = check_card_password(in.card_password); r != Rule::ok)
    return fail(local(Errc::invalid_argument, rule_message(r, false)));
  if (in.want_sign)
    if (auto r = check_sign_password(in.sign_password, in.sign_password_confirm); r != Rule::ok)
      return fail(local(Errc::invalid_argument, rule_message(r, false)));
  if (in.want_auth)
    if (auto r = check_auth_pin(in.auth_pin, in.auth_pin_confirm); r != Rule::ok)
      return fail(local(Errc::invalid_argument, rule_message(r, false)));
  if (in.card == nullptr) return fail(local(Errc::invalid_argument, "no card to read (⑧)"));
  auto progress = [&](std::string_view step) {
    if (in.progress) in.progress(step);
  };

  // ④ + ⑧: the card's signature password, checked by the card itself; then
  // its signature certificate (EF 0001 opens only after the password).
  std::string card_password = in.card_password;
  for (auto& c : card_password) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  card::JpkiClient card_client(*in.card);
  SMACERT_TRY_STATUS(card_client.select_application());
  SMACERT_TRY_STATUS(card_client.verify(PinRef::Sign, card_password));
  progress("④");
  auto card_cert_der = card_client.read_certificate(card::kSignCertFile);
  if (!card_cert_der) return fail(card_cert_der.error().context("reading the card"));
  auto card_cert = pki::parse_certificate(*card_cert_der);
  if (!card_cert) return fail(card_cert.error().context("the card's signature certificate"));
  progress("⑧");

  // The secure element: erased, new keys made inside, the new PINs set.
  auto se = card::StoredApplet::open(se_path(), *random_);
  if (!se) return fail(se.error());
  card::JpkiClient element(*se);
  SMACERT_TRY_STATUS(element.select_application());
  SMACERT_TRY_STATUS(element.erase());
  std::string sign_pw = in.want_sign ? in.sign_password : std::string();
  std::string auth_pin = in.want_auth ? in.auth_pin : std::string();
  Bytes csr_der[2];
  for (auto [pin, want, secret, out] :
       {std::tuple{PinRef::Sign, in.want_sign, &sign_pw, &csr_der[0]},
        std::tuple{PinRef::Auth, in.want_auth, &auth_pin, &csr_der[1]}}) {
    if (!want) continue;
    auto pub = element.generate_key_pair(pin);
    if (!pub) return fail(pub.error().context("making a key in the secure element"));
    SMACERT_TRY_STATUS(element.set_pin(pin, *secret));
    card::CardSigner signer(*se, pin, *secret, std::move(*pub));
    auto csr = pki::make_csr(signer, state_.device_id);
    if (!csr) return fail(csr.error());
    *out = pki::to_der(csr->get());
  }
  progress("⑩");

  // ⑦ 申請する: a fresh challenge, the canonical application, signed by the card.
  auto api = service(false);
  auto challenge = api.post("/v1/challenges", {{"purpose", "application"}});
  if (!challenge) return fail(challenge.error());
  std::string nonce = (*challenge)["nonce"].get<std::string>();
  protocol::ApplicationFields fields{
      in.kind,          nonce,
      state_.device_id, state_.platform,
      state_.model,     pki::serial_hex(X509_get0_serialNumber(card_cert->get())),
      csr_der[0],       csr_der[1],
      in.agree_terms,   in.kind == "device_change" && in.agree_revoke_old};
  auto card_signer =
      card::CardSigner(*in.card, PinRef::Sign, card_password,
                       pki::PkeyPtr(EVP_PKEY_dup(X509_get0_pubkey(card_cert->get()))));
  auto card_sig = card_signer.sign_sha256(pki::sha256(protocol::application_bytes(fields)));
  if (!card_sig) return fail(card_sig.error().context("the card signing the application"));

  // The Idempotency-Key is saved before sending, so a retry after a crash
  // cannot make a second application.
  state_.idempotency_key = "idem-" + hex_encode(random_->bytes(12));
  SMACERT_TRY_STATUS(save());
  nlohmann::json body{
      {"kind", in.kind},
      {"challenge", nonce},
      {"device",
       {{"id", state_.device_id}, {"platform", state_.platform}, {"model", state_.model}}},
      {"card_certificate", base64_encode(*card_cert_der)},
      {"card_signature", base64_encode(*card_sig)},
      {"csrs", nlohmann::json::object()},
      {"consents", {{"terms", in.agree_terms}, {"revoke_old", fields.consent_revoke_old}}}};
  if (in.want_sign) body["csrs"]["sign"] = base64_encode(csr_der[0]);
  if (in.want_auth) body["csrs"]["auth"] = base64_encode(csr_der[1]);
  http::Headers headers;
  headers.set("Idempotency-Key", state_.idempotency_key);
  auto accepted = api.post("/v1/applications", body, headers);
  if (!accepted) return fail(accepted.error());
  progress("⑪");

  // The push key is pinned at the first application and must not change.
  std::string push_key = accepted->value("push_key", "");
  if (!state_.push_key.empty() && push_key != state_.push_key)
    return fail(
        local(Errc::verification, "the service's push key changed since this phone first applied"));
  state_.push_key = push_key;
  if (accepted->contains("device_token")) state_.device_token = (*accepted)["device_token"];
  state_.application_id = (*accepted)["application_id"];
  state_.application_kind = in.kind;
  state_.application_status = (*accepted)["status"] == "issued" ? "issued" : "waiting";
  state_.ready_at = accepted->value("ready_at", "");
  state_.certificates.clear();
  state_.wiped = false;
  state_.biometrics = false;
  SMACERT_TRY_STATUS(keystore_.erase_all());
  // Held until registration (⑫–⑬), then erased.
  SMACERT_TRY_STATUS(
      keystore_.put("registration", nlohmann::json{{"sign", sign_pw}, {"auth", auth_pin}}.dump()));
  SMACERT_TRY_STATUS(save());
  return ApplyResult{state_.application_id, (*accepted)["status"], state_.ready_at};
}

Status PhoneApp::erase_credentials() {
  auto se = card::StoredApplet::open(se_path(), *random_);
  if (!se) return fail(se.error());
  card::JpkiClient element(*se);
  SMACERT_TRY_STATUS(element.select_application());
  SMACERT_TRY_STATUS(element.erase());
  SMACERT_TRY_STATUS(keystore_.erase_all());
  for (auto& c : state_.certificates) c.status = "revoked";
  state_.application_status.clear();
  state_.biometrics = false;
  return save();
}

Status PhoneApp::wipe(std::int64_t seq) {
  // Erase every key, certificate and PIN, then tell the service.
  SMACERT_TRY_STATUS(erase_credentials());
  auto ack = service().post("/v1/devices/" + state_.device_id + "/wipe-ack", {{"seq", seq}});
  if (!ack) return fail(ack.error().context("acknowledging the wipe"));
  state_.wiped = true;
  return save();
}

Result<std::vector<SyncedEvent>> PhoneApp::sync(std::chrono::milliseconds wait) {
  if (state_.device_token.empty())
    return fail(local(Errc::invalid_argument, "this phone has not applied yet: nothing to sync"));
  auto push_key = base64_decode(state_.push_key);
  if (!push_key) return fail(local(Errc::malformed, "the pinned push key is damaged"));
  auto key = pki::parse_public_key_der(*push_key);
  if (!key) return fail(key.error());

  std::vector<SyncedEvent> out;
  Status failure;
  auto handle = [&](std::int64_t seq, const std::string& payload_text) -> bool {
    auto payload = nlohmann::json::parse(payload_text, nullptr, false);
    if (!payload.is_object()) {
      failure = fail(local(Errc::malformed, "a push event is not JSON"));
      return false;
    }
    std::string type = payload.value("type", ""), data_text = payload.value("data", "");
    auto sig = base64_decode(payload.value("signature", ""));
    // Only events signed by the service's pinned key, for this device, count.
    if (payload.value("device", "") != state_.device_id || !sig ||
        !pki::verify_sha256_signature(
            key->get(), protocol::event_bytes(state_.device_id, type, data_text), *sig)) {
      failure = fail(local(Errc::verification,
                           "a push event's signature does not verify; ignored the stream"));
      return false;
    }
    auto data = nlohmann::json::parse(data_text, nullptr, false);
    SyncedEvent ev{seq, type, ""};
    if (type == "registration_ready") {
      state_.application_status = "ready";
      state_.certificates.clear();
      for (const auto& c : data.value("certificates", nlohmann::json::array()))
        state_.certificates.push_back({c.value("kind", ""), c.value("serial", ""), "active", ""});
      ev.detail = data.value("application", "");
    } else if (type == "wipe") {
      if (auto st = wipe(seq); !st) {
        failure = st;
        return false;
      }
      ev.detail = data.value("reason", "");
    } else if (type == "application_rejected") {
      state_.application_status = "rejected";
      ev.detail = data.value("reason", "");
    } else if (type == "suspended" || type == "resumed" || type == "revoked") {
      for (auto& c : state_.certificates)
        if (c.serial == data.value("serial", "")) {
          c.status = type == "resumed" ? "active" : type;
          c.reason = data.value("reason", "");
        }
      ev.detail = data.value("serial", "");
    }
    state_.last_event = seq;
    if (auto st = save(); !st) {
      failure = st;
      return false;
    }
    out.push_back(std::move(ev));
    return true;
  };

  std::string path = "/v1/devices/" + state_.device_id + "/events";
  auto api = service();
  // What is already queued, then (if nothing was) the push channel until the
  // first event arrives or `wait` passes, then whatever came with it.
  auto drain = [&]() -> Status {
    auto list = api.get(path + "?format=json&after=" + std::to_string(state_.last_event));
    if (!list) return fail(list.error());
    for (const auto& e : (*list)["events"])
      if (!handle(e["seq"].get<std::int64_t>(), e["event"].dump())) break;
    return {};
  };
  SMACERT_TRY_STATUS(drain());
  if (out.empty() && failure && wait.count() > 0 && !state_.wiped) {
    auto st = api.read_events(
        path, state_.last_event,
        [&](const http::SseEvent& e) {
          handle(e.id, e.data);
          return false;  // one is enough: the rest is drained below
        },
        wait);
    if (!st) return fail(st.error());
    if (failure && !state_.wiped) SMACERT_TRY_STATUS(drain());
  }
  if (!failure) return fail(failure.error());
  return out;
}

Status PhoneApp::register_certificates() {
  SMACERT_TRY_STATUS(require_not_wiped());
  if (state_.application_id.empty())
    return fail(local(Errc::invalid_argument, "nothing to register: apply first"));
  if (state_.application_status == "registered")
    return fail(local(Errc::conflict, "already registered"));
  auto api = service();
  auto app = api.get("/v1/applications/" + state_.application_id);
  if (!app) return fail(app.error());
  if ((*app)["status"] != "issued")
    return fail(local(Errc::conflict, "the certificates are not ready yet (status " +
                                          (*app)["status"].get<std::string>() +
                                          "); wait for the push notification"));
  auto secrets_text = keystore_.get("registration");
  if (!secrets_text) return fail(secrets_text.error());
  if (!*secrets_text)
    return fail(
        local(Errc::conflict, "the new passwords of this application are gone; apply again"));
  auto secrets = nlohmann::json::parse(**secrets_text);

  // ⑬: write the certificates and their CA certificates into the element.
  auto se = card::StoredApplet::open(se_path(), *random_);
  if (!se) return fail(se.error());
  card::JpkiClient element(*se);
  SMACERT_TRY_STATUS(element.select_application());
  auto sign_ca = base64_decode((*app)["ca"]["sign"].get<std::string>());
  auto auth_ca = base64_decode((*app)["ca"]["auth"].get<std::string>());
  if (!sign_ca || !auth_ca)
    return fail(local(Errc::malformed, "the service sent no CA certificates"));
  state_.certificates.clear();
  nlohmann::json signatures = nlohmann::json::object();
  auto nonce =
      api.post("/v1/challenges", {{"purpose", "registration"}, {"subject", state_.application_id}});
  if (!nonce) return fail(nonce.error());
  std::string n = (*nonce)["nonce"];
  for (const auto& c : (*app)["certificates"]) {
    bool sign = c["kind"] == "phone_sign";
    auto der = base64_decode(c["certificate"].get<std::string>());
    if (!der)
      return fail(local(Errc::malformed, "the service sent a certificate that is not base64"));
    PinRef pin = sign ? PinRef::Sign : PinRef::Auth;
    SMACERT_TRY_STATUS(element.write_file(card::certificate_file(pin), *der));
    SMACERT_TRY_STATUS(element.write_file(sign ? card::kSignCaFile : card::kAuthCaFile,
                                          sign ? *sign_ca : *auth_ca));
    // The new key proves it holds the certificate's key: a signature over the nonce.
    auto cert = pki::parse_certificate(*der);
    if (!cert) return fail(cert.error());
    card::CardSigner signer(*se, pin, secrets.value(sign ? "sign" : "auth", ""),
                            pki::PkeyPtr(EVP_PKEY_dup(X509_get0_pubkey(cert->get()))));
    auto sig = signer.sign_sha256(pki::sha256(
        protocol::registration_bytes(state_.application_id, n, sign ? "sign" : "auth")));
    if (!sig) return fail(sig.error());
    signatures[sign ? "sign" : "auth"] = base64_encode(*sig);
    state_.certificates.push_back({c["kind"], c["serial"], "active", ""});
  }
  auto done = api.post("/v1/applications/" + state_.application_id + "/registration",
                       {{"nonce", n}, {"signatures", signatures}});
  if (!done) return fail(done.error());
  state_.application_status = "registered";
  SMACERT_TRY_STATUS(keystore_.remove("registration"));
  return save();
}

}  // namespace smacert::phone

#include "integration/support/actors.h"

#include <gtest/gtest.h>
#include <openssl/rsa.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <mutex>

#include "core/encoding.h"
#include "pki/authority.h"
#include "pki/signer.h"
#include "protocol/canonical.h"

namespace smacert::integration {

EVP_PKEY* shared_key(int index) {
  static std::mutex mutex;
  static std::deque<pki::PkeyPtr> keys;
  std::lock_guard lock(mutex);
  while (keys.size() <= static_cast<std::size_t>(index))
    keys.push_back(new_key(pki::KeyAlgorithm::rsa2048));
  return keys[static_cast<std::size_t>(index)].get();
}

pki::PkeyPtr new_key(pki::KeyAlgorithm algorithm) {
  auto k = pki::generate_key(algorithm);
  EXPECT_TRUE(k) << k.error().message;
  return k ? std::move(*k) : pki::PkeyPtr();
}

pki::PkeyPtr new_rsa_key(int bits) {
  EVP_PKEY* key = EVP_RSA_gen(static_cast<unsigned>(bits));
  EXPECT_NE(key, nullptr);
  return pki::PkeyPtr(key);
}

Bytes csr_for(EVP_PKEY* key, const std::string& cn) {
  pki::SoftwareSigner s{pki::PkeyPtr(EVP_PKEY_dup(key))};
  auto csr = pki::make_csr(s, cn);
  EXPECT_TRUE(csr) << csr.error().message;
  return csr ? pki::to_der(csr->get()) : Bytes{};
}

Bytes sign_with(EVP_PKEY* key, ByteView message) {
  pki::SoftwareSigner s{pki::PkeyPtr(EVP_PKEY_dup(key))};
  auto sig = s.sign_sha256(pki::sha256(message));
  EXPECT_TRUE(sig) << sig.error().message;
  return sig ? *sig : Bytes{};
}

std::string unique_id(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

nlohmann::json card_request(EVP_PKEY* sign_key, EVP_PKEY* auth_key, const std::string& birth_date) {
  nlohmann::json body{{"name", "見本　花子"},
                      {"address", "東京都千代田区霞が関１－２－３"},
                      {"birth_date", birth_date},
                      {"sex", 2},
                      {"auth_csr", base64_encode(csr_for(auth_key, "card auth"))}};
  if (sign_key != nullptr) body["sign_csr"] = base64_encode(csr_for(sign_key, "card sign"));
  return body;
}

SoftCard issue_card(Api& api, int sign_key, int auth_key, const std::string& birth_date) {
  SoftCard card;
  card.sign_key = shared_key(sign_key);
  card.auth_key = shared_key(auth_key);
  auto r = api.admin("/admin/v1/cards", card_request(card.sign_key, card.auth_key, birth_date));
  EXPECT_EQ(r.status, 201) << r;
  if (r.status != 201) return card;
  card.holder_id = r.json.value("holder_id", "");
  card.card_id = r.json.value("card_id", "");
  for (const auto& c : r.json["certificates"]) {
    auto der = base64_decode(c.value("certificate", ""));
    EXPECT_TRUE(der);
    if (c.value("kind", "") == "card_sign") {
      card.sign_cert = *der;
      card.sign_serial = c.value("serial", "");
    } else if (c.value("kind", "") == "card_auth") {
      card.auth_cert = *der;
      card.auth_serial = c.value("serial", "");
    }
  }
  EXPECT_FALSE(card.sign_cert.empty());
  EXPECT_FALSE(card.auth_cert.empty());
  return card;
}

SoftPhone make_phone(int sign_key, int auth_key, const std::string& prefix) {
  return SoftPhone{unique_id(prefix), shared_key(sign_key), shared_key(auth_key), "", ""};
}

nlohmann::json application_body(const SoftCard& card, const SoftPhone& phone,
                                const ApplicationSpec& spec) {
  Bytes sign_csr = spec.sign ? csr_for(phone.sign_key, "phone sign") : Bytes{};
  Bytes auth_csr = spec.auth ? csr_for(phone.auth_key, "phone auth") : Bytes{};
  bool revoke_old = spec.revoke_old.value_or(spec.kind == "device_change");
  protocol::ApplicationFields f{spec.kind,  spec.challenge,   phone.device_id, "android",
                                "Pixel 9",  card.sign_serial, sign_csr,        auth_csr,
                                spec.terms, revoke_old};
  Bytes signature = sign_with(card.sign_key, protocol::application_bytes(f));
  nlohmann::json csrs = nlohmann::json::object();
  if (spec.sign) csrs["sign"] = base64_encode(sign_csr);
  if (spec.auth) csrs["auth"] = base64_encode(auth_csr);
  return {{"kind", spec.kind},
          {"challenge", spec.challenge},
          {"device", {{"id", phone.device_id}, {"platform", "android"}, {"model", "Pixel 9"}}},
          {"card_certificate", base64_encode(card.sign_cert)},
          {"card_signature", base64_encode(signature)},
          {"csrs", csrs},
          {"consents", {{"terms", spec.terms}, {"revoke_old", revoke_old}}}};
}

Reply apply_body(Api& api, SoftPhone& phone, const nlohmann::json& body,
                 const std::string& idempotency_key) {
  http::Headers extra;
  if (!idempotency_key.empty()) extra.set("Idempotency-Key", idempotency_key);
  auto r = api.post("/v1/applications", body, "", extra);
  if (r.status == 202 && r.json.contains("device_token")) {
    phone.token = r.json.value("device_token", "");
    phone.application_id = r.json.value("application_id", "");
  }
  return r;
}

Reply apply(Api& api, const SoftCard& card, SoftPhone& phone, ApplicationSpec spec) {
  if (spec.challenge.empty()) spec.challenge = api.challenge();
  return apply_body(api, phone, application_body(card, phone, spec), spec.idempotency_key);
}

nlohmann::json registration_body(Api& api, const SoftPhone& phone, EVP_PKEY* sign_key,
                                 EVP_PKEY* auth_key) {
  std::string nonce = api.challenge("registration", phone.application_id);
  nlohmann::json sigs = nlohmann::json::object();
  if (sign_key != nullptr)
    sigs["sign"] = base64_encode(
        sign_with(sign_key, protocol::registration_bytes(phone.application_id, nonce, "sign")));
  if (auth_key != nullptr)
    sigs["auth"] = base64_encode(
        sign_with(auth_key, protocol::registration_bytes(phone.application_id, nonce, "auth")));
  return {{"nonce", nonce}, {"signatures", sigs}};
}

Reply register_phone(Api& api, const SoftPhone& phone) {
  return api.post("/v1/applications/" + phone.application_id + "/registration",
                  registration_body(api, phone, phone.sign_key, phone.auth_key), phone.token);
}

std::map<std::string, Bytes> phone_certificates(Api& api, const SoftPhone& phone) {
  std::map<std::string, Bytes> out;
  auto r = api.get("/v1/applications/" + phone.application_id, phone.token);
  EXPECT_EQ(r.status, 200) << r;
  if (r.status != 200) return out;
  for (const auto& c : r.json["certificates"]) {
    auto der = base64_decode(c.value("certificate", ""));
    if (der) out[c.value("kind", "")] = *der;
  }
  return out;
}

}  // namespace smacert::integration

// The people and things that talk to the service, in software: a card whose
// keys are EVP_PKEYs (issued through POST /admin/v1/cards), phones whose
// secure-element keys are EVP_PKEYs, and the applications they send, signed
// over protocol::application_bytes exactly as the phone app has the card do.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/bytes.h"
#include "integration/support/api.h"
#include "pki/key.h"

namespace smacert::integration {

// RSA-2048 keys made once per test binary and shared where sharing does not
// weaken a test (the service does not care whether two holders' keys are
// equal; a test that needs distinct keys picks distinct indexes).
EVP_PKEY* shared_key(int index);
pki::PkeyPtr new_key(pki::KeyAlgorithm algorithm);
pki::PkeyPtr new_rsa_key(int bits);  // e.g. 1024 for the weak-key test

Bytes csr_for(EVP_PKEY* key, const std::string& cn = "smacert test");
Bytes sign_with(EVP_PKEY* key, ByteView message);  // SHA-256, PKCS#1 v1.5 (as the card)

// A fresh id for devices: 8-64 of [A-Za-z0-9-], unique in this process.
std::string unique_id(const std::string& prefix);

struct SoftCard {
  EVP_PKEY* sign_key = nullptr;
  EVP_PKEY* auth_key = nullptr;
  std::string holder_id, card_id;
  Bytes sign_cert, auth_cert;
  std::string sign_serial, auth_serial;
};

// The counter issues a card for a new holder (201 expected).
SoftCard issue_card(Api& api, int sign_key = 0, int auth_key = 1,
                    const std::string& birth_date = "1980-01-01");
nlohmann::json card_request(EVP_PKEY* sign_key, EVP_PKEY* auth_key,
                            const std::string& birth_date = "1980-01-01");

struct SoftPhone {
  std::string device_id;
  EVP_PKEY* sign_key = nullptr;
  EVP_PKEY* auth_key = nullptr;
  std::string token;  // device token from the accepted application
  std::string application_id;
};
SoftPhone make_phone(int sign_key, int auth_key, const std::string& prefix = "phone");

struct ApplicationSpec {
  std::string kind = "new";
  bool sign = true, auth = true;
  bool terms = true;
  std::optional<bool> revoke_old;  // default: true for device_change
  std::string challenge;           // fetched when empty
  std::string idempotency_key;
};

inline ApplicationSpec application_spec(const std::string& kind,
                                        const std::string& challenge = {}) {
  ApplicationSpec s;
  s.kind = kind;
  s.challenge = challenge;
  return s;
}

// The JSON body of POST /v1/applications with the card's signature over it.
nlohmann::json application_body(const SoftCard& card, const SoftPhone& phone,
                                const ApplicationSpec& spec);
// Sends it (fetching a challenge if none was given); on 202 the phone keeps
// its device token and application id.
Reply apply(Api& api, const SoftCard& card, SoftPhone& phone, ApplicationSpec spec = {});
Reply apply_body(Api& api, SoftPhone& phone, const nlohmann::json& body,
                 const std::string& idempotency_key = {});

// ⑫–⑬: a registration nonce for the application, signed by the phone's keys.
nlohmann::json registration_body(Api& api, const SoftPhone& phone, EVP_PKEY* sign_key,
                                 EVP_PKEY* auth_key);
Reply register_phone(Api& api, const SoftPhone& phone);

// The phone's certificates from GET /v1/applications/{id}: kind → DER.
std::map<std::string, Bytes> phone_certificates(Api& api, const SoftPhone& phone);

}  // namespace smacert::integration

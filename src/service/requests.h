// What the service's use cases take and give: plain values, parsed and
// bounded by the transport (src/http) before they get here.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/clock.h"
#include "pki/profile.h"
#include "store/records.h"

namespace smacert::service {

// Counter: a new holder and the two card certificates (keys made in the card).
struct CardIssueRequest {
  std::string name, address, birth_date;
  int sex = 9;     // ISO/IEC 5218
  Bytes sign_csr;  // may be empty: no signature certificate under 15
  Bytes auth_csr;
};

struct IssuedCertificate {
  std::string kind;  // "card_sign" | …
  std::string serial;
  Bytes der;
  TimePoint not_after;
};

struct CardIssued {
  std::string holder_id;
  std::string card_id;
  std::vector<IssuedCertificate> certificates;
  Bytes sign_ca, auth_ca;  // DER of both roots, for the card's EF 0002 / 000B
};

struct RecordsChange {
  std::optional<std::string> name;
  std::optional<std::string> address;
};

enum class StatusAction { suspend, resume, revoke };

struct DeviceInfo {
  std::string id;        // chosen by the phone: 8 to 64 of [A-Za-z0-9-]
  std::string platform;  // "android" | "ios"
  std::string model;
};

// POST /v1/applications, after the transport decoded it.
struct ApplicationRequest {
  std::string kind;  // "new" | "device_change"
  std::string challenge;
  DeviceInfo device;
  Bytes card_certificate;  // DER of the card signature certificate
  Bytes card_signature;    // over protocol::application_bytes
  Bytes sign_csr, auth_csr;
  bool consent_terms = false;
  bool consent_revoke_old = false;
  std::string idempotency_key;  // may be empty
};

struct ApplicationAccepted {
  std::string application_id;
  std::string status;  // "issued" | "waiting"
  TimePoint ready_at;
  std::string device_token;  // for the device's own calls; shown once
  bool replayed = false;     // true when answered from the idempotency record
};

struct ApplicationView {
  store::ApplicationRecord record;
  std::vector<IssuedCertificate> certificates;  // once issued
};

struct Registration {
  std::string nonce;
  Bytes sign_signature, auth_signature;  // by the new keys over registration_bytes
};

struct LoginRequest {
  Bytes certificate;  // the phone auth certificate
  std::string nonce;
  Bytes signature;  // over protocol::login_bytes("smacert", nonce)
};

struct Session {
  std::string token;
  std::string holder_id;
  std::string device_id;
  std::string serial;
  TimePoint expires_at;
};

struct CertificateView {
  store::CertificateRecord record;
  bool registered = false;   // phone certificates: the application was registered
  TimePoint available_at{};  // registration + activation delay
};

struct MyPage {
  std::string holder_id;
  std::string device_id;
  std::vector<CertificateView> certificates;  // every phone certificate of the holder
};

// Revocation with the card instead of a phone (a lost phone, no session).
struct CardRevocation {
  Bytes card_certificate;
  std::string nonce;
  Bytes signature;  // over protocol::card_revocation_bytes(serial, nonce)
};

}  // namespace smacert::service

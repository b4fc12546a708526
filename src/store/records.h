// Plain records the store keeps. They carry no behaviour; the domain
// (src/service) gives them meaning. Times are whole Unix seconds (UTC).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/bytes.h"

namespace smacert::store {

struct HolderRecord {
  std::string id;          // opaque, e.g. "h-3f9a…"
  std::string name;        // family and given name, separated by U+3000
  std::string address;     // from the prefecture, no postal code
  std::string birth_date;  // YYYY-MM-DD
  int sex = 9;             // 1 male, 2 female, 9 not known (ISO/IEC 5218)
  long long created_at = 0;
  long long updated_at = 0;
};

struct CardRecord {
  std::string id;
  std::string holder_id;
  std::string status;  // "active" | "lost" | "retired"
  long long created_at = 0;
};

struct DeviceRecord {
  std::string id;
  std::string holder_id;  // empty until a first application names a holder
  std::string platform;   // "android" | "ios"
  std::string model;
  std::string status;  // "active" | "wipe_pending" | "wiped"
  long long created_at = 0;
  // hex SHA-256 of the device's bearer token (the token itself is never
  // stored); empty until an application is accepted for the device.
  std::string token_hash;
};

struct CertificateRecord {
  std::string serial;  // lower-case hex, no leading zeros beyond one byte's
  std::string ca;      // "sign" | "auth"
  std::string kind;    // "card_sign" | "card_auth" | "phone_sign" | "phone_auth"
  std::string holder_id;
  std::string card_id;         // set for card certificates
  std::string device_id;       // set for phone certificates
  std::string application_id;  // set for phone certificates
  // "pending" (issued, not yet registered) | "active" | "suspended" | "revoked"
  std::string status;
  int revocation_reason = -1;  // RFC 5280 CRLReason, -1 when not revoked/suspended
  long long revoked_at = 0;    // 0 when not revoked/suspended
  long long not_before = 0;
  long long not_after = 0;
  long long issued_at = 0;
  Bytes der;  // the certificate; empty between "serial reserved" and "signed"
  // The pre-signed OCSP response for this serial, written in the same
  // transaction as every status change.
  Bytes ocsp_response;
  long long ocsp_next_update = 0;
  // Set by the store on every change of the row (see
  // Transaction::certificate_changes); 0 while only reserved.
  std::int64_t change_seq = 0;
};

struct ApplicationRecord {
  std::string id;
  std::string kind;  // "new" | "device_change"
  std::string holder_id;
  std::string device_id;
  // "waiting" (accepted, outside the issuance window) | "issued" | "registered" | "rejected"
  std::string status;
  std::string idempotency_key;  // empty when the client sent none
  std::string request_hash;     // hex SHA-256 of the canonical request
  std::string payload;          // JSON: what the phone sent, minus nothing secret
  long long created_at = 0;
  long long ready_at = 0;  // when issuance happens / happened
  long long updated_at = 0;
};

struct ChallengeRecord {
  std::string nonce;    // base64url
  std::string purpose;  // "application" | "registration" | "session" | "rp"
  std::string subject;  // what it is bound to (device id, application id), may be empty
  long long expires_at = 0;
  long long used_at = 0;  // 0 while unused
};

struct EventRecord {
  std::int64_t seq = 0;  // assigned by the store, strictly increasing
  std::string device_id;
  std::string type;     // "registration_ready" | "wipe" | "suspended" | "revoked" | ...
  std::string payload;  // JSON, signed by the service (signature in the payload)
  long long created_at = 0;
  long long acked_at = 0;
};

struct AuditEntry {
  std::int64_t seq = 0;  // assigned by the store
  long long at = 0;
  std::string actor;      // "counter", "hotline", "phone:<device>", "system"
  std::string action;     // "certificate.issue", "certificate.revoke", ...
  std::string subject;    // the serial, holder or application it is about
  std::string details;    // JSON
  std::string prev_hash;  // hex SHA-256 of the previous entry, 64 zeros for the first
  std::string hash;       // hex SHA-256 over prev_hash and this entry's fields
};

}  // namespace smacert::store

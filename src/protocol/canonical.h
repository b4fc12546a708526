// Byte strings that one side signs and the other checks. Both the phone and
// the service build them with these functions, so they cannot drift apart.
// Every field is length-prefixed ("name:length:value\n"), so no value can
// shift a field boundary, whatever characters it holds.
#pragma once

#include <string>

#include "core/bytes.h"

namespace smacert::protocol {

// What the card's signature covers in an application (利用申請 / 機種変更):
// the single-use challenge, the device, both CSRs (by SHA-256), the card
// certificate's serial and every consent.
struct ApplicationFields {
  std::string kind;  // "new" | "device_change"
  std::string challenge;
  std::string device_id;
  std::string platform;
  std::string model;
  std::string card_serial;          // of the card signature certificate, hex
  Bytes sign_csr;                   // DER, empty when not chosen
  Bytes auth_csr;                   // DER, empty when not chosen
  bool consent_terms = false;       // ⑥ 確認しました
  bool consent_revoke_old = false;  // ⑨ 同意して次へ
};
Bytes application_bytes(const ApplicationFields& f);

// What the new keys sign to register (⑫–⑬): the application and the
// server's registration nonce.
Bytes registration_bytes(const std::string& application_id, const std::string& nonce,
                         const std::string& kind /* "sign" | "auth" */);

// What the auth key signs to log in (to the service or a relying party).
Bytes login_bytes(const std::string& audience, const std::string& nonce);

// What the card signs to revoke certificates without a phone.
Bytes card_revocation_bytes(const std::string& serial, const std::string& nonce);

// What the service signs for every push event; the phone checks it. The
// data carries a unique event id and the time, so a replayed event is seen.
Bytes event_bytes(const std::string& device_id, const std::string& type,
                  const std::string& data_json);

}  // namespace smacert::protocol

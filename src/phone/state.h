// A virtual phone is a folder (docs/phone.md): phone.json (this state, mode
// 0600: it holds the device token), se.img (the secure element), and the
// keystore files. The format is versioned; an unknown version is refused.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace smacert::phone {

inline constexpr int kStateVersion = 1;

struct PhoneCertificate {
  std::string kind;    // "phone_sign" | "phone_auth"
  std::string serial;  // hex
  std::string status;  // "active" | "suspended" | "revoked"
  std::string reason;  // RFC 5280 name when suspended or revoked
};

struct PhoneState {
  std::string device_id;
  std::string platform;  // "android" | "ios"
  std::string model;
  std::string server;        // the service's URL
  std::string device_token;  // bearer token for this device's calls; empty until applied
  std::string push_key;  // base64 SPKI of the service's event key, pinned at the first application
  // The current application.
  std::string application_id;
  std::string application_kind;    // "new" | "device_change"
  std::string application_status;  // "" | "waiting" | "ready" | "registered"
  std::string ready_at;            // RFC 3339, when a waiting application will be issued
  std::string idempotency_key;     // reused if the phone retries the same application
  std::vector<PhoneCertificate> certificates;
  std::int64_t last_event = 0;  // push cursor (Last-Event-ID)
  bool wiped = false;           // the service told this phone to erase itself, and it did
  bool biometrics = false;      // 生体認証 enrolled
};

Result<PhoneState> load_state(const std::filesystem::path& dir);
Status save_state(const std::filesystem::path& dir, const PhoneState& state);

}  // namespace smacert::phone

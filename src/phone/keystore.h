// An OS-keystore-like store in the phone's folder. Secrets are sealed with
// AES-256-GCM under a key that never leaves keystore.key (mode 0600; the
// hardware-bound key of a real keystore). Two slots:
//  - "registration": the new PIN and password between application and
//    registration (⑩–⑬), so registration needs no second entry; erased once
//    registered.
//  - "biometric": the auth PIN, released to the secure element only after a
//    biometric match (simulated: the caller says the sensor matched).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "core/error.h"
#include "core/random.h"

namespace smacert::phone {

class Keystore {
 public:
  static Result<Keystore> open(const std::filesystem::path& dir, Random& random);

  Status put(const std::string& slot, const std::string& secret);
  Result<std::optional<std::string>> get(const std::string& slot) const;
  Status remove(const std::string& slot);
  Status erase_all();  // with the secure element on a wipe

  // The biometric gate: the sealed auth PIN comes out only on a match.
  Result<std::string> release_with_biometric(bool sensor_matched) const;

 private:
  Keystore(std::filesystem::path dir, std::string key, Random& random)
      : dir_(std::move(dir)), key_(std::move(key)), random_(&random) {}
  std::filesystem::path dir_;
  std::string key_;  // 32 bytes
  Random* random_;
};

}  // namespace smacert::phone

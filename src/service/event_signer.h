// The service's push-event key (ECDSA P-256, data/push.key, mode 0600). Every
// event on the push channel carries a signature by it; the phone pins the
// public key it received with its first accepted application.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>

#include "pki/key.h"
#include "pki/signer.h"

namespace smacert::service {

class EventSigner {
 public:
  static Result<std::unique_ptr<EventSigner>> open_or_create(const std::filesystem::path& file);
  Result<Bytes> sign(ByteView message);
  Bytes public_key_der() const { return pki::public_key_der(key_.get()); }

 private:
  explicit EventSigner(pki::PkeyPtr key)
      : key_(std::move(key)), signer_(pki::PkeyPtr(EVP_PKEY_dup(key_.get()))) {}
  pki::PkeyPtr key_;
  pki::SoftwareSigner signer_;
  std::mutex mutex_;
};

}  // namespace smacert::service

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
  // Sent with every accepted application: encoded once.
  const Bytes& public_key_der() const { return public_key_der_; }

 private:
  explicit EventSigner(pki::PkeyPtr key)
      : public_key_der_(pki::public_key_der(key.get())), signer_(std::move(key)) {}
  Bytes public_key_der_;
  pki::SoftwareSigner signer_;
  std::mutex mutex_;
};

}  // namespace smacert::service

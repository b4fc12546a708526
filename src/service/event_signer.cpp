#include "service/event_signer.h"

#include "pki/key.h"

namespace smacert::service {

Result<std::unique_ptr<EventSigner>> EventSigner::open_or_create(
    const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    auto key = pki::generate_key(pki::KeyAlgorithm::p256);
    if (!key) return fail(key.error());
    SMACERT_TRY_STATUS(pki::save_private_key(file, key->get()));
  }
  auto key = pki::load_private_key(file);
  if (!key) return fail(key.error());
  return std::unique_ptr<EventSigner>(new EventSigner(std::move(*key)));
}

Result<Bytes> EventSigner::sign(ByteView message) {
  std::lock_guard lock(mutex_);  // one EVP context at a time per key
  return signer_.sign_sha256(pki::sha256(message));
}

}  // namespace smacert::service

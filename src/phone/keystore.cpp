#include "phone/keystore.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "core/encoding.h"
#include "core/files.h"

namespace smacert::phone {
namespace {

namespace fs = std::filesystem;
constexpr const char* kKeyFile = "keystore.key";
constexpr const char* kStoreFile = "keystore.json";

struct CipherCtx {
  EVP_CIPHER_CTX* p = EVP_CIPHER_CTX_new();
  ~CipherCtx() { EVP_CIPHER_CTX_free(p); }
};

Result<nlohmann::json> read_store(const fs::path& dir) {
  auto bytes = read_file(dir / kStoreFile, 1 << 16);
  if (!bytes) {
    if (bytes.error().code == Errc::not_found) return nlohmann::json::object();
    return fail(bytes.error());
  }
  auto j = nlohmann::json::parse(as_chars(*bytes), nullptr, false);
  if (!j.is_object()) return fail(Errc::malformed, "the phone's keystore is damaged");
  return j;
}

Status write_store(const fs::path& dir, const nlohmann::json& j) {
  return write_file_atomic(dir / kStoreFile, as_bytes(j.dump()), 0600);
}

}  // namespace

Result<Keystore> Keystore::open(const fs::path& dir, Random& random) {
  auto key = read_file(dir / kKeyFile, 64);
  if (!key) {
    if (key.error().code != Errc::not_found) return fail(key.error());
    Bytes fresh = random.bytes(32);
    SMACERT_TRY_STATUS(write_file_atomic(dir / kKeyFile, fresh, 0600));
    key = std::move(fresh);
  }
  if (key->size() != 32) return fail(Errc::malformed, "the phone's keystore key is damaged");
  return Keystore(dir, std::string(as_chars(*key)), random);
}

Status Keystore::put(const std::string& slot, const std::string& secret) {
  auto store = read_store(dir_);
  if (!store) return fail(store.error());
  Bytes iv = random_->bytes(12);
  Bytes out(secret.size());
  unsigned char tag[16];
  int len = 0;
  CipherCtx ctx;
  const auto* k = reinterpret_cast<const unsigned char*>(key_.data());
  // The slot name is authenticated data: a sealed PIN cannot be moved to another slot.
  if (EVP_EncryptInit_ex(ctx.p, EVP_aes_256_gcm(), nullptr, k, iv.data()) != 1 ||
      EVP_EncryptUpdate(ctx.p, nullptr, &len, reinterpret_cast<const unsigned char*>(slot.data()),
                        static_cast<int>(slot.size())) != 1 ||
      EVP_EncryptUpdate(ctx.p, out.data(), &len,
                        reinterpret_cast<const unsigned char*>(secret.data()),
                        static_cast<int>(secret.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.p, out.data() + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.p, EVP_CTRL_GCM_GET_TAG, 16, tag) != 1)
    return fail(Errc::crypto, "sealing a secret in the keystore failed");
  (*store)[slot] = {{"iv", base64_encode(iv)},
                    {"sealed", base64_encode(out)},
                    {"tag", base64_encode(ByteView(tag, 16))}};
  return write_store(dir_, *store);
}

Result<std::optional<std::string>> Keystore::get(const std::string& slot) const {
  auto store = read_store(dir_);
  if (!store) return fail(store.error());
  if (!store->contains(slot)) return std::optional<std::string>();
  const auto& e = (*store)[slot];
  auto iv = base64_decode(e.value("iv", ""));
  auto sealed = base64_decode(e.value("sealed", ""));
  auto tag = base64_decode(e.value("tag", ""));
  if (!iv || !sealed || !tag || iv->size() != 12 || tag->size() != 16)
    return fail(Errc::malformed, "the keystore entry " + slot + " is damaged");
  std::string out(sealed->size(), '\0');
  int len = 0;
  CipherCtx ctx;
  const auto* k = reinterpret_cast<const unsigned char*>(key_.data());
  if (EVP_DecryptInit_ex(ctx.p, EVP_aes_256_gcm(), nullptr, k, iv->data()) != 1 ||
      EVP_DecryptUpdate(ctx.p, nullptr, &len, reinterpret_cast<const unsigned char*>(slot.data()),
                        static_cast<int>(slot.size())) != 1 ||
      EVP_DecryptUpdate(ctx.p, reinterpret_cast<unsigned char*>(out.data()), &len, sealed->data(),
                        static_cast<int>(sealed->size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.p, EVP_CTRL_GCM_SET_TAG, 16, tag->data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.p, reinterpret_cast<unsigned char*>(out.data()) + len, &len) != 1)
    return fail(Errc::verification, "the keystore entry " + slot + " does not open (tampered?)");
  return std::optional<std::string>(std::move(out));
}

Status Keystore::remove(const std::string& slot) {
  auto store = read_store(dir_);
  if (!store) return fail(store.error());
  store->erase(slot);
  return write_store(dir_, *store);
}

Status Keystore::erase_all() {
  return write_store(dir_, nlohmann::json::object());
}

Result<std::string> Keystore::release_with_biometric(bool sensor_matched) const {
  auto pin = get("biometric");
  if (!pin) return fail(pin.error());
  if (!*pin)
    return fail(Errc::invalid_argument,
                "biometrics are not enrolled on this phone (smacert phone biometrics enroll)");
  if (!sensor_matched) return fail(Errc::unauthorized, "the biometric check did not match");
  return **pin;
}

}  // namespace smacert::phone

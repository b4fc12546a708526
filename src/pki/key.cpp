#include "pki/key.h"

#include <openssl/core_names.h>
#include <openssl/pem.h>

#include "core/files.h"

namespace smacert::pki {

std::string_view key_algorithm_name(KeyAlgorithm a) {
  return a == KeyAlgorithm::rsa2048 ? "rsa2048" : "p256";
}

Result<KeyAlgorithm> parse_key_algorithm(std::string_view name) {
  if (name == "rsa2048") return KeyAlgorithm::rsa2048;
  if (name == "p256") return KeyAlgorithm::p256;
  return fail(Errc::invalid_argument,
              "unknown key algorithm '" + std::string(name) + "' (use rsa2048 or p256)");
}

Result<PkeyPtr> generate_key(KeyAlgorithm algorithm) {
  PkeyPtr key(algorithm == KeyAlgorithm::rsa2048
                  ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048))
                  : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return fail(openssl_error(Errc::crypto, "generating a key pair"));
  return key;
}

std::string private_key_pem(const EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  std::string pem(data, static_cast<std::size_t>(len));
  return pem;
}

Result<PkeyPtr> parse_private_key_pem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return fail(openssl_error(Errc::malformed, "PEM text holds no private key"));
  return key;
}

Result<PkeyPtr> load_private_key(const std::filesystem::path& path) {
  auto pem = read_file(path, 1 << 20);
  if (!pem) return fail(pem.error());
  auto key = parse_private_key_pem(as_chars(*pem));
  if (!key) return fail(key.error().context("reading " + path.string()));
  return key;
}

Status save_private_key(const std::filesystem::path& path, const EVP_PKEY* key) {
  auto pem = private_key_pem(key);
  auto st = write_file_atomic(path, as_bytes(pem), 0600);
  OPENSSL_cleanse(pem.data(), pem.size());
  return st;
}

Bytes public_key_der(const EVP_PKEY* key) {
  int len = i2d_PUBKEY(const_cast<EVP_PKEY*>(key), nullptr);
  Bytes out(static_cast<std::size_t>(len > 0 ? len : 0));
  unsigned char* p = out.data();
  if (len > 0) i2d_PUBKEY(const_cast<EVP_PKEY*>(key), &p);
  return out;
}

Result<PkeyPtr> parse_public_key_der(ByteView spki) {
  if (spki.size() > kMaxDerSize) return fail(Errc::too_large, "public key is too large");
  const unsigned char* p = spki.data();
  PkeyPtr key(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size())));
  if (!key || p != spki.data() + spki.size())
    return fail(openssl_error(Errc::malformed, "public key is not a valid SubjectPublicKeyInfo"));
  return key;
}

std::string describe_key(const EVP_PKEY* key) {
  int id = EVP_PKEY_get_base_id(key);
  if (id == EVP_PKEY_RSA) return "RSA-" + std::to_string(EVP_PKEY_get_bits(key));
  if (id == EVP_PKEY_EC) {
    char group[64] = {0};
    size_t len = 0;
    EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len);
    return std::string("EC ") + (std::string_view(group) == "prime256v1" ? "P-256" : group);
  }
  return "an unsupported key type";
}

Status check_end_entity_key(const EVP_PKEY* key) {
  std::string what = describe_key(key);
  if (what == "RSA-2048") {
    BIGNUM* e = nullptr;
    if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e))
      return fail(openssl_error(Errc::malformed, "reading the RSA public exponent"));
    BignumPtr owned(e);
    if (!BN_is_word(e, 65537)) return fail(Errc::policy, "the RSA public exponent must be 65537");
    return {};
  }
  if (what == "EC P-256") return {};
  return fail(Errc::policy, "the key is " + what + "; the policy takes RSA-2048 or EC P-256");
}

}  // namespace smacert::pki

// Key pairs: generation, PEM files, and the key policy every profile shares.
#pragma once

#include <filesystem>
#include <string>

#include "pki/openssl.h"

namespace smacert::pki {

enum class KeyAlgorithm { rsa2048, p256 };

std::string_view key_algorithm_name(KeyAlgorithm a);  // "rsa2048" | "p256"
Result<KeyAlgorithm> parse_key_algorithm(std::string_view name);

Result<PkeyPtr> generate_key(KeyAlgorithm algorithm);

// PKCS#8 PEM, unencrypted: the file's mode (0600) protects it, as the CA
// keys of a software deployment; an HSM replaces the file later (Signer).
std::string private_key_pem(const EVP_PKEY* key);
Result<PkeyPtr> parse_private_key_pem(std::string_view pem);
Result<PkeyPtr> load_private_key(const std::filesystem::path& path);
Status save_private_key(const std::filesystem::path& path, const EVP_PKEY* key);

Bytes public_key_der(const EVP_PKEY* key);  // SubjectPublicKeyInfo
Result<PkeyPtr> parse_public_key_der(ByteView spki);

// The end-entity key policy: RSA-2048 with e = 65537 (what the card and the
// phone's secure element make), or ECDSA P-256. Errc::policy says why not.
Status check_end_entity_key(const EVP_PKEY* key);

// What the key is, for messages: "RSA-2048", "EC P-256", "RSA-1024".
std::string describe_key(const EVP_PKEY* key);

}  // namespace smacert::pki

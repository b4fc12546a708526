#include "pki/signer.h"

#include <openssl/rsa.h>
#include <openssl/sha.h>

#include <algorithm>

#include "pki/der_writer.h"

namespace smacert::pki {

Bytes sha256(ByteView data) {
  Bytes out(SHA256_DIGEST_LENGTH);
  SHA256(data.data(), data.size(), out.data());
  return out;
}

Bytes sha256_digest_info(ByteView digest) {
  // AlgorithmIdentifier with explicit NULL parameters, as RFC 8017 A.2.4 requires.
  return der::sequence({der::sequence({der::oid("2.16.840.1.101.3.4.2.1"), der::null()}),
                        der::octet_string(digest)});
}

Result<Bytes> sign_digest_info_rsa(EVP_PKEY* key, ByteView digest_info) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new(key, nullptr));
  if (!ctx || EVP_PKEY_sign_init(ctx.get()) <= 0 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) <= 0)
    return fail(openssl_error(Errc::crypto, "preparing an RSA signature"));
  size_t len = 0;
  if (EVP_PKEY_sign(ctx.get(), nullptr, &len, digest_info.data(), digest_info.size()) <= 0)
    return fail(openssl_error(Errc::crypto, "sizing an RSA signature"));
  Bytes sig(len);
  if (EVP_PKEY_sign(ctx.get(), sig.data(), &len, digest_info.data(), digest_info.size()) <= 0)
    return fail(openssl_error(Errc::crypto, "making an RSA signature"));
  sig.resize(len);
  return sig;
}

Result<Bytes> SoftwareSigner::sign_sha256(ByteView digest) {
  if (digest.size() != SHA256_DIGEST_LENGTH)
    return fail(Errc::invalid_argument, "a SHA-256 digest is 32 bytes");
  if (EVP_PKEY_get_base_id(key_.get()) == EVP_PKEY_RSA)
    return sign_digest_info_rsa(key_.get(), sha256_digest_info(digest));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new(key_.get(), nullptr));
  size_t len = 0;
  if (!ctx || EVP_PKEY_sign_init(ctx.get()) <= 0 ||
      EVP_PKEY_sign(ctx.get(), nullptr, &len, digest.data(), digest.size()) <= 0)
    return fail(openssl_error(Errc::crypto, "preparing an ECDSA signature"));
  Bytes sig(len);
  if (EVP_PKEY_sign(ctx.get(), sig.data(), &len, digest.data(), digest.size()) <= 0)
    return fail(openssl_error(Errc::crypto, "making an ECDSA signature"));
  sig.resize(len);
  return sig;
}

Bytes signature_algorithm(const EVP_PKEY* key) {
  return EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA
             ? der::sequence({der::oid("1.2.840.113549.1.1.11"), der::null()})
             : der::sequence({der::oid("1.2.840.10045.4.3.2")});
}

Result<Bytes> sign_sha256_data(EVP_PKEY* key, ByteView tbs) {
  MdCtxPtr md = new_one_shot_md_ctx();
  std::size_t len = static_cast<std::size_t>(std::max(EVP_PKEY_get_size(key), 0));
  if (!md || len == 0 || EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr, key) <= 0)
    return fail(openssl_error(Errc::crypto, "preparing a signature"));
  Bytes sig(len);
  if (EVP_DigestSign(md.get(), sig.data(), &len, tbs.data(), tbs.size()) <= 0)
    return fail(openssl_error(Errc::crypto, "signing"));
  sig.resize(len);
  return sig;
}

Result<Bytes> signed_der(EVP_PKEY* key, ByteView algorithm, ByteView tbs, ByteView tail) {
  auto sig = sign_sha256_data(key, tbs);
  if (!sig) return fail(sig.error());
  return der::sequence({tbs, algorithm, der::bit_string(*sig), tail});
}

Status verify_sha256_signature(const EVP_PKEY* key, ByteView data, ByteView signature) {
  MdCtxPtr ctx = new_one_shot_md_ctx();
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr,
                                   const_cast<EVP_PKEY*>(key)) <= 0)
    return fail(openssl_error(Errc::crypto, "preparing a signature check"));
  int ok =
      EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), data.data(), data.size());
  if (ok != 1) return fail(openssl_error(Errc::verification, "the signature does not match"));
  return {};
}

}  // namespace smacert::pki

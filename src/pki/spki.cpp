#include "pki/spki.h"

#include <openssl/core_names.h>
#include <openssl/param_build.h>

namespace smacert::pki {
namespace {

namespace tag {
inline constexpr std::uint8_t kBitString = 0x03, kNull = 0x05, kOid = 0x06, kSequence = 0x30;
}

// Content octets of the key algorithm OIDs (X.690 8.19).
const std::initializer_list<std::uint8_t> kRsaEncryption = {0x2a, 0x86, 0x48, 0x86, 0xf7,
                                                            0x0d, 0x01, 0x01, 0x01};
const std::initializer_list<std::uint8_t> kEcPublicKey = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};

Error refused(Errc code, std::string_view what, std::string_view why) {
  return Error{code, std::string(what) + ": " + std::string(why)};
}

Result<PkeyPtr> from_params(const char* type, OSSL_PARAM_BLD* bld, std::string_view what) {
  OsslPtr<OSSL_PARAM, OSSL_PARAM_free> params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0)
    return fail(openssl_error(Errc::malformed, std::string(what) + ": the public key is invalid"));
  return PkeyPtr(key);
}

// RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } (RFC 8017 A.1.1).
Result<PkeyPtr> rsa_key(ByteView bits, std::string_view what) {
  auto seq = der::only(bits, tag::kSequence);
  if (!seq)
    return fail(refused(Errc::malformed, what, "the RSA public key is not an RSAPublicKey"));
  auto n = der::positive_integer(*seq);
  auto e = der::positive_integer(*seq);
  if (!n || !e || !seq->empty() || n->size() > 2048)
    return fail(refused(Errc::malformed, what, "the RSA public key is not an RSAPublicKey"));
  BignumPtr bn_n(BN_bin2bn(n->data(), static_cast<int>(n->size()), nullptr));
  BignumPtr bn_e(BN_bin2bn(e->data(), static_cast<int>(e->size()), nullptr));
  OsslPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free> bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()))
    return fail(openssl_error(Errc::internal, "building an RSA public key"));
  return from_params("RSA", bld.get(), what);
}

// ECPoint on a named curve (RFC 5480 2.2), uncompressed form only.
Result<PkeyPtr> ec_key(ByteView curve_tlv, ByteView point, std::string_view what) {
  const unsigned char* p = curve_tlv.data();
  Asn1ObjectPtr curve(d2i_ASN1_OBJECT(nullptr, &p, static_cast<long>(curve_tlv.size())));
  const int nid = curve ? OBJ_obj2nid(curve.get()) : NID_undef;
  const char* group = nid == NID_undef ? nullptr : OBJ_nid2sn(nid);
  if (group == nullptr)
    return fail(refused(Errc::policy, what, "the EC key is on an unknown curve"));
  if (point.empty() || point[0] != 0x04)
    return fail(
        refused(Errc::policy, what, "the EC point is not in uncompressed form (RFC 5480 2.2)"));
  OsslPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free> bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                        point.size()))
    return fail(openssl_error(Errc::internal, "building an EC public key"));
  return from_params("EC", bld.get(), what);
}

}  // namespace

Result<SubjectPublicKey> read_subject_public_key_info(ByteView spki, std::string_view what) {
  // SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier,
  //   subjectPublicKey BIT STRING }
  auto key_alg = der::read(spki, tag::kSequence);
  auto key_bits = der::read(spki, tag::kBitString);
  if (!key_alg || !key_bits || !spki.empty())
    return fail(refused(Errc::malformed, what, "the SubjectPublicKeyInfo is not valid"));
  auto bits = der::whole_octets(*key_bits);
  if (!bits)
    return fail(refused(Errc::malformed, what, "the public key BIT STRING has unused bits"));
  ByteView a = key_alg->content;
  auto alg_oid = der::read(a, tag::kOid);
  if (!alg_oid) return fail(refused(Errc::malformed, what, "the key algorithm has no OID"));
  SubjectPublicKey out;
  out.rsa = der::equals(alg_oid->content, kRsaEncryption);
  if (!out.rsa && !der::equals(alg_oid->content, kEcPublicKey))
    return fail(refused(Errc::policy, what, "the key algorithm is not supported (RSA or EC only)"));
  if (out.rsa) {
    // RFC 3279 2.3.1: the parameters are NULL.
    auto null = der::read(a, tag::kNull);
    if (!null || !null->content.empty() || !a.empty())
      return fail(refused(Errc::malformed, what, "the RSA key's parameters are not NULL"));
  } else {
    auto curve = der::read(a, tag::kOid);
    if (!curve || !a.empty())
      return fail(refused(Errc::policy, what, "the EC key is not on a named curve"));
    out.curve_oid = curve->whole;
  }
  auto key = out.rsa ? rsa_key(*bits, what) : ec_key(out.curve_oid, *bits, what);
  if (!key) return fail(key.error());
  out.key = std::move(*key);
  out.algorithm_oid = alg_oid->whole;
  out.bits = *bits;
  return out;
}

}  // namespace smacert::pki

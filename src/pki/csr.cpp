#include "pki/csr.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include "pki/der_reader.h"

namespace smacert::pki {
namespace {

namespace tag {
inline constexpr std::uint8_t kInteger = 0x02, kBitString = 0x03, kNull = 0x05, kOid = 0x06,
                              kSequence = 0x30, kAttributes = 0xa0;
}

// Content octets of the OIDs this reader knows (X.690 8.19).
const std::initializer_list<std::uint8_t> kRsaEncryption = {0x2a, 0x86, 0x48, 0x86, 0xf7,
                                                            0x0d, 0x01, 0x01, 0x01};
const std::initializer_list<std::uint8_t> kEcPublicKey = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};

struct SignatureAlgorithm {
  std::initializer_list<std::uint8_t> oid;
  bool rsa;
  const char* digest;
};
const SignatureAlgorithm kSignatureAlgorithms[] = {
    {{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b}, true, "SHA256"},
    {{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c}, true, "SHA384"},
    {{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d}, true, "SHA512"},
    {{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02}, false, "SHA256"},
    {{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03}, false, "SHA384"},
    {{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04}, false, "SHA512"},
};

Error malformed(std::string_view what) {
  return Error{Errc::malformed, "certificate request: " + std::string(what)};
}

// A positive INTEGER in minimal form (X.690 8.3.2), as its magnitude.
std::optional<ByteView> positive_integer(ByteView& in) {
  auto t = der::read(in, tag::kInteger);
  if (!t || t->content.empty() || (t->content[0] & 0x80)) return std::nullopt;
  ByteView v = t->content;
  if (v.size() > 1 && v[0] == 0 && !(v[1] & 0x80)) return std::nullopt;  // not minimal
  while (!v.empty() && v[0] == 0) v = v.subspan(1);
  if (v.empty()) return std::nullopt;
  return v;
}

Result<PkeyPtr> from_params(const char* type, OSSL_PARAM_BLD* bld) {
  OsslPtr<OSSL_PARAM, OSSL_PARAM_free> params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0)
    return fail(openssl_error(Errc::malformed, "certificate request: the public key is invalid"));
  return PkeyPtr(key);
}

// RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } (RFC 8017 A.1.1).
Result<PkeyPtr> rsa_key(ByteView bits) {
  auto seq = der::only(bits, tag::kSequence);
  if (!seq) return fail(malformed("the RSA public key is not an RSAPublicKey"));
  auto n = positive_integer(*seq);
  auto e = positive_integer(*seq);
  if (!n || !e || !seq->empty() || n->size() > 2048)
    return fail(malformed("the RSA public key is not an RSAPublicKey"));
  BignumPtr bn_n(BN_bin2bn(n->data(), static_cast<int>(n->size()), nullptr));
  BignumPtr bn_e(BN_bin2bn(e->data(), static_cast<int>(e->size()), nullptr));
  OsslPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free> bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()))
    return fail(openssl_error(Errc::internal, "building an RSA public key"));
  return from_params("RSA", bld.get());
}

// ECPoint on a named curve (RFC 5480 2.2), uncompressed form only.
Result<PkeyPtr> ec_key(ByteView curve_tlv, ByteView point) {
  const unsigned char* p = curve_tlv.data();
  Asn1ObjectPtr curve(d2i_ASN1_OBJECT(nullptr, &p, static_cast<long>(curve_tlv.size())));
  const int nid = curve ? OBJ_obj2nid(curve.get()) : NID_undef;
  const char* group = nid == NID_undef ? nullptr : OBJ_nid2sn(nid);
  if (group == nullptr)
    return fail(Errc::policy, "certificate request: the EC key is on an unknown curve");
  if (point.empty() || point[0] != 0x04)
    return fail(Errc::policy,
                "certificate request: the EC point is not in uncompressed form (RFC 5480 2.2)");
  OsslPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free> bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                        point.size()))
    return fail(openssl_error(Errc::internal, "building an EC public key"));
  return from_params("EC", bld.get());
}

// BIT STRING content with no unused bits: the octets after the first.
std::optional<ByteView> whole_octets(const der::Tlv& bits) {
  if (bits.content.empty() || bits.content[0] != 0) return std::nullopt;
  return bits.content.subspan(1);
}

}  // namespace

Result<CertificateRequest> CertificateRequest::parse(ByteView der) {
  if (der.empty()) return fail(malformed("empty"));
  if (der.size() > kMaxDerSize)
    return fail(Errc::too_large,
                "certificate request is larger than " + std::to_string(kMaxDerSize) + " bytes");
  CertificateRequest r;
  r.der_.assign(der.begin(), der.end());
  const ByteView all(r.der_);
  auto offset = [&](ByteView v) { return static_cast<std::size_t>(v.data() - all.data()); };

  // CertificationRequest ::= SEQUENCE { certificationRequestInfo,
  //   signatureAlgorithm AlgorithmIdentifier, signature BIT STRING }
  auto outer = der::only(all, tag::kSequence);
  if (!outer) return fail(malformed("not a DER SEQUENCE (or trailing bytes)"));
  auto info = der::read(*outer, tag::kSequence);
  auto sig_alg = der::read(*outer, tag::kSequence);
  auto sig = der::read(*outer, tag::kBitString);
  if (!info || !sig_alg || !sig || !outer->empty())
    return fail(malformed("not a CertificationRequest (RFC 2986 4.2)"));

  // CertificationRequestInfo ::= SEQUENCE { version INTEGER { v1(0) },
  //   subject Name, subjectPKInfo, attributes [0] Attributes }
  ByteView in = info->content;
  auto version = der::read(in, tag::kInteger);
  if (!version || !der::equals(version->content, {0x00}))
    return fail(malformed("the version is not v1 (0)"));
  auto subject = der::read(in, tag::kSequence);
  auto spki = der::read(in, tag::kSequence);
  if (!subject || !spki) return fail(malformed("no subject or no SubjectPublicKeyInfo"));
  // attributes are required by RFC 2986, omitted by some encoders; their
  // content is not used.
  if (!in.empty() && !der::read(in, tag::kAttributes))
    return fail(malformed("unexpected content after the SubjectPublicKeyInfo"));
  if (!in.empty()) return fail(malformed("unexpected content after the attributes"));

  // SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier,
  //   subjectPublicKey BIT STRING }
  ByteView k = spki->content;
  auto key_alg = der::read(k, tag::kSequence);
  auto key_bits = der::read(k, tag::kBitString);
  if (!key_alg || !key_bits || !k.empty())
    return fail(malformed("the SubjectPublicKeyInfo is not valid"));
  auto bits = whole_octets(*key_bits);
  if (!bits) return fail(malformed("the public key BIT STRING has unused bits"));
  ByteView a = key_alg->content;
  auto alg_oid = der::read(a, tag::kOid);
  if (!alg_oid) return fail(malformed("the key algorithm has no OID"));
  const bool rsa = der::equals(alg_oid->content, kRsaEncryption);
  const bool ec = der::equals(alg_oid->content, kEcPublicKey);
  if (!rsa && !ec)
    return fail(Errc::policy,
                "certificate request: the key algorithm is not supported (RSA or EC only)");
  std::optional<der::Tlv> curve;
  if (rsa) {
    // RFC 3279 2.3.1: the parameters are NULL.
    auto null = der::read(a, tag::kNull);
    if (!null || !null->content.empty() || !a.empty())
      return fail(malformed("the RSA key's parameters are not NULL"));
  } else {
    curve = der::read(a, tag::kOid);
    if (!curve || !a.empty())
      return fail(Errc::policy, "certificate request: the EC key is not on a named curve");
  }
  auto key = rsa ? rsa_key(*bits) : ec_key(curve->whole, *bits);
  if (!key) return fail(key.error());

  // The signature: an algorithm for this key, then proof of possession.
  ByteView s = sig_alg->content;
  auto sig_oid = der::read(s, tag::kOid);
  if (!sig_oid) return fail(malformed("the signature algorithm has no OID"));
  const SignatureAlgorithm* alg = nullptr;
  for (const auto& candidate : kSignatureAlgorithms)
    if (der::equals(sig_oid->content, candidate.oid)) alg = &candidate;
  if (alg == nullptr)
    return fail(Errc::policy,
                "certificate request: the signature algorithm is not supported "
                "(RSA PKCS#1 v1.5 or ECDSA with SHA-256, SHA-384 or SHA-512)");
  if (alg->rsa != rsa) return fail(malformed("the signature algorithm does not match the key"));
  // RFC 4055 5: NULL (or absent) for RSA; RFC 5758 3.2: absent for ECDSA.
  if (!s.empty()) {
    auto null = der::read(s, tag::kNull);
    if (!rsa || !null || !null->content.empty() || !s.empty())
      return fail(malformed("the signature algorithm's parameters are not valid"));
  }
  auto signature = whole_octets(*sig);
  if (!signature) return fail(malformed("the signature BIT STRING has unused bits"));
  MdCtxPtr md(EVP_MD_CTX_new());
  if (!md || EVP_DigestVerifyInit_ex(md.get(), nullptr, alg->digest, nullptr, nullptr, key->get(),
                                     nullptr) <= 0)
    return fail(openssl_error(Errc::internal, "verifying a certificate request"));
  if (EVP_DigestVerify(md.get(), signature->data(), signature->size(), info->whole.data(),
                       info->whole.size()) != 1) {
    ERR_clear_error();
    return fail(Errc::verification,
                "the certificate request is not signed by its own key (no proof of possession)");
  }

  r.spki_at_ = offset(spki->whole);
  r.spki_size_ = spki->whole.size();
  r.alg_at_ = offset(alg_oid->whole);
  r.alg_size_ = alg_oid->whole.size();
  if (curve) {
    r.curve_at_ = offset(curve->whole);
    r.curve_size_ = curve->whole.size();
  }
  r.bits_at_ = offset(*bits);
  r.bits_size_ = bits->size();
  r.key_ = std::move(*key);
  return r;
}

}  // namespace smacert::pki

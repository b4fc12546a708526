#include "pki/csr.h"

#include <openssl/err.h>

#include "pki/der_reader.h"
#include "pki/key.h"
#include "pki/spki.h"

namespace smacert::pki {
namespace {

namespace tag {
inline constexpr std::uint8_t kInteger = 0x02, kBitString = 0x03, kNull = 0x05, kOid = 0x06,
                              kSequence = 0x30, kAttributes = 0xa0;
}

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

  auto public_key = read_subject_public_key_info(spki->content, "certificate request");
  if (!public_key) return fail(public_key.error());
  const bool rsa = public_key->rsa;

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
  auto signature = der::whole_octets(*sig);
  if (!signature) return fail(malformed("the signature BIT STRING has unused bits"));
  MdCtxPtr md = new_one_shot_md_ctx();
  if (!md || EVP_DigestVerifyInit_ex(md.get(), nullptr, alg->digest, nullptr, nullptr,
                                     public_key->key.get(), nullptr) <= 0)
    return fail(openssl_error(Errc::internal, "verifying a certificate request"));
  if (EVP_DigestVerify(md.get(), signature->data(), signature->size(), info->whole.data(),
                       info->whole.size()) != 1) {
    ERR_clear_error();
    return fail(Errc::verification,
                "the certificate request is not signed by its own key (no proof of possession)");
  }

  r.spki_at_ = offset(spki->whole);
  r.spki_size_ = spki->whole.size();
  r.alg_at_ = offset(public_key->algorithm_oid);
  r.alg_size_ = public_key->algorithm_oid.size();
  if (!public_key->curve_oid.empty()) {
    r.curve_at_ = offset(public_key->curve_oid);
    r.curve_size_ = public_key->curve_oid.size();
  }
  r.bits_at_ = offset(public_key->bits);
  r.bits_size_ = public_key->bits.size();
  r.key_ = std::move(public_key->key);
  r.end_entity_key_ = check_end_entity_key(r.key_.get());
  return r;
}

}  // namespace smacert::pki

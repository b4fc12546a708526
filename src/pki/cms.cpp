#include "pki/cms.h"

#include <ctime>

#include "pki/der_writer.h"

namespace smacert::pki {
namespace {

namespace oid {
constexpr const char* kSignedData = "1.2.840.113549.1.7.2";
constexpr const char* kData = "1.2.840.113549.1.7.1";
constexpr const char* kContentType = "1.2.840.113549.1.9.3";
constexpr const char* kMessageDigest = "1.2.840.113549.1.9.4";
constexpr const char* kSigningTime = "1.2.840.113549.1.9.5";
constexpr const char* kSha256 = "2.16.840.1.101.3.4.2.1";
constexpr const char* kRsaEncryption = "1.2.840.113549.1.1.1";
constexpr const char* kEcdsaSha256 = "1.2.840.10045.4.3.2";
}  // namespace oid

template <class T, class I2d>
Bytes i2d_bytes(const T* obj, I2d i2d) {
  int len = i2d(obj, nullptr);
  Bytes out(static_cast<std::size_t>(len > 0 ? len : 0));
  unsigned char* p = out.data();
  if (len > 0) i2d(obj, &p);
  return out;
}

Bytes attribute(const char* type, ByteView value) {
  return der::sequence({der::oid(type), der::set_of({Bytes(value.begin(), value.end())})});
}

// RFC 5652 11.3: UTCTime for 1950–2049, GeneralizedTime otherwise.
Bytes signing_time_value(TimePoint t) {
  std::time_t secs = static_cast<std::time_t>(to_unix(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[20];
  int year = tm.tm_year + 1900;
  if (year >= 1950 && year < 2050) {
    std::strftime(buf, sizeof buf, "%y%m%d%H%M%SZ", &tm);
    return der::tlv(der::tag::kUtcTime, as_bytes(buf));
  }
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%SZ", &tm);
  return der::tlv(0x18, as_bytes(buf));
}

}  // namespace

Result<Bytes> cms_sign_detached(ByteView data, Signer& signer, const X509* signer_cert,
                                std::span<X509* const> chain, TimePoint signing_time) {
  if (X509_check_private_key(signer_cert, const_cast<EVP_PKEY*>(signer.public_key())) != 1) {
    // X509_check_private_key compares public parts only, which is what we want here.
    return fail(openssl_error(Errc::invalid_argument,
                              "the signer's key does not belong to the signer's certificate"));
  }
  Bytes sha256_alg = der::sequence({der::oid(oid::kSha256)});
  // RFC 5652 5.3: signedAttrs MUST hold content-type and message-digest.
  std::vector<Bytes> attrs = {
      attribute(oid::kContentType, der::oid(oid::kData)),
      attribute(oid::kSigningTime, signing_time_value(signing_time)),
      attribute(oid::kMessageDigest, der::octet_string(sha256(data))),
  };
  // RFC 5652 5.4: the signature covers the DER of the attributes as an
  // EXPLICIT SET OF, not with the IMPLICIT [0] tag they are sent with.
  Bytes signed_set = der::set_of(attrs);
  auto signature = signer.sign_sha256(sha256(signed_set));
  if (!signature) return fail(signature.error().context("signing the CMS attributes"));
  Bytes signed_attrs = signed_set;
  signed_attrs[0] = der::tag::context(0);

  bool rsa = EVP_PKEY_get_base_id(signer.public_key()) == EVP_PKEY_RSA;
  Bytes sig_alg = rsa ? der::sequence({der::oid(oid::kRsaEncryption), der::null()})
                      : der::sequence({der::oid(oid::kEcdsaSha256)});
  Bytes issuer_and_serial =
      der::sequence({i2d_bytes(X509_get_issuer_name(signer_cert), i2d_X509_NAME),
                     i2d_bytes(X509_get0_serialNumber(signer_cert), i2d_ASN1_INTEGER)});
  Bytes signer_info = der::sequence({der::small_integer(1), issuer_and_serial, sha256_alg,
                                     signed_attrs, sig_alg, der::octet_string(*signature)});
  Bytes certs = to_der(signer_cert);
  for (X509* c : chain) {
    Bytes d = to_der(c);
    certs.insert(certs.end(), d.begin(), d.end());
  }
  Bytes signed_data = der::sequence({
      der::small_integer(1),
      der::set_of({sha256_alg}),
      der::sequence({der::oid(oid::kData)}),  // detached: no eContent
      der::tlv(der::tag::context(0), certs),
      der::set_of({signer_info}),
  });
  return der::sequence({der::oid(oid::kSignedData), der::tlv(der::tag::context(0), signed_data)});
}

Result<CmsVerified> cms_verify_detached(ByteView signature, ByteView data,
                                        std::span<X509* const> anchors, TimePoint at,
                                        const StatusLookup& status) {
  if (signature.empty()) return fail(Errc::malformed, "the signature file is empty");
  if (signature.size() > kMaxCmsSize)
    return fail(Errc::too_large, "the signature is larger than 1 MiB");
  const unsigned char* p = signature.data();
  CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(signature.size())));
  if (!cms || p != signature.data() + signature.size())
    return fail(openssl_error(Errc::malformed, "the signature is not a DER CMS structure"));
  if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed)
    return fail(Errc::malformed, "the CMS structure is not SignedData");
  // A detached signature carries no content (RFC 5652 5.2: eContent absent);
  // one that does is not what was asked for, and OpenSSL 3.0's CMS_verify
  // leaks a BIO when handed both.
  if (CMS_is_detached(cms.get()) != 1)
    return fail(Errc::malformed,
                "the signature carries its content; a detached signature is expected");
  STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms.get());
  if (sk_CMS_SignerInfo_num(infos) != 1)
    return fail(Errc::malformed, "the signature must have exactly one signer");

  X509StorePtr store(X509_STORE_new());
  for (X509* a : anchors) X509_STORE_add_cert(store.get(), a);
  X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store.get()), static_cast<time_t>(to_unix(at)));
  // The content reaches CMS_verify through a null filter: handed a memory BIO
  // directly, OpenSSL 3.0 copies it into a second one that it leaks when the
  // signature's structure is bad.
  BioPtr content(
      BIO_push(BIO_new(BIO_f_null()), BIO_new_mem_buf(data.data(), static_cast<int>(data.size()))));
  if (CMS_verify(cms.get(), nullptr, store.get(), content.get(), nullptr, CMS_BINARY) != 1)
    return fail(openssl_error(Errc::verification, "the signature does not verify"));

  CmsVerified out;
  X509StackPtr signers(CMS_get0_signers(cms.get()));
  // CMS_get0_signers returns a new stack of borrowed certificates.
  X509* signer = sk_X509_value(signers.get(), 0);
  sk_X509_zero(signers.get());
  X509_up_ref(signer);
  out.signer.reset(signer);
  auto issuer = verify_chain(out.signer.get(), anchors, at);
  if (!issuer) return fail(issuer.error());
  out.issuer = std::move(*issuer);

  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(infos, 0);
  int idx = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
  if (idx >= 0) {
    X509_ATTRIBUTE* attr = CMS_signed_get_attr(si, idx);
    ASN1_TYPE* v = X509_ATTRIBUTE_get0_type(attr, 0);
    if (v && (v->type == V_ASN1_UTCTIME || v->type == V_ASN1_GENERALIZEDTIME)) {
      std::tm tm{};
      if (ASN1_TIME_to_tm(v->value.utctime, &tm)) out.signing_time = from_unix(timegm(&tm));
    }
  }
  auto st = status(out.signer.get(), out.issuer.get());
  if (!st) return fail(st.error().context("checking the signer's status"));
  SMACERT_TRY_STATUS(require_good(*st, "the signer's certificate"));
  return out;
}

}  // namespace smacert::pki

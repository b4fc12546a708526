// RAII for every OpenSSL handle the project uses, written once (Botan's
// pattern): no *_free call appears outside this header and openssl.cpp.
#pragma once

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string_view>

#include "core/bytes.h"
#include "core/error.h"

namespace smacert::pki {

template <class T, void (*Free)(T*)>
struct OsslDeleter {
  void operator()(T* p) const noexcept { Free(p); }
};
template <class T, void (*Free)(T*)>
using OsslPtr = std::unique_ptr<T, OsslDeleter<T, Free>>;

using PkeyPtr = OsslPtr<EVP_PKEY, EVP_PKEY_free>;
using PkeyCtxPtr = OsslPtr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using MdCtxPtr = OsslPtr<EVP_MD_CTX, EVP_MD_CTX_free>;
using X509Ptr = OsslPtr<X509, X509_free>;
using X509ReqPtr = OsslPtr<X509_REQ, X509_REQ_free>;
using X509CrlPtr = OsslPtr<X509_CRL, X509_CRL_free>;
using X509RevokedPtr = OsslPtr<X509_REVOKED, X509_REVOKED_free>;
using X509NamePtr = OsslPtr<X509_NAME, X509_NAME_free>;
using X509ExtPtr = OsslPtr<X509_EXTENSION, X509_EXTENSION_free>;
using X509StorePtr = OsslPtr<X509_STORE, X509_STORE_free>;
using X509StoreCtxPtr = OsslPtr<X509_STORE_CTX, X509_STORE_CTX_free>;
using OcspRequestPtr = OsslPtr<OCSP_REQUEST, OCSP_REQUEST_free>;
using OcspResponsePtr = OsslPtr<OCSP_RESPONSE, OCSP_RESPONSE_free>;
using OcspBasicPtr = OsslPtr<OCSP_BASICRESP, OCSP_BASICRESP_free>;
using OcspCertIdPtr = OsslPtr<OCSP_CERTID, OCSP_CERTID_free>;
using CmsPtr = OsslPtr<CMS_ContentInfo, CMS_ContentInfo_free>;
using BioPtr = OsslPtr<BIO, BIO_free_all>;
using Asn1IntegerPtr = OsslPtr<ASN1_INTEGER, ASN1_INTEGER_free>;
using Asn1TimePtr = OsslPtr<ASN1_TIME, ASN1_TIME_free>;
using Asn1ObjectPtr = OsslPtr<ASN1_OBJECT, ASN1_OBJECT_free>;
using Asn1OctetStringPtr = OsslPtr<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>;
using BignumPtr = OsslPtr<BIGNUM, BN_free>;
using GeneralNamesPtr = OsslPtr<GENERAL_NAMES, GENERAL_NAMES_free>;
using CertPoliciesPtr = OsslPtr<CERTIFICATEPOLICIES, CERTIFICATEPOLICIES_free>;
using AuthorityInfoAccessPtr = OsslPtr<AUTHORITY_INFO_ACCESS, AUTHORITY_INFO_ACCESS_free>;
using CrlDistPointsPtr = OsslPtr<CRL_DIST_POINTS, CRL_DIST_POINTS_free>;

void free_x509_stack(STACK_OF(X509) * s);
using X509StackPtr = OsslPtr<STACK_OF(X509), free_x509_stack>;
X509StackPtr new_x509_stack();
// A digest context for one signature or one check: OpenSSL then finalises it
// in place rather than a copy of it (EVP_MD_CTX_set_flags(3), FINALISE).
MdCtxPtr new_one_shot_md_ctx();

// An Error carrying the sentence `doing` and OpenSSL's first queued reason;
// clears the queue so later calls start clean.
Error openssl_error(Errc code, std::string_view doing);

// The largest DER object the project parses from outside (certificates,
// requests, CMS). Bigger input is Errc::too_large before OpenSSL sees it.
inline constexpr std::size_t kMaxDerSize = 64 * 1024;

// DER <-> objects. Parsing is bounded by kMaxDerSize and requires the whole
// input to be consumed (trailing bytes are malformed).
Result<X509Ptr> parse_certificate(ByteView der);
Result<X509Ptr> parse_certificate_pem(std::string_view pem);
Result<X509ReqPtr> parse_csr(ByteView der);
Result<X509CrlPtr> parse_crl(ByteView der, std::size_t max_size = 256u << 20);
Bytes to_der(const X509* cert);
Bytes to_der(const X509_REQ* req);
Bytes to_der(const X509_CRL* crl);
std::string to_pem(const X509* cert);

// A name in RFC 2253 order and escaping, with UTF-8 kept as it is (Japanese
// prefectures and municipalities stay readable).
std::string name_text(const X509_NAME* name);

// Serial number of a certificate as lower-case hex of its magnitude.
std::string serial_hex(const ASN1_INTEGER* serial);
Result<Asn1IntegerPtr> serial_from_hex(std::string_view hex);
// The same serial as its magnitude, big-endian, without leading zero octets.
Result<Bytes> serial_bytes(std::string_view hex);

}  // namespace smacert::pki

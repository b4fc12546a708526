#include "pki/crl.h"

namespace smacert::pki {

Result<Bytes> build_crl(const CertificateAuthority& ca, std::span<const CrlEntry> entries,
                        const CrlParams& params) {
  X509CrlPtr crl(X509_CRL_new());
  Asn1TimePtr this_update(ASN1_TIME_set(nullptr, static_cast<time_t>(to_unix(params.this_update))));
  Asn1TimePtr next_update(ASN1_TIME_set(nullptr, static_cast<time_t>(to_unix(params.next_update))));
  // RFC 5280 5.1.2.1: version 2 because the CRL carries extensions.
  if (!X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) ||
      !X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca.certificate())) ||
      !X509_CRL_set1_lastUpdate(crl.get(), this_update.get()) ||
      !X509_CRL_set1_nextUpdate(crl.get(), next_update.get()))
    return fail(openssl_error(Errc::crypto, "starting a CRL"));

  for (const auto& e : entries) {
    X509RevokedPtr rev(X509_REVOKED_new());
    auto serial = serial_from_hex(e.serial);
    if (!serial) return fail(serial.error().context("CRL entry"));
    Asn1TimePtr when(ASN1_TIME_set(nullptr, static_cast<time_t>(to_unix(e.revoked_at))));
    if (!X509_REVOKED_set_serialNumber(rev.get(), serial->get()) ||
        !X509_REVOKED_set_revocationDate(rev.get(), when.get()))
      return fail(openssl_error(Errc::crypto, "building a CRL entry"));
    // RFC 5280 5.3.1: "the reason code CRL entry extension SHOULD be absent
    // instead of using the unspecified (0) reasonCode value".
    if (e.reason != RevocationReason::unspecified) {
      OsslPtr<ASN1_ENUMERATED, ASN1_ENUMERATED_free> code(ASN1_ENUMERATED_new());
      ASN1_ENUMERATED_set(code.get(), static_cast<long>(e.reason));
      if (!X509_REVOKED_add1_ext_i2d(rev.get(), NID_crl_reason, code.get(), 0, 0))
        return fail(openssl_error(Errc::crypto, "adding a CRL reason"));
    }
    if (!X509_CRL_add0_revoked(crl.get(), rev.get()))
      return fail(openssl_error(Errc::crypto, "adding a CRL entry"));
    rev.release();  // owned by the CRL now
  }
  X509_CRL_sort(crl.get());

  // RFC 5280 5.2.1 (AKI, MUST) and 5.2.3 (CRL number, MUST).
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, ca.certificate(), nullptr, nullptr, crl.get(), 0);
  X509ExtPtr aki(X509V3_EXT_conf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always"));
  if (!aki || !X509_CRL_add_ext(crl.get(), aki.get(), -1))
    return fail(openssl_error(Errc::crypto, "adding the CRL's authority key identifier"));
  Asn1IntegerPtr number(ASN1_INTEGER_new());
  ASN1_INTEGER_set_int64(number.get(), params.number);
  if (!X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, 0))
    return fail(openssl_error(Errc::crypto, "adding the CRL number"));

  if (X509_CRL_sign(crl.get(), ca.key(), EVP_sha256()) <= 0)
    return fail(openssl_error(Errc::crypto, "signing the CRL"));
  return to_der(crl.get());
}

}  // namespace smacert::pki

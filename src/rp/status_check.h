// What a relying party does with a certificate's revocation pointers, without
// any I/O: where to ask (AIA, CRL distribution point), what to send (an OCSP
// request), and what a CRL says about a serial.
#pragma once

#include <string>

#include "pki/openssl.h"
#include "pki/revocation.h"

namespace smacert::rp {

// RFC 5280 4.2.2.1: the id-ad-ocsp URI of the Authority Information Access
// extension. Errc::not_found when the certificate names none.
Result<std::string> ocsp_url_of(const X509* cert);

// RFC 5280 4.2.1.13: the first URI fullName of the CRL distribution points.
Result<std::string> crl_url_of(const X509* cert);

// RFC 6960 4.1.1 / RFC 5019 2.1.1: a DER OCSPRequest with one Request whose
// CertID uses SHA-1 (what pre-signed responders index), no nonce, unsigned.
Result<Bytes> ocsp_request_for(const X509* cert, const X509* issuer);

// RFC 5280 6.3.3: the CRL is issued by `issuer` (name and signature), is
// current at `at` (thisUpdate ≤ at ≤ nextUpdate, five minutes of skew), and
// lists `cert`'s serial or not. A CRL cannot say "unknown": a serial it does
// not list is good.
Result<pki::CertStatus> status_from_crl(const X509_CRL* crl, const X509* cert, const X509* issuer,
                                        TimePoint at);

}  // namespace smacert::rp
